// Package cgroup reads memory and CPU accounting of systemd units from the
// cgroup filesystem, for both the unified (v2) and the legacy/hybrid (v1)
// layouts.
//
// Memory is what systemd reports as MemoryCurrent (and what `systemctl status`
// shows): memory.current on v2 and memory.usage_in_bytes on v1. Both include
// the page cache charged to the unit, which is also what the kernel compares
// against MemoryMax/memory.limit_in_bytes, so usage and limit stay comparable.
// The "working set" some tools show instead (usage minus inactive file cache)
// is lower, but it is not what the kernel limits or what systemctl reports;
// cache near the limit is reclaimed first, before anything is OOM-killed.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// DefaultRoot is where the cgroup filesystem is mounted on systemd hosts.
const DefaultRoot = "/sys/fs/cgroup"

// Stats is the accounting of one cgroup (a unit or the slice itself).
type Stats struct {
	Unit        string  // unit name, e.g. "edge-sensord.service" or "edge-observability.slice"
	Version     int     // cgroup version the values come from: 1 or 2
	MemoryBytes *uint64 // memory.current (v2) or memory.usage_in_bytes (v1); nil without memory accounting
	MemoryMax   *uint64 // hard limit; nil when unlimited or unknown
	MemoryHigh  *uint64 // v2 throttling limit; nil when unlimited, unknown or v1
	CPUSeconds  float64 // CPU time used by the cgroup and its children
	OOMKills    *uint64 // OOM kills in the cgroup; nil when the kernel does not report them
	// IOWriteBytes sums wbytes of io.stat (v2) over its block devices: what the
	// cgroup's writes and its share of page-cache writeback sent to storage.
	// nil without IO accounting (the io controller not enabled) or on v1.
	IOWriteBytes *uint64
}

// Reader reads cgroup accounting below Root (the cgroupfs mount point).
type Reader struct {
	Root string
	// Procfs is the mount point of /proc ("" means /proc), read to explain
	// a controller that is off (see Detect).
	Procfs string
	// Files, when set, keeps the accounting files open between reads (the
	// daemon's poll); nil reads each with open, read, close (edgectl).
	Files *fsread.Handles
}

func (r Reader) file(path string) ([]byte, error) {
	if r.Files != nil {
		return r.Files.File(path)
	}
	return fsread.File(path)
}

// Version reports the layout of the cgroup filesystem: 2 when it is unified,
// 1 for the legacy and hybrid layouts (controllers in per-controller
// hierarchies). It fails when neither layout is recognised.
func (r Reader) Version() (int, error) {
	root := r.root()
	if exists(filepath.Join(root, "cgroup.controllers")) {
		return 2, nil
	}
	if r.v1Dir("memory") != "" || r.v1Dir("cpuacct") != "" {
		return 1, nil
	}
	return 0, fmt.Errorf("cgroup: %s is neither a cgroup v2 mount nor a v1 hierarchy with memory or cpuacct controllers", root)
}

func (r Reader) root() string {
	if r.Root == "" {
		return DefaultRoot
	}
	return r.Root
}

// Slice returns the stats of the slice itself followed by those of every unit
// directly below it (services, scopes and nested slices), sorted by name.
//
// slice is a slice unit name or a cgroup path relative to the hierarchy root.
// systemd nests a slice named with dashes below its prefixes: the cgroup of
// "edge-observability.slice" is "edge.slice/edge-observability.slice". A bare
// unit name is looked up there first and then directly below the root; a
// path with "/" (e.g. "foo.slice/edge-observability.slice") is taken as is.
// A slice that does not exist yields no stats and no error.
func (r Reader) Slice(slice string) ([]Stats, error) {
	candidates, err := slicePaths(slice)
	if err != nil {
		return nil, err
	}
	v, err := r.Version()
	if err != nil {
		return nil, err
	}
	if v == 2 {
		for _, rel := range candidates {
			if isDir(filepath.Join(r.root(), rel)) {
				return r.sliceV2(rel)
			}
		}
		return nil, nil
	}
	for _, rel := range candidates {
		if stats, err := r.sliceV1(rel); err != nil || stats != nil {
			return stats, err
		}
	}
	return nil, nil
}

// slicePaths returns the cgroup paths where slice may live, most likely first.
func slicePaths(slice string) ([]string, error) {
	s := strings.Trim(filepath.ToSlash(slice), "/")
	if s == "" {
		return nil, errors.New("cgroup: empty slice name")
	}
	for _, part := range strings.Split(s, "/") {
		if part == "." || part == ".." || part == "" {
			return nil, fmt.Errorf("cgroup: invalid slice path %q", slice)
		}
	}
	literal := filepath.FromSlash(s)
	if strings.Contains(s, "/") {
		return []string{literal}, nil
	}
	if p := SlicePath(s); p != literal {
		return []string{p, literal}, nil
	}
	return []string{literal}, nil
}

// SlicePath returns the cgroup path systemd uses for a slice unit:
// "a-b-c.slice" lives in "a.slice/a-b.slice/a-b-c.slice". Names that are not
// slices, or that systemd would reject (empty parts), are returned unchanged.
func SlicePath(unit string) string {
	name, ok := strings.CutSuffix(unit, ".slice")
	if !ok || name == "" || name == "-" {
		return unit
	}
	parts := strings.Split(name, "-")
	for _, p := range parts {
		if p == "" {
			return unit
		}
	}
	dirs := make([]string, len(parts))
	for i := range parts {
		dirs[i] = strings.Join(parts[:i+1], "-") + ".slice"
	}
	return filepath.Join(dirs...)
}

// isUnit reports whether a cgroup directory name is a systemd unit we
// account; other directories (e.g. a service's own sub-cgroups) are not.
func isUnit(name string) bool {
	return strings.HasSuffix(name, ".service") || strings.HasSuffix(name, ".scope") || strings.HasSuffix(name, ".slice")
}

// units lists the unit directories directly below dir.
func units(dir string) ([]string, error) {
	names, err := fsread.DirNames(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	slices.Sort(names) // os.ReadDir's order
	var out []string
	for _, n := range names {
		if isUnit(n) && isDir(filepath.Join(dir, n)) {
			out = append(out, n)
		}
	}
	return out, nil
}

// readUint reads a file holding a single unsigned integer. ok is false when
// the file does not exist.
func (r Reader) readUint(path string) (v uint64, ok bool, err error) {
	b, err := r.file(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("cgroup: %w", err)
	}
	s := strings.TrimSpace(string(b))
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("cgroup: %s: invalid value %q", path, s)
	}
	return v, true, nil
}

// readKeyed reads a flat-keyed file ("key value" per line, e.g. cpu.stat,
// memory.events). Lines whose value is not an unsigned integer are skipped
// (the kernel may add fields of other shapes). ok is false when the file
// does not exist.
func (r Reader) readKeyed(path string) (kv map[string]uint64, ok bool, err error) {
	b, err := r.file(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("cgroup: %w", err)
	}
	return parseKeyed(b), true, nil
}

func parseKeyed(b []byte) map[string]uint64 {
	kv := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			kv[f[0]] = v
		}
	}
	return kv
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
