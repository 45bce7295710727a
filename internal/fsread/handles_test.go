package fsread

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func openFDs(t *testing.T) int {
	t.Helper()
	names, err := DirNames("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

func TestHandlesOrdinaryFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "temp1_input")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := NewHandles(8)
	want := func(s string) {
		t.Helper()
		if got, err := h.Once(p); err != nil || got != s {
			t.Fatalf("Once = %q, %v; want %q", got, err, s)
		}
	}
	write("42000\n")
	fds := openFDs(t)
	want("42000\n")
	if h.Open() != 1 || openFDs(t) != fds+1 {
		t.Fatalf("%d cached, %d descriptors (from %d) after one read", h.Open(), openFDs(t), fds)
	}
	write("garbage") // rewritten in place: same inode, new content
	want("garbage")
	// Replaced by a rename, as atomic writers do: the cached descriptor
	// points at the unlinked old file and must not be believed.
	tmp := p + ".new"
	os.WriteFile(tmp, []byte("43000\n"), 0o644)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	want("43000\n")
	// Vanished: an error, never the last content.
	os.Remove(p)
	if got, err := h.Once(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("vanished file: %q, %v", got, err)
	}
	if h.Open() != 0 || openFDs(t) != fds {
		t.Fatalf("a vanished file is still held: %d cached, %d descriptors (from %d)", h.Open(), openFDs(t), fds)
	}
	write("44000\n") // back again
	want("44000\n")
	if _, err := h.Once(dir); err == nil {
		t.Fatal("reading a directory succeeded")
	}
}

func TestHandlesFile(t *testing.T) {
	dir := t.TempDir()
	h := NewHandles(8)
	for _, size := range []int{0, 4096, 70000, 10} { // the last shrinks a cached file
		p := filepath.Join(dir, "f")
		want := strings.Repeat("x", size)
		os.WriteFile(p, []byte(want), 0o644)
		got, err := h.File(p)
		if err != nil || string(got) != want || got == nil {
			t.Fatalf("size %d: %d bytes, %v", size, len(got), err)
		}
	}
	if _, err := h.File(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestHandlesSweepAndLimit(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 4 {
		p := filepath.Join(dir, strconv.Itoa(i))
		os.WriteFile(p, []byte(strconv.Itoa(i)), 0o644)
		paths = append(paths, p)
	}
	fds := openFDs(t)
	h := NewHandles(3)
	for i, p := range paths { // the fourth is past the limit: read uncached
		if s, err := h.Once(p); err != nil || s != strconv.Itoa(i) {
			t.Fatalf("%s: %q, %v", p, s, err)
		}
	}
	if h.Open() != 3 || openFDs(t) != fds+3 {
		t.Fatalf("limit 3: %d cached, %d descriptors (from %d)", h.Open(), openFDs(t), fds)
	}
	h.Sweep() // all three were read in this poll
	if h.Open() != 3 {
		t.Fatalf("sweep closed files read in the poll: %d left", h.Open())
	}
	h.Once(paths[0])
	h.Sweep()
	if h.Open() != 1 || openFDs(t) != fds+1 {
		t.Fatalf("after a poll that read one file: %d cached, %d descriptors (from %d)", h.Open(), openFDs(t), fds)
	}
	h.Sweep()
	if h.Open() != 0 || openFDs(t) != fds {
		t.Fatalf("after a poll that read nothing: %d cached, %d descriptors (from %d)", h.Open(), openFDs(t), fds)
	}
}

func TestHandlesPseudoFiles(t *testing.T) {
	h := NewHandles(8)
	for _, p := range []string{"/proc/self/stat", "/sys/devices/system/cpu/online"} {
		a, err := h.File(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := File(p)
		if err != nil || len(a) == 0 || strings.Fields(string(a))[0] != strings.Fields(string(b))[0] {
			t.Fatalf("%s cached %q, uncached %q (%v)", p, a, b, err)
		}
		h.mu.Lock()
		f := h.files[p]
		h.mu.Unlock()
		if f == nil || !f.kernfs {
			t.Fatalf("%s not cached as a pseudo-file: %+v", p, f)
		}
	}
	// procfs regenerates on each read from offset 0: our own read count grows.
	reads := func() int {
		b, err := h.File("/proc/self/io")
		if err != nil {
			t.Skip("no /proc/self/io:", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "syscr: "); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatalf("no syscr in %q", b)
		return 0
	}
	if a, b := reads(), reads(); b <= a {
		t.Fatalf("cached /proc/self/io did not change between reads: syscr %d then %d", a, b)
	}
}

// A removed kernfs node answers ENODEV on its open descriptor; the cache
// must then try the path again and report it missing. cgroupfs is the one
// kernfs a test can create and remove nodes in.
func TestHandlesRemovedCgroup(t *testing.T) {
	var dir string
	for _, root := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"} {
		d := filepath.Join(root, "fsread-test-"+strconv.Itoa(os.Getpid()))
		if os.Mkdir(d, 0o755) == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skip("cannot create a cgroup here (not root, or no writable cgroupfs)")
	}
	defer syscall.Rmdir(dir)
	names, err := DirNames(dir)
	if err != nil || len(names) == 0 {
		t.Fatalf("new cgroup %s: %v %v", dir, names, err)
	}
	var p string
	for _, n := range names {
		if n == "cgroup.procs" || n == "tasks" {
			p = filepath.Join(dir, n)
		}
	}
	h := NewHandles(8)
	if _, err := h.File(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Rmdir(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := h.File(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed cgroup file: %q, %v; want ErrNotExist", b, err)
	}
	if h.Open() != 0 {
		t.Fatalf("%d files still cached", h.Open())
	}
}
