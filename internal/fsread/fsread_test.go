package fsread

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, 70000} {
		p := filepath.Join(dir, strconv.Itoa(size))
		want := []byte(strings.Repeat("x", size))
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := File(p)
		if err != nil || string(got) != string(want) || got == nil {
			t.Fatalf("size %d: %d bytes, %v", size, len(got), err)
		}
	}
	// procfs files report size 0 but have content.
	got, err := File("/proc/self/stat")
	if err != nil || !strings.Contains(string(got), ") ") {
		t.Fatalf("/proc/self/stat: %q %v", got, err)
	}
	if _, err := File(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := File(dir); err == nil {
		t.Fatal("reading a directory succeeded")
	}
}

func TestDirNames(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 300 { // more entries than one 4 KiB getdents buffer holds
		n := "entry-with-a-longish-name-" + strconv.Itoa(i)
		want = append(want, n)
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "link")
	got, err := DirNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d names, want %d", len(got), len(want))
	}
	if got, err := DirNames(t.TempDir()); err != nil || len(got) != 0 {
		t.Fatalf("empty dir: %q %v", got, err)
	}
	if _, err := DirNames(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing dir: %v", err)
	}
	if _, err := DirNames(filepath.Join(dir, "link")); err == nil {
		t.Fatal("a dangling link listed as a directory")
	}
}
