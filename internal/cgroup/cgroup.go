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
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// DefaultRoot is where the cgroup filesystem is mounted on systemd hosts.
const DefaultRoot = "/sys/fs/cgroup"

// v1Unlimited is the smallest memory.limit_in_bytes treated as "no limit".
// The kernel reports an unset limit as PAGE_COUNTER_MAX pages: LONG_MAX
// rounded down to the page size on 64-bit kernels (9223372036854771712 with
// 4 KiB pages), but only (2^31-1) pages on 32-bit kernels (8 TiB - 4 KiB with
// 4 KiB pages, e.g. armv7). Any value from the 32-bit sentinel upwards is far
// beyond the memory of the devices we run on, so it cannot be a real limit.
const v1Unlimited = (1<<31 - 1) * 4096

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

// v1Dir returns the mount directory of a v1 controller, or "" when absent.
// cpuacct is co-mounted with cpu on most distributions; systemd then adds
// symlinks named after each controller, but do not rely on them.
func (r Reader) v1Dir(controller string) string {
	candidates := []string{controller}
	if controller == "cpuacct" || controller == "cpu" {
		candidates = append(candidates, "cpu,cpuacct", "cpuacct,cpu")
	}
	for _, c := range candidates {
		dir := filepath.Join(r.root(), c)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	return ""
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

func (r Reader) sliceV2(rel string) ([]Stats, error) {
	dir := filepath.Join(r.root(), rel)
	if !isDir(dir) {
		return nil, nil
	}
	names, err := units(dir)
	if err != nil {
		return nil, err
	}
	self, err := r.readV2(dir, filepath.Base(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // removed while reading
		}
		return nil, err
	}
	out := []Stats{self}
	for _, name := range names {
		s, err := r.readV2(filepath.Join(dir, name), name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the unit stopped while we read it
			}
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Unit < out[1+j].Unit })
	return out, nil
}

// readV2 reads one v2 cgroup. Files of controllers not enabled for the
// cgroup are missing; their values stay zero/nil. fs.ErrNotExist is returned
// only when the cgroup directory itself is gone.
func (r Reader) readV2(dir, unit string) (Stats, error) {
	s := Stats{Unit: unit, Version: 2}
	if !isDir(dir) {
		return s, fs.ErrNotExist
	}
	if v, ok, err := r.readUint(filepath.Join(dir, "memory.current")); err != nil {
		return s, err
	} else if ok {
		s.MemoryBytes = &v
	}
	var err error
	if s.MemoryMax, err = r.readV2Limit(filepath.Join(dir, "memory.max")); err != nil {
		return s, err
	}
	if s.MemoryHigh, err = r.readV2Limit(filepath.Join(dir, "memory.high")); err != nil {
		return s, err
	}
	if kv, ok, err := r.readKeyed(filepath.Join(dir, "memory.events")); err != nil {
		return s, err
	} else if ok {
		if v, found := kv["oom_kill"]; found {
			s.OOMKills = &v
		}
	}
	if kv, ok, err := r.readKeyed(filepath.Join(dir, "cpu.stat")); err != nil {
		return s, err
	} else if ok {
		s.CPUSeconds = float64(kv["usage_usec"]) / 1e6
	}
	if b, err := r.file(filepath.Join(dir, "io.stat")); err == nil {
		v := parseIOWritten(b)
		s.IOWriteBytes = &v
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("cgroup: %w", err)
	}
	return s, nil
}

// parseIOWritten sums the wbytes= fields of io.stat, whose lines are
// "MAJ:MIN rbytes=N wbytes=N rios=N ...", one per device the cgroup did IO
// on (empty before its first). A stacked device (LVM, dm-crypt) is listed
// beside the disk under it, so its writes count at each layer.
func parseIOWritten(b []byte) uint64 {
	var sum uint64
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "wbytes="); ok {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				sum += n
			}
		}
	}
	return sum
}

// readV2Limit parses memory.max/memory.high: a byte count or "max".
func (r Reader) readV2Limit(path string) (*uint64, error) {
	b, err := r.file(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return nil, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %s: invalid limit %q", path, s)
	}
	return &v, nil
}

