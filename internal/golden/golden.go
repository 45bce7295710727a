// Package golden compares what a test produced with a file under the test's
// testdata/ directory; `go test -update` rewrites the files from the current
// output instead, for a change that is meant.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// Path returns testdata/NAME, writing got to it first when the test runs
// with -update, for tests that compare the file their own way.
func Path(t testing.TB, name, got string) string {
	t.Helper()
	path := filepath.Join("testdata", name)
	write(t, path, got)
	return path
}

// Check fails the test unless got equals testdata/NAME, and lists the lines
// that differ.
func Check(t testing.TB, name, got string) {
	t.Helper()
	File(t, filepath.Join("testdata", name), got)
}

// File is Check for a file anywhere in the tree, such as a shipped file that
// is generated from code.
func File(t testing.TB, path, got string) {
	t.Helper()
	write(t, path, got)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run '%s' -update writes it)", err, t.Name())
		return
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -run '%s' -update rewrites it if the change is meant):\n%s", path, t.Name(), Diff(string(want), got))
	}
}

func write(t testing.TB, path, got string) {
	t.Helper()
	if !*update {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Diff lists the lines only in want ("- ") and only in got ("+ ").
func Diff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	mw, mg := in(want), in(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !mg[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !mw[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
