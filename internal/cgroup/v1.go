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

// v1Group is one cgroup as the v1 layout spreads it: its directory in the
// memory hierarchy, in the cpuacct hierarchy and, in the hybrid layout, in
// the unified one; "" in each it is missing from.
type v1Group struct{ memory, cpuacct, unified string }

// below returns the group's child cgroup name.
func (g v1Group) below(name string) v1Group {
	return v1Group{subdir(g.memory, name), subdir(g.cpuacct, name), subdir(g.unified, name)}
}

func (g v1Group) absent() bool { return g.memory == "" && g.cpuacct == "" && g.unified == "" }

// subdir is dir/name when that directory exists, else "".
func subdir(dir, name string) string {
	if dir == "" || !isDir(filepath.Join(dir, name)) {
		return ""
	}
	return filepath.Join(dir, name)
}

// units lists the units below the group in any of its hierarchies: a unit
// has a memory or cpuacct cgroup only when that accounting is on for it, so
// the union is what reports every unit.
func (g v1Group) units() ([]string, error) {
	set := map[string]bool{}
	for _, d := range []string{g.memory, g.cpuacct, g.unified} {
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
	return slices.Sorted(maps.Keys(set)), nil
}

// sliceV1 reads a slice from the v1 controller hierarchies. In the hybrid
// layout systemd also mirrors every unit in the unified (v2) hierarchy
// without controllers, whose cpu.stat still counts CPU time: it stands in
// for cpuacct when CPU accounting is off for a unit (no cpuacct cgroup).
func (r Reader) sliceV1(rel string) ([]Stats, error) {
	roots := v1Group{r.v1Dir("memory"), r.v1Dir("cpuacct"), filepath.Join(r.root(), "unified")}
	slice := roots.below(rel)
	if slice.absent() {
		return nil, nil
	}
	names, err := slice.units()
	if err != nil {
		return nil, err
	}
	self, err := r.readV1(filepath.Base(rel), slice)
	if err != nil {
		return nil, err
	}
	out := []Stats{self}
	for _, n := range names {
		unit := slice.below(n)
		if unit.absent() {
			continue // the unit stopped while we read it
		}
		s, err := r.readV1(n, unit)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// readV1 reads the accounting of one unit (or the slice) from its cgroups.
func (r Reader) readV1(unit string, g v1Group) (Stats, error) {
	s := Stats{Unit: unit, Version: 1}
	if err := r.readV1Memory(g.memory, &s); err != nil {
		return s, err
	}
	if err := r.readV1CPU(g.cpuacct, g.unified, &s); err != nil {
		return s, err
	}
	return s, nil
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
