package fsread

import (
	"sync"
	"syscall"
)

// Magic numbers of the filesystems whose files regenerate their content on
// every read from offset 0 and fail with ENODEV once their node is removed
// (<linux/magic.h>).
const (
	sysfsMagic   = 0x62656572
	procMagic    = 0x9fa0
	cgroupMagic  = 0x27e0eb
	cgroup2Magic = 0x63677270
)

// Handles keeps the pseudo-files a poll reads open from one poll to the
// next, so that reading one again is a single pread(2) at offset 0 instead
// of open, read and close and their path walk: about a quarter of the cost
// of reading a sysfs attribute afresh (BenchmarkOnce).
//
// sysfs, procfs and cgroupfs regenerate an attribute on each read from
// offset 0, and a removed node answers ENODEV; the file is then opened
// again, so a vanished sensor still reads as missing. Other files (the test
// fixtures) are checked with fstat(2) before each read: one that has been
// unlinked or replaced is opened again by path.
//
// A file not read during a poll is closed at the poll's end (Sweep), so
// sensors that are gone or ignored hold no descriptors.
type Handles struct {
	mu    sync.Mutex
	files map[string]*handle
	max   int
	gen   uint64
}

type handle struct {
	fd     int
	kernfs bool
	busy   bool   // a read is in progress (perhaps hung in a driver)
	closed bool   // dropped while busy: the reader closes fd
	used   uint64 // generation of the last read
}

// DefaultMax is the number of files edge-sensord keeps open: it covers a big
// device's attributes and leaves room under the default descriptor limit.
const DefaultMax = 1024

// NewHandles keeps at most max files open; beyond that files are read with
// open, read, close.
func NewHandles(max int) *Handles {
	return &Handles{files: map[string]*handle{}, max: max}
}

// acquire returns an open handle for path, marked busy, and whether it was
// already open. A nil handle with a nil error means "read it uncached".
func (h *Handles) acquire(path string) (*handle, bool, error) {
	h.mu.Lock()
	if f := h.files[path]; f != nil {
		if f.busy { // a hung read holds it: do not queue behind it
			h.mu.Unlock()
			return nil, false, nil
		}
		f.busy, f.used = true, h.gen
		h.mu.Unlock()
		return f, true, nil
	}
	full := len(h.files) >= h.max
	h.mu.Unlock()
	if full {
		return nil, false, nil
	}
	fd, err := open(path, 0)
	if err != nil {
		return nil, false, err
	}
	var st syscall.Statfs_t
	kernfs := false
	if syscall.Fstatfs(fd, &st) == nil {
		switch uint32(st.Type) {
		case sysfsMagic, procMagic, cgroupMagic, cgroup2Magic:
			kernfs = true
		}
	}
	f := &handle{fd: fd, kernfs: kernfs, busy: true}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.files[path]; old != nil || len(h.files) >= h.max {
		// Another goroutine opened it meanwhile, or the table filled: use
		// this descriptor once.
		f.closed = true
		return f, false, nil
	}
	f.used = h.gen
	h.files[path] = f
	return f, false, nil
}

// release ends a read; drop removes the handle (its file is gone or broken).
func (h *Handles) release(path string, f *handle, drop bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.busy = false
	if drop && h.files[path] == f {
		delete(h.files, path)
		f.closed = true
	}
	if f.closed {
		syscall.Close(f.fd)
	}
}

// stale reports whether a cached descriptor of an ordinary file no longer
// stands for its path: unlinked, or replaced by a rename, since it was
// opened. Pseudo-files tell by failing their read instead.
func (f *handle) stale() bool {
	if f.kernfs {
		return false
	}
	var st syscall.Stat_t
	return syscall.Fstat(f.fd, &st) != nil || st.Nlink == 0
}

// read calls use with a descriptor of path. A cached descriptor that turns
// out stale, or whose node is gone (ENODEV, ESTALE), is dropped and the path
// opened again, once.
func (h *Handles) read(path string, use func(fd int) error) error {
	for attempt := 0; ; attempt++ {
		f, cached, err := h.acquire(path)
		if err != nil {
			return err
		}
		if f == nil {
			return withFile(path, use)
		}
		if cached && f.stale() {
			h.release(path, f, true)
			continue
		}
		err = use(f.fd)
		h.release(path, f, err != nil)
		if !(cached && attempt == 0 && (err == syscall.ENODEV || err == syscall.ESTALE)) {
			return wrap(path, err)
		}
	}
}

// Once is fsread.Once through the kept-open files.
func (h *Handles) Once(path string) (string, error) { return once(h.read, path) }

// File is fsread.File through the kept-open files.
func (h *Handles) File(path string) ([]byte, error) { return file(h.read, path) }

// Sweep ends a poll: files not read since the previous Sweep are closed.
func (h *Handles) Sweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for path, f := range h.files {
		if f.used != h.gen {
			delete(h.files, path)
			if f.busy {
				f.closed = true // the hung reader closes it when it returns
			} else {
				syscall.Close(f.fd)
			}
		}
	}
	h.gen++
}

// Open reports how many files are held open.
func (h *Handles) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.files)
}
