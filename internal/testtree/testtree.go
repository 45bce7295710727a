// Package testtree writes file trees for tests: sysfs, cgroupfs and procfs
// trees built in code next to the test that reads them, where a tree under
// test/fixtures would hide what the test depends on.
package testtree

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates each path below root with its content and a trailing
// newline, as the kernel prints attribute files.
func Write(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
