package health

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
)

const (
	procFixtures   = "../../test/fixtures/proc"
	rootfsFixtures = "../../test/fixtures/rootfs"
)

// piOptions is a Raspberry Pi whose kernel has the memory controller off.
func piOptions(t *testing.T, tree, proc, rootfs string) Options {
	o := opts(t, filepath.Join(fixtures, tree), nil, healthyProm)
	o.Cgroup.Procfs = filepath.Join(procFixtures, proc)
	o.Rootfs = filepath.Join(rootfsFixtures, rootfs)
	return o
}

func TestCheckMemoryControllerOff(t *testing.T) {
	for _, tc := range []struct{ tree, proc, rootfs, reason, file string }{
		{"v2-nomemory", "pi-6.12", "bookworm", "the kernel command line has cgroup_disable=memory", "/boot/firmware/cmdline.txt"},
		{"v1-nomemory", "pi-5.15", "bullseye", "/proc/cgroups lists the memory controller as disabled", "/boot/cmdline.txt"},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			r := Check(context.Background(), piOptions(t, tc.tree, tc.proc, tc.rootfs))
			wantExit(t, r, exitcode.Failure, "memory budget NOT enforced: the memory controller is off ("+tc.reason+")")
			b := r.MemoryBudget
			if b == nil || b.Enforced || b.Reason != tc.reason || b.Fix == nil {
				t.Fatalf("memory budget %+v", b)
			}
			if b.Fix.File != tc.file || b.Fix.Append != "cgroup_enable=memory" || !b.Fix.Reboot {
				t.Errorf("fix %+v, want %s += cgroup_enable=memory and a reboot", b.Fix, tc.file)
			}
			// No unit's memory is made up: it is unknown, not 0.
			for _, u := range r.Units {
				if !u.InCgroup || u.MemoryBytes != nil || u.CPUSeconds == 0 {
					t.Errorf("unit %+v: want a cgroup, CPU time and no memory figure", u)
				}
			}
			if r.Total.MemoryBytes != nil || r.Total.OverBudget {
				t.Errorf("total %+v", r.Total)
			}
			// Only the memory problem: the units are up.
			if len(r.Problems) != 1 {
				t.Errorf("problems %q, want only the memory budget", r.Problems)
			}
		})
	}
}

func TestCheckCgroupOnly(t *testing.T) {
	o := piOptions(t, "v2-nomemory", "pi-6.12", "bookworm")
	o.PrometheusURL = "http://127.0.0.1:1" // never asked
	r := CheckCgroup(o)
	wantExit(t, r, exitcode.Failure, "cgroup_disable=memory")
	if len(r.Units) != 0 || r.Prometheus != nil {
		t.Errorf("CheckCgroup looked beyond the kernel: %+v", r)
	}

	o = piOptions(t, "v2", "pi-6.12-enabled", "bookworm")
	r = CheckCgroup(o)
	wantExit(t, r, exitcode.OK, "")
	if r.MemoryBudget == nil || !r.MemoryBudget.Enforced || r.MemoryBudget.Fix != nil || r.CgroupVersion != 2 {
		t.Errorf("memory budget %+v, version %d", r.MemoryBudget, r.CgroupVersion)
	}

	r = CheckCgroup(Options{Cgroup: cgroup.Reader{Root: t.TempDir()}})
	wantExit(t, r, exitcode.Unknown, "reading cgroups")
	if r.MemoryBudget != nil {
		t.Errorf("a verdict without cgroups: %+v", r.MemoryBudget)
	}
}

// smallTree is a v2 slice with both expected units, no limits and no OOM
// kills, offering the given controllers.
func smallTree(t *testing.T, controllers string) string {
	return writeTree(t, map[string]string{
		"cgroup.controllers":                                           controllers,
		"edge-observability.slice/memory.current":                      "10",
		"edge-observability.slice/edge-sensord.service/memory.current": "5",
		"edge-observability.slice/prometheus.service/memory.current":   "5",
	})
}

func TestCheckCPUControllerOffWarns(t *testing.T) {
	root := smallTree(t, "memory")
	r := Check(context.Background(), opts(t, root, allActive(), healthyProm))
	wantExit(t, r, exitcode.OK, "")
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "CPU quotas NOT enforced (cpu controller off") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// memoryOff is the memory controller as Detect reports it on the cgroup v2
// tree without memory, with the kernel command line under proc.
func memoryOff(t *testing.T, proc string) cgroup.Controller {
	t.Helper()
	ctls, err := cgroup.Reader{Root: filepath.Join(fixtures, "v2-nomemory"), Procfs: proc}.Detect()
	if err != nil || ctls[0].Name != cgroup.Memory || ctls[0].Enabled {
		t.Fatalf("Detect: %+v, %v; want the memory controller off first", ctls, err)
	}
	return ctls[0]
}