// sliceV1 reads a slice from the v1 controller hierarchies. In the hybrid
// layout systemd also mirrors every unit in the unified (v2) hierarchy
// without controllers, whose cpu.stat still counts CPU time: it stands in
// for cpuacct when CPU accounting is off for a unit (no cpuacct cgroup).
func (r Reader) sliceV1(rel string) ([]Stats, error) {
	var memSlice, cpuSlice, uniSlice string
	if d := r.v1Dir("memory"); d != "" && isDir(filepath.Join(d, rel)) {
		memSlice = filepath.Join(d, rel)
	}
	if d := r.v1Dir("cpuacct"); d != "" && isDir(filepath.Join(d, rel)) {
		cpuSlice = filepath.Join(d, rel)
	}
	if d := filepath.Join(r.root(), "unified", rel); isDir(d) {
		uniSlice = d
	}
	if memSlice == "" && cpuSlice == "" && uniSlice == "" {
		return nil, nil
	}
	dirs := []string{memSlice, cpuSlice, uniSlice}
	// A unit has a memory or cpuacct cgroup only when that accounting is on
	// for it; list the union so every unit is reported.
	set := map[string]bool{}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		names, err := units(d)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			set[n] = true
		}
	}
	names := slices.Sorted(maps.Keys(set))

	sub := func(base, name string) string {
		if base == "" || !isDir(filepath.Join(base, name)) {
			return ""
		}
		return filepath.Join(base, name)
	}
	read := func(unit, mem, cpu, uni string) (Stats, error) {
		s := Stats{Unit: unit, Version: 1}
		if err := r.readV1Memory(mem, &s); err != nil {
			return s, err
		}
		if err := r.readV1CPU(cpu, uni, &s); err != nil {
			return s, err
		}
		return s, nil
	}
	self, err := read(filepath.Base(rel), memSlice, cpuSlice, uniSlice)
	if err != nil {
		return nil, err
	}
	out := []Stats{self}
	for _, n := range names {
		mem, cpu, uni := sub(memSlice, n), sub(cpuSlice, n), sub(uniSlice, n)
		if mem == "" && cpu == "" && uni == "" {
			continue // the unit stopped while we read it
		}
		s, err := read(n, mem, cpu, uni)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// readV1Memory fills the memory fields from a v1 memory cgroup directory;
// a missing directory or file leaves them unset.
func (r Reader) readV1Memory(dir string, s *Stats) error {
	if dir == "" {
		return nil
	}
	if v, ok, err := r.readUint(filepath.Join(dir, "memory.usage_in_bytes")); err != nil {
		return err
	} else if ok {
		s.MemoryBytes = &v
	}
	if v, ok, err := r.readUint(filepath.Join(dir, "memory.limit_in_bytes")); err != nil {
		return err
	} else if ok && v < v1Unlimited {
		s.MemoryMax = &v
	}
	// "oom_kill N" was added in Linux 4.13; older kernels only report
	// oom_kill_disable and under_oom.
	if kv, ok, err := r.readKeyed(filepath.Join(dir, "memory.oom_control")); err != nil {
		return err
	} else if ok {
		if v, found := kv["oom_kill"]; found {
			s.OOMKills = &v
		}
	}
	return nil
}

// readV1CPU takes CPU time from cpuacct.usage (ns) or, failing that, from
// the unified hierarchy's cpu.stat (µs).
func (r Reader) readV1CPU(cpuacct, unified string, s *Stats) error {
	if cpuacct != "" {
		if v, ok, err := r.readUint(filepath.Join(cpuacct, "cpuacct.usage")); err != nil {
			return err
		} else if ok {
			s.CPUSeconds = float64(v) / 1e9
			return nil
		}
	}
	if unified != "" {
		if kv, ok, err := r.readKeyed(filepath.Join(unified, "cpu.stat")); err != nil {
			return err
		} else if ok {
			s.CPUSeconds = float64(kv["usage_usec"]) / 1e6
		}
	}
	return nil
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
