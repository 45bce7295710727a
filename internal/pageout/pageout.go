// Package pageout gives back the pages of the executable that only start-up
// needed. Starting a Go binary runs every package's init code and touches its
// type data, and the kernel maps each such fault 64 KiB at a time
// (fault-around): a daemon that then only reads sensors and serves a cache
// keeps about 90% of its executable resident, charged to its cgroup.
//
// MADV_PAGEOUT would reclaim them in one call, but the kernel pages out a
// file's pages only for a process that owns the file or may write it, and a
// unit with DynamicUser= does neither for /usr/bin. So the daemon drops its
// own mappings of the clean pages (MADV_DONTNEED, always allowed on one's own
// mappings) and then asks the kernel to evict the file's pages that nobody
// maps any more (POSIX_FADV_DONTNEED, allowed on a read-only descriptor).
// What the daemon still runs is faulted back in on demand.
package pageout

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Region is one read-only mapping of a file.
type Region struct {
	Start, End uintptr
}

// FileRegions parses /proc/<pid>/smaps and returns the mappings of path that
// are not writable and hold no private copies ("Anonymous:" 0 kB): text and
// read-only data, whose pages the file gives back as they were. A writable
// mapping, or a relocated one made read-only after, holds pages that exist
// nowhere else.
func FileRegions(smaps io.Reader, path string) ([]Region, error) {
	var out []Region
	var cur *Region // the current mapping, while it qualifies
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Text()
		// address perms offset dev inode pathname (the pathname may contain spaces)
		if f := strings.SplitN(line, " ", 6); len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			if cur != nil {
				out = append(out, *cur)
			}
			cur = nil
			if len(f) < 6 || strings.TrimLeft(f[5], " ") != path || strings.Contains(f[1], "w") {
				continue
			}
			lo, hi, _ := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil || end <= start {
				return nil, fmt.Errorf("bad mapping %q", line)
			}
			cur = &Region{uintptr(start), uintptr(end)}
			continue
		}
		if v, ok := strings.CutPrefix(line, "Anonymous:"); ok && cur != nil && strings.TrimSpace(v) != "0 kB" {
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out, sc.Err()
}

// Executable gives back the running executable's clean read-only pages and
// returns how many bytes of address space it dropped.
func Executable() (uintptr, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	regions, err := FileRegions(smaps, exe)
	smaps.Close()
	if err != nil {
		return 0, err
	}
	if len(regions) == 0 {
		return 0, fmt.Errorf("no clean read-only mapping of %s in /proc/self/smaps", exe)
	}
	f, err := os.Open(exe)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n uintptr
	for _, r := range regions {
		// MADV_PAGEOUT evicts even what is mapped, where the kernel lets
		// it (it skips the file's pages silently where not); MADV_DONTNEED
		// unmaps what is left, for the eviction below.
		for _, advice := range []uintptr{unix.MADV_PAGEOUT, unix.MADV_DONTNEED} {
			// The address comes from the kernel's own map of this process;
			// going through a []byte would need unsafe for nothing.
			if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, r.Start, r.End-r.Start, advice); e != 0 && !(e == syscall.EINVAL && advice == unix.MADV_PAGEOUT) {
				return n, fmt.Errorf("madvise(%#x, %d, %d): %w", r.Start, r.End-r.Start, advice, e)
			}
		}
		n += r.End - r.Start
	}
	// Pages the daemon's threads mapped again since are kept; large folios
	// of the page cache are kept whole while any page of them is mapped.
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return n, fmt.Errorf("posix_fadvise(%s, POSIX_FADV_DONTNEED): %w", exe, err)
	}
	return n, nil
}