func TestMemoryFix(t *testing.T) {
	pi612 := filepath.Join(procFixtures, "pi-6.12")
	tests := []struct {
		name  string
		files map[string]string
		proc  string
		want  Fix
	}{
		{"both boot files: firmware wins", map[string]string{"boot/firmware/cmdline.txt": "root=x", "boot/cmdline.txt": "root=x"}, pi612,
			Fix{File: "/boot/firmware/cmdline.txt", Append: "cgroup_enable=memory", Reboot: true}},
		{"bullseye", map[string]string{"boot/cmdline.txt": "root=x"}, pi612,
			Fix{File: "/boot/cmdline.txt", Append: "cgroup_enable=memory", Reboot: true}},
		{"appended, not rebooted", map[string]string{"boot/firmware/cmdline.txt": "root=x cgroup_enable=memory"}, pi612,
			Fix{File: "/boot/firmware/cmdline.txt", Reboot: true}},
		{"grub", map[string]string{"etc/default/grub": "GRUB_CMDLINE_LINUX=\"\""}, pi612,
			Fix{File: "/etc/default/grub", Append: "cgroup_enable=memory", Reboot: true}},
		{"nothing known", map[string]string{"etc/hostname": "x"}, pi612,
			Fix{Append: "cgroup_enable=memory", Reboot: true}},
		// Enabled on the command line and still off: no boot edit helps.
		{"kernel without memcg", map[string]string{"boot/firmware/cmdline.txt": "root=x"}, filepath.Join(procFixtures, "pi-6.12-enabled"),
			Fix{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := memoryFix(writeTree(t, tc.files), memoryOff(t, tc.proc))
			if got.Text == "" {
				t.Error("fix without words")
			}
			got.Text = ""
			if got != tc.want {
				t.Errorf("fix %+v, want %+v", got, tc.want)
			}
		})
	}
	if f := memoryFix(writeTree(t, map[string]string{"boot/firmware/cmdline.txt": "root=x"}), memoryOff(t, pi612)); !strings.Contains(f.Text, "single line of /boot/firmware/cmdline.txt, then reboot") ||
		fixCommand(f) != "sudo sed -i '1 s/$/ cgroup_enable=memory/' /boot/firmware/cmdline.txt && sudo reboot" {
		t.Errorf("fix %+v, command %q", f, fixCommand(f))
	}
}

func TestCheckLoops(t *testing.T) {
	v2 := filepath.Join(fixtures, "v2")
	t.Run("oom-kill", func(t *testing.T) {
		sd := allActive()
		sd.states["prometheus.service"] = UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "auto-restart", Result: "oom-kill", NRestarts: u32p(2)}
		r := Check(context.Background(), opts(t, v2, sd, healthyProm))
		wantExit(t, r, exitcode.Failure, "prometheus.service was killed for lack of memory (Result=oom-kill); raise its limit (now 96.0M) with `systemctl edit prometheus.service`, adding the lines [Service] and MemoryMax=144M")
	})
	t.Run("restart loop", func(t *testing.T) {
		sd := allActive()
		sd.states["edge-sensord.service"] = running(7)
		r := Check(context.Background(), opts(t, v2, sd, healthyProm))
		wantExit(t, r, exitcode.Failure, "edge-sensord.service is in a restart loop (7 automatic restarts)")
		wantExit(t, r, exitcode.Failure, "MemoryMax=48M")
	})
	t.Run("few restarts are no loop", func(t *testing.T) {
		sd := allActive()
		sd.states["edge-sensord.service"] = running(restartLoop - 1)
		wantExit(t, Check(context.Background(), opts(t, v2, sd, healthyProm)), exitcode.OK, "")
	})
	t.Run("oom kills in a running service warn", func(t *testing.T) {
		r := Check(context.Background(), opts(t, v2, allActive(), healthyProm))
		wantExit(t, r, exitcode.OK, "")
		if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "prometheus.service: the OOM killer killed 2 of its processes since it started; raise its limit") {
			t.Errorf("warnings %q", r.Warnings)
		}
	})
	t.Run("unlimited unit", func(t *testing.T) {
		if s := raiseLimit(Unit{Unit: "grafana-server.service"}); !strings.Contains(s, "MemoryMax=<size>") || strings.Contains(s, "now") {
			t.Errorf("raiseLimit without a limit: %q", s)
		}
	})
}

func u32p(v uint32) *uint32 { return &v }

// fakeClock answers adjtimex as a kernel whose clock is synchronised (a
// maximum error under the limit of 16 s) or not, or fails.
type fakeClock struct {
	synced bool
	err    error
}

func (c fakeClock) Adjtimex(tx *unix.Timex) (int, error) {
	tx.Maxerror = 16_000_000
	if c.synced {
		tx.Maxerror = 15_999_999
	}
	return unix.TIME_OK, c.err
}

func TestCheckClock(t *testing.T) {
	root := smallTree(t, "cpu memory") // nothing else to warn about
	for _, tc := range []struct {
		name string
		k    fakeClock
		want string
	}{
		{"synchronised", fakeClock{synced: true}, ""},
		{"not synchronised", fakeClock{}, "the system clock is not synchronised (no NTP; systemd's NTPSynchronized=no)"},
		{"adjtimex denied", fakeClock{err: unix.EPERM}, "cannot tell whether the system clock is synchronised: clock status: adjtimex: operation not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(t, root, allActive(), healthyProm)
			o.Clock = tc.k
			r := Check(context.Background(), o)
			// A wrong clock is a warning: exit 0.
			wantExit(t, r, exitcode.OK, "")
			got := strings.Join(r.Warnings, "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("warnings %q, want %q", got, tc.want)
			}
		})
	}
}
