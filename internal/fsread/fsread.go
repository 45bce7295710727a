// Package fsread reads the small pseudo-files of sysfs, procfs and cgroupfs
// with the fewest syscalls: open, read until EOF, close. os.ReadFile and
// os.Open also stat the file and try to register it with the network
// poller, which more than doubles the syscalls of a poll that reads a
// hundred such files on a device where each syscall counts.
package fsread

import (
	"os"
	"sync"
	"syscall"
)

// bufPool keeps page-sized buffers off the stacks of short-lived reader
// goroutines.
var bufPool = sync.Pool{New: func() any { return new([4096]byte) }}

func open(path string, flags int) (int, error) {
	for {
		fd, err := syscall.Open(path, flags|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			if err != nil {
				return -1, &os.PathError{Op: "open", Path: path, Err: err}
			}
			return fd, nil
		}
	}
}

// each opens path and hands every chunk that next (read(2) or
// getdents(2)) returns to use, until it returns nothing.
func each(path string, flags int, op string, next func(int, []byte) (int, error), use func([]byte)) error {
	fd, err := open(path, flags)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	buf := bufPool.Get().(*[4096]byte)
	defer bufPool.Put(buf)
	for {
		n, err := next(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: op, Path: path, Err: err}
		}
		if n <= 0 {
			return nil
		}
		use(buf[:n])
	}
}

// Once opens path, issues exactly one read(2) of up to a page and closes
// it. Several hwmon drivers return garbage or re-trigger a conversion when
// read twice, so sysfs attributes (at most a page long) must not be read
// until EOF. Errors are *os.PathError.
func Once(path string) (string, error) {
	fd, err := open(path, 0)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	buf := bufPool.Get().(*[4096]byte)
	defer bufPool.Put(buf)
	for {
		n, err := syscall.Read(fd, buf[:])
		if err == syscall.EINTR {
			continue // the read never happened; issuing it again is still one read
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: path, Err: err}
		}
		return string(buf[:n]), nil
	}
}

// File returns the whole content of path. Errors are *os.PathError, so
// errors.Is(err, fs.ErrNotExist) works as with os.ReadFile.
func File(path string) ([]byte, error) {
	out := []byte{}
	if err := each(path, 0, "read", syscall.Read, func(b []byte) { out = append(out, b...) }); err != nil {
		return nil, err
	}
	return out, nil
}

// DirNames returns the names in dir, without "." and "..", in directory
// order.
func DirNames(dir string) ([]string, error) {
	var names []string
	parse := func(b []byte) { _, _, names = syscall.ParseDirent(b, -1, names) }
	if err := each(dir, syscall.O_DIRECTORY, "readdirent", syscall.ReadDirent, parse); err != nil {
		return nil, err
	}
	return names, nil
}
