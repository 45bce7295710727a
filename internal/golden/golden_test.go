package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a test whose failures are kept instead of ending it.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func TestDiff(t *testing.T) {
	if got := Diff("a\nb\nc\n", "a\nc\nd\n"); got != "- b\n+ d" {
		t.Errorf("Diff = %q", got)
	}
	if got := Diff("same\n", "same\n"); got != "" {
		t.Errorf("Diff of equal text = %q", got)
	}
}

func TestCheckAndUpdate(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "x.txt"), []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Check(t, "x.txt", "one\n")
	r := &recorder{TB: t}
	Check(r, "x.txt", "two\n")
	Check(r, "absent.txt", "two\n")
	if len(r.failures) != 2 || !strings.Contains(r.failures[0], "- one\n+ two") || !strings.Contains(r.failures[1], "-update writes it") {
		t.Errorf("failures %q", r.failures)
	}

	*update = true
	defer func() { *update = false }()
	if p := Path(t, "sub/y.txt", "two\n"); p != filepath.Join("testdata", "sub", "y.txt") {
		t.Errorf("Path = %q", p)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "sub", "y.txt")); err != nil || string(b) != "two\n" {
		t.Errorf("-update wrote %q, %v", b, err)
	}
}
