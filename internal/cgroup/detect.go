package cgroup

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// Controllers whose availability Detect reports: memory enforces the
// stack's MemoryMax/MemoryHigh budget, cpu its CPUQuota/CPUWeight.
const (
	Memory = "memory"
	CPU    = "cpu"
)

// Controller says whether the kernel gives the stack a cgroup controller.
// systemd drops the limits of a controller the kernel lacks without an
// error (`systemctl show -p MemoryMax` still prints the configured value),
// so this is the only place a device tells that its budget is not enforced.
type Controller struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Reason says in words why a controller is off: the kernel command
	// line setting that turned it off, or what is missing.
	Reason string `json:"reason,omitempty"`
	// Cmdline is the kernel command line's verdict on a controller that is
	// off: its last argument that turns the controller on or off (see
	// CmdlineSetting), "" when none does. It is read only to explain a
	// controller that is off, so it is "" for one that is on.
	Cmdline string `json:"-"`
}

// CmdlineEnabled reports whether the kernel command line turns the
// controller on: when it is off all the same, the kernel lacks it and no
// boot setting brings it back.
func (c Controller) CmdlineEnabled() bool { return CmdlineEnables(c.Cmdline, c.Name) }

// Warning is the one-line warning for a controller that is off, e.g.
// "memory budget NOT enforced (memory controller off: the kernel command
// line has cgroup_disable=memory)"; "" when it is on.
func (c Controller) Warning() string {
	if c.Enabled {
		return ""
	}
	what := c.Name + " limits NOT enforced"
	switch c.Name {
	case Memory:
		what = "memory budget NOT enforced"
	case CPU:
		what = "CPU quotas NOT enforced"
	}
	return fmt.Sprintf("%s (%s controller off: %s)", what, c.Name, c.Reason)
}

// Detect reports the memory and cpu controllers, in that order, from the
// cgroup filesystem below r.Root: on v2 the root's cgroup.controllers, on
// v1 the controller's hierarchy. Files under r.Procfs only explain why a
// controller is off: /proc/cgroups lacks the memory row on kernels without
// CONFIG_MEMCG_V1 (6.11 and later) whether or not the controller is on, so
// it cannot decide alone.
func (r Reader) Detect() ([]Controller, error) {
	procfs := r.Procfs
	if procfs == "" {
		procfs = "/proc"
	}
	v, err := r.Version()
	if err != nil {
		return nil, err
	}
	var on map[string]bool
	if v == 2 {
		if on, err = r.v2Controllers(); err != nil {
			return nil, err
		}
	} else {
		on = map[string]bool{Memory: r.v1Dir(Memory) != "", CPU: r.v1Dir(CPU) != ""}
	}
	out := make([]Controller, 0, 2)
	var cmdline, procCgroups []byte
	for _, name := range []string{Memory, CPU} {
		c := Controller{Name: name, Enabled: on[name]}
		if !c.Enabled {
			if cmdline == nil {
				// Unreadable files leave the reason to what the cgroup
				// filesystem lacks.
				cmdline, _ = fsread.File(filepath.Join(procfs, "cmdline"))
				procCgroups, _ = fsread.File(filepath.Join(procfs, "cgroups"))
			}
			c.Cmdline = CmdlineSetting(string(cmdline), name)
			c.Reason = offReason(c, v, string(procCgroups))
		}
		out = append(out, c)
	}
	return out, nil
}

// v2Controllers reads the controllers the kernel offers at the root.
func (r Reader) v2Controllers() (map[string]bool, error) {
	b, err := r.file(filepath.Join(r.root(), "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	on := map[string]bool{}
	for _, c := range strings.Fields(string(b)) {
		on[c] = true
	}
	return on, nil
}

// offReason explains a controller that is off: first the kernel command
// line, then /proc/cgroups, then what the cgroup filesystem lacks.
func offReason(c Controller, version int, procCgroups string) string {
	name := c.Name
	if c.Cmdline != "" && !c.CmdlineEnabled() {
		return "the kernel command line has " + c.Cmdline
	}
	if enabled, ok := procCgroupsEnabled(procCgroups, name); ok && !enabled {
		return "/proc/cgroups lists the " + name + " controller as disabled"
	}
	if version == 2 {
		return "the kernel offers no " + name + " controller (it is missing from cgroup.controllers)"
	}
	return "no " + name + " controller hierarchy is mounted (cgroup v1)"
}

// CmdlineSetting returns the last argument of the kernel command line that
// turns the controller on or off (cgroup_disable=, cgroup_enable=, and for
// memory the Raspberry Pi kernels' cgroup_memory=), or "" when none does:
// the kernel applies them in order, so the last one wins. On Raspberry Pi
// the firmware's own arguments come first and cmdline.txt's after them.
func CmdlineSetting(cmdline, name string) string {
	last := ""
	for _, arg := range strings.Fields(cmdline) {
		if arg == "--" {
			break // the rest goes to init
		}
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			continue
		}
		switch {
		case (key == "cgroup_disable" || key == "cgroup_enable") && slices.Contains(strings.Split(val, ","), name):
			last = arg
		case key == "cgroup_memory" && name == Memory:
			last = arg
		}
	}
	return last
}

// CmdlineEnables reports whether a setting CmdlineSetting returned turns
// the controller on.
func CmdlineEnables(arg, name string) bool {
	return strings.HasPrefix(arg, "cgroup_enable=") || (name == Memory && arg == "cgroup_memory=1")
}

// procCgroupsEnabled reads the "enabled" column of /proc/cgroups; ok is
// false when the controller has no row (or the file is unreadable).
func procCgroupsEnabled(procCgroups, name string) (enabled, ok bool) {
	for _, line := range strings.Split(procCgroups, "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == name {
			return f[3] != "0", true
		}
	}
	return false, false
}
