// Package pageout gives back the pages of the executable that only start-up
// needed. Starting a Go binary runs every package's init code and touches its
// type data, and the kernel maps each such fault 64 KiB at a time
// (fault-around): a daemon that then only reads sensors and serves a cache
// keeps about 90% of its 12 MB executable resident. MADV_PAGEOUT (Linux 5.4)
// reclaims those clean, file-backed pages now instead of when the device runs
// short of memory; what the daemon still runs is faulted back in on demand.
package pageout

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout is MADV_PAGEOUT from <linux/mman.h>; the syscall package
// predates it.
const madvPageout = 21

// ErrUnsupported is returned by kernels older than 5.4.
var ErrUnsupported = errors.New("MADV_PAGEOUT not supported by this kernel")

// Region is one read-only mapping of a file.
type Region struct {
	Start, End uintptr
}

// FileRegions parses /proc/<pid>/maps and returns the mappings of path that
// are not writable (text and read-only data; written pages are private
// copies that page-out would have to swap).
func FileRegions(maps io.Reader, path string) ([]Region, error) {
	var out []Region
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		// address perms offset dev inode pathname (the pathname may contain spaces)
		f := strings.SplitN(sc.Text(), " ", 6)
		if len(f) < 6 || strings.TrimLeft(f[5], " ") != path || strings.Contains(f[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("bad mapping %q", sc.Text())
		}
		out = append(out, Region{uintptr(start), uintptr(end)})
	}
	return out, sc.Err()
}

// Executable pages out the running executable's read-only mappings and
// returns how many bytes of address space it advised.
func Executable() (uintptr, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	regions, err := FileRegions(f, exe)
	if err != nil {
		return 0, err
	}
	if len(regions) == 0 {
		return 0, fmt.Errorf("no mapping of %s in /proc/self/maps", exe)
	}
	var n uintptr
	for _, r := range regions {
		// The address comes from the kernel's own map of this process;
		// going through a []byte would need unsafe for nothing.
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, r.Start, r.End-r.Start, madvPageout); e != 0 {
			if e == syscall.EINVAL {
				return n, ErrUnsupported
			}
			return n, fmt.Errorf("madvise(%#x, %d, MADV_PAGEOUT): %w", r.Start, r.End-r.Start, e)
		}
		n += r.End - r.Start
	}
	return n, nil
}
