package cgroup

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/testtree"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const procFixtures = "../../test/fixtures/proc"

func TestDetectFixtures(t *testing.T) {
	tests := []struct {
		name, cgroup, proc string
		want               []Controller
	}{
		{"v2 with memory", "v2", "pi-6.12-enabled", []Controller{{Name: Memory, Enabled: true}, {Name: CPU, Enabled: true}}},
		{"v1 with memory", "v1", "pi-5.15", []Controller{{Name: Memory, Enabled: true}, {Name: CPU, Enabled: true}}},
		// Raspberry Pi OS bookworm, 6.12: the firmware's arguments carry
		// cgroup_disable=memory and /proc/cgroups has no memory row at all.
		{"pi 6.12 v2", "v2-nomemory", "pi-6.12", []Controller{
			{Name: Memory, Reason: "the kernel command line has cgroup_disable=memory", Cmdline: "cgroup_disable=memory"},
			{Name: CPU, Enabled: true}}},
		// Older Pi kernels disable memory in code: the command line is
		// silent, /proc/cgroups says enabled 0.
		{"pi 5.15 v1", "v1-nomemory", "pi-5.15", []Controller{
			{Name: Memory, Reason: "/proc/cgroups lists the memory controller as disabled"},
			{Name: CPU, Enabled: true}}},
		// Nothing under /proc explains it: say what the cgroup tree lacks.
		{"v2 unexplained", "v2-nomemory", "missing", []Controller{
			{Name: Memory, Reason: "the kernel offers no memory controller (it is missing from cgroup.controllers)"},
			{Name: CPU, Enabled: true}}},
		{"v1 unexplained", "v1-nomemory", "pi-6.12-enabled", []Controller{
			{Name: Memory, Reason: "no memory controller hierarchy is mounted (cgroup v1)", Cmdline: "cgroup_enable=memory"},
			{Name: CPU, Enabled: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Reader{Root: filepath.Join(fixtures, tc.cgroup), Procfs: filepath.Join(procFixtures, tc.proc)}
			got, err := r.Detect()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Detect:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDetectNoCgroupfs(t *testing.T) {
	if _, err := (Reader{Root: t.TempDir()}).Detect(); err == nil {
		t.Fatal("Detect on an empty directory: want an error, not a verdict")
	}
}

func TestDetectCPUOff(t *testing.T) {
	root := t.TempDir()
	testtree.Write(t, root, map[string]string{"cgroup.controllers": "memory pids\n", "cmdline": "ro cgroup_disable=cpu,io quiet\n"})
	got, err := Reader{Root: root, Procfs: root}.Detect()
	if err != nil {
		t.Fatal(err)
	}
	want := []Controller{{Name: Memory, Enabled: true}, {Name: CPU, Reason: "the kernel command line has cgroup_disable=cpu,io", Cmdline: "cgroup_disable=cpu,io"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if w := got[1].Warning(); w != "CPU quotas NOT enforced (cpu controller off: the kernel command line has cgroup_disable=cpu,io)" {
		t.Errorf("Warning() = %q", w)
	}
	if w := got[0].Warning(); w != "" {
		t.Errorf("Warning() of an enabled controller = %q", w)
	}
}

func TestCmdlineSetting(t *testing.T) {
	tests := []struct{ cmdline, want string }{
		{"", ""},
		{"console=tty1 root=/dev/sda", ""},
		{"cgroup_disable=memory console=tty1", "cgroup_disable=memory"},
		// The last one wins: Raspberry Pi appends cmdline.txt to the firmware's.
		{"cgroup_disable=memory root=x cgroup_enable=memory", "cgroup_enable=memory"},
		{"cgroup_enable=memory cgroup_disable=memory", "cgroup_disable=memory"},
		{"cgroup_disable=memory cgroup_memory=1", "cgroup_memory=1"},
		{"cgroup_disable=cpu,memory", "cgroup_disable=cpu,memory"},
		{"cgroup_disable=memoryx", ""},
		// Arguments after "--" belong to init.
		{"ro -- cgroup_disable=memory", ""},
	}
	for _, tc := range tests {
		if got := CmdlineSetting(tc.cmdline, Memory); got != tc.want {
			t.Errorf("CmdlineSetting(%q) = %q, want %q", tc.cmdline, got, tc.want)
		}
	}
	if got := CmdlineSetting("cgroup_disable=memory cgroup_memory=0", Memory); CmdlineEnables(got, Memory) {
		t.Errorf("cgroup_memory=0 taken as enabling")
	}
}

// On a tree without memory accounting the unit gauges are absent, never 0,
// and edge_cgroup_controller_enabled says why.
func TestCollectorWithoutMemory(t *testing.T) {
	for _, tree := range []string{"v2-nomemory", "v1-nomemory"} {
		t.Run(tree, func(t *testing.T) {
			c := NewCollector(Reader{Root: filepath.Join(fixtures, tree), Procfs: filepath.Join(procFixtures, "pi-6.12")}, "edge-observability.slice")
			if err := c.Update(); err != nil {
				t.Fatal(err)
			}
			want := `# HELP edge_cgroup_controller_enabled 1 when the kernel offers the cgroup controller (memory enforces MemoryMax/MemoryHigh, cpu enforces CPUQuota/CPUWeight), 0 when it is off and systemd silently drops those limits.
# TYPE edge_cgroup_controller_enabled gauge
edge_cgroup_controller_enabled{controller="cpu"} 1
edge_cgroup_controller_enabled{controller="memory"} 0
`
			if err := testutil.CollectAndCompare(c, strings.NewReader(want), "edge_cgroup_controller_enabled"); err != nil {
				t.Error(err)
			}
			for _, name := range []string{"edge_unit_memory_bytes", "edge_unit_memory_max_bytes", "edge_unit_memory_high_bytes", "edge_unit_oom_kills_total"} {
				if n := testutil.CollectAndCount(c, name); n != 0 {
					t.Errorf("%s: %d series without memory accounting, want none", name, n)
				}
			}
			if n := testutil.CollectAndCount(c, "edge_unit_cpu_seconds_total"); n != 4 {
				t.Errorf("edge_unit_cpu_seconds_total: %d series, want 4 (slice and three units)", n)
			}
			want1 := []string{"memory budget NOT enforced (memory controller off: the kernel command line has cgroup_disable=memory)"}
			if got := c.Warnings(); !reflect.DeepEqual(got, want1) {
				t.Errorf("Warnings() = %q, want %q", got, want1)
			}
		})
	}
}

func TestCollectorWarningsNoneWhenEnforced(t *testing.T) {
	c := NewCollector(Reader{Root: filepath.Join(fixtures, "v2"), Procfs: filepath.Join(procFixtures, "pi-6.12")}, "edge-observability.slice")
	if got := c.Warnings(); got != nil {
		t.Errorf("before Update: %q", got)
	}
	if err := c.Update(); err != nil {
		t.Fatal(err)
	}
	if got := c.Warnings(); got != nil {
		t.Errorf("Warnings() = %q, want none", got)
	}
}

// FuzzDetect: whatever the kernel's files hold, Detect decides from
// cgroup.controllers alone and always explains a controller that is off.
func FuzzDetect(f *testing.F) {
	f.Add("cpuset cpu io memory pids\n", "console=tty1 root=/dev/sda2", "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t1\n")
	f.Add("cpu io pids", "cgroup_disable=memory -- cgroup_enable=memory", "memory 0 1 0")
	f.Add("", "cgroup_enable=cpu,memory cgroup_disable=cpu cgroup_memory=0", "")
	f.Fuzz(func(t *testing.T, controllers, cmdline, procCgroups string) {
		root := t.TempDir()
		testtree.Write(t, root, map[string]string{"cgroup.controllers": controllers, "cmdline": cmdline, "cgroups": procCgroups})
		got, err := Reader{Root: root, Procfs: root}.Detect()
		if err != nil {
			t.Fatal(err)
		}
		offered := strings.Fields(controllers)
		for _, c := range got {
			if c.Enabled != slices.Contains(offered, c.Name) {
				t.Errorf("%s: enabled %v with cgroup.controllers %q", c.Name, c.Enabled, controllers)
			}
			if c.Enabled != (c.Reason == "") || c.Enabled != (c.Warning() == "") {
				t.Errorf("%+v: a reason and a warning exactly when off", c)
			}
		}
	})
}
