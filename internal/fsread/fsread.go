// Package fsread reads the small pseudo-files of sysfs, procfs and cgroupfs
// with the fewest syscalls: open, read until EOF, close. os.ReadFile and
// os.Open also stat the file and try to register it with the network
// poller, which more than doubles the syscalls of a poll that reads a
// hundred such files on a device where each syscall counts.
package fsread

import (
	"errors"
	"fmt"
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

// Once opens path, issues exactly one read of up to a page and closes it.
// Several hwmon drivers return garbage or re-trigger a conversion when read
// twice, so sysfs attributes (at most a page long) must not be read until
// EOF. Errors are *os.PathError.
func Once(path string) (string, error) { return once(withFile, path) }

// File returns the whole content of path. Errors are *os.PathError, so
// errors.Is(err, fs.ErrNotExist) works as with os.ReadFile.
func File(path string) ([]byte, error) { return file(withFile, path) }

// opener runs use on a descriptor of path: a fresh one (withFile) or one
// kept open (Handles.read). Errors of use come back as *os.PathError.
type opener func(path string, use func(fd int) error) error

func withFile(path string, use func(fd int) error) error {
	fd, err := open(path, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return wrap(path, use(fd))
}

func wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: "read", Path: path, Err: err}
}

// once issues one pread(2) of up to a page at offset 0.
func once(with opener, path string) (string, error) {
	var s string
	err := with(path, func(fd int) error {
		buf := bufPool.Get().(*[4096]byte)
		defer bufPool.Put(buf)
		n, err := pread(fd, buf[:], 0)
		s = string(buf[:max(n, 0)])
		return err
	})
	return s, err
}

// file preads from offset 0 to EOF.
func file(with opener, path string) ([]byte, error) {
	var out []byte
	err := with(path, func(fd int) error {
		out = out[:0]
		buf := bufPool.Get().(*[4096]byte)
		defer bufPool.Put(buf)
		for off := int64(0); ; {
			n, err := pread(fd, buf[:], off)
			if err != nil || n == 0 {
				return err
			}
			out = append(out, buf[:n]...)
			off += int64(n)
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// pread retries a read interrupted before it happened (EINTR): issuing it
// again is still one read.
func pread(fd int, b []byte, off int64) (int, error) {
	for {
		n, err := syscall.Pread(fd, b, off)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// DirNames returns the names in dir, without "." and "..", in directory
// order.
func DirNames(dir string) ([]string, error) {
	fd, err := open(dir, syscall.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	buf := bufPool.Get().(*[4096]byte)
	defer bufPool.Put(buf)
	var names []string
	for {
		n, err := syscall.ReadDirent(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

// Explain words a failed read for a person: what could not be read, from
// which file, and why ("cannot read host CPU times from /proc/stat: no such
// file or directory"), without the system call's name that *os.PathError
// puts first. The cause stays in the chain for errors.Is.
func Explain(what string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s from %s: %w", what, pe.Path, pe.Err)
	}
	return fmt.Errorf("cannot read %s: %w", what, err)
}
