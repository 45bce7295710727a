package cgroup

// The legacy and hybrid layouts (cgroup v1): a hierarchy per controller,
// and in the hybrid layout a unified (v2) hierarchy without controllers
// beside them.

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// v1Unlimited is the smallest memory.limit_in_bytes treated as "no limit".
// The kernel reports an unset limit as PAGE_COUNTER_MAX pages: LONG_MAX
// rounded down to the page size on 64-bit kernels (9223372036854771712 with
// 4 KiB pages), but only (2^31-1) pages on 32-bit kernels (8 TiB - 4 KiB with
// 4 KiB pages, e.g. armv7). Any value from the 32-bit sentinel upwards is far
// beyond the memory of the devices we run on, so it cannot be a real limit.
const v1Unlimited = (1<<31 - 1) * 4096

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
