package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/golden"
	"github.com/edgeobs/edge-observability-stack/internal/health"
)

const (
	procFixtures   = "../../test/fixtures/proc"
	rootfsFixtures = "../../test/fixtures/rootfs"
)

// piArgs points edgectl at a Raspberry Pi whose kernel has the memory
// controller off.
func piArgs(tree, proc, rootfs string) []string {
	return []string{"--path.cgroupfs=" + filepath.Join(fixtures, tree), "--path.procfs=" + filepath.Join(procFixtures, proc),
		"--path.rootfs=" + filepath.Join(rootfsFixtures, rootfs)}
}

// TestStatusMemoryControllerOff: the stack is never OK with its budget
// unenforced, no unit's memory reads 0B, and the output says why and how
// to fix it.
func TestStatusMemoryControllerOff(t *testing.T) {
	for _, tc := range []struct{ tree, proc, rootfs, golden string }{
		{"v2-nomemory", "pi-6.12", "bookworm", "status_pi_v2.txt"},
		{"v1-nomemory", "pi-5.15", "bullseye", "status_pi_v1.txt"},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			code, out, stderr := runEdgectl(append([]string{"status", "--no-systemd", "--prometheus.url="}, piArgs(tc.tree, tc.proc, tc.rootfs)...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1; stderr %s", code, stderr)
			}
			if strings.Contains(out, "0B") || strings.Contains(out, "status: OK") {
				t.Errorf("memory reported as 0B or the stack as OK:\n%s", out)
			}
			golden.Check(t, tc.golden, out)
		})
	}
}

func TestStatusMemoryControllerOffJSON(t *testing.T) {
	code, out, _ := runEdgectl(append([]string{"status", "--json", "--no-systemd", "--prometheus.url="}, piArgs("v2-nomemory", "pi-6.12", "bookworm")...)...)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var r struct {
		MemoryBudget struct {
			Enforced bool   `json:"enforced"`
			Reason   string `json:"reason"`
			Fix      struct {
				File   string `json:"file"`
				Append string `json:"append"`
				Reboot bool   `json:"reboot"`
			} `json:"fix"`
		} `json:"memory_budget"`
		Units []struct {
			Unit        string   `json:"unit"`
			MemoryBytes *float64 `json:"memory_bytes"`
		} `json:"units"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	b := r.MemoryBudget
	if b.Enforced || b.Reason != "the kernel command line has cgroup_disable=memory" ||
		b.Fix.File != "/boot/firmware/cmdline.txt" || b.Fix.Append != "cgroup_enable=memory" || !b.Fix.Reboot {
		t.Errorf("memory_budget %+v", b)
	}
	if len(r.Units) != 3 || r.Status != "unhealthy" {
		t.Errorf("units %+v status %q", r.Units, r.Status)
	}
	for _, u := range r.Units {
		if u.MemoryBytes != nil {
			t.Errorf("%s: memory_bytes %v, want null", u.Unit, *u.MemoryBytes)
		}
	}
}

// TestStatusCheckCgroup is what the package's postinst runs.
func TestStatusCheckCgroup(t *testing.T) {
	// Never asks systemd, even without --no-systemd.
	useSystemd(t, nil, health.ErrNoBus)
	code, out, stderr := runEdgectl(append([]string{"status", "--check=cgroup"}, piArgs("v2-nomemory", "pi-6.12", "bookworm")...)...)
	if code != 1 || stderr != "" {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	golden.Check(t, "check_cgroup_pi.txt", out)

	code, out, _ = runEdgectl(append([]string{"status", "--check=cgroup"}, piArgs("v2", "pi-6.12-enabled", "bookworm")...)...)
	if code != 0 || out != "memory budget enforced: the kernel's memory controller is on (cgroup v2)\n" {
		t.Errorf("enabled: exit %d, output %q", code, out)
	}

	code, _, stderr = runEdgectl("status", "--check=everything")
	if code != 2 || !strings.Contains(stderr, `--check: unknown check "everything"`) {
		t.Errorf("bad --check: exit %d, stderr %q", code, stderr)
	}
}

// fakeClock answers adjtimex as a kernel whose clock is synchronised or
// not: a maximum error under or at the kernel's limit of 16 s.
type fakeClock bool

func (c fakeClock) Adjtimex(tx *unix.Timex) (int, error) {
	tx.Maxerror = 16_000_000
	if c {
		tx.Maxerror = 40_000
	}
	return unix.TIME_OK, nil
}

// useClock makes status read the clock from c for the duration of the test.
func useClock(t *testing.T, c clocksync.Kernel) {
	old := clockKernel
	clockKernel = c
	t.Cleanup(func() { clockKernel = old })
}

// The reports of the other tests must not depend on the clock of the
// machine that runs them, nor on an edge-sensord running on it.
func init() { clockKernel, sensordRuntimeDir = fakeClock(true), "" }

// edgectl status warns about the clock exactly when edge-sensord does: both
// read it through clocksync, with or without systemd.
func TestStatusClockAgreesWithDaemon(t *testing.T) {
	for _, synced := range []bool{false, true} {
		daemon := clocksync.New(fakeClock(synced))
		if err := daemon.Update(); err != nil {
			t.Fatal(err)
		}
		useClock(t, fakeClock(synced))
		for _, args := range [][]string{nil, {"--no-systemd"}} {
			useSystemd(t, activeUnits(), nil)
			code, out, _ := runEdgectl(append([]string{"status", "--json", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url="}, args...)...)
			var r struct{ Warnings []string }
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(strings.Join(r.Warnings, "\n"), "the system clock is not synchronised (no NTP")
			if code != 0 || warned != (len(daemon.Warnings()) > 0) {
				t.Errorf("synchronised %v %v: exit %d, edgectl warns %v, daemon warns %q", synced, args, code, r.Warnings, daemon.Warnings())
			}
		}
	}
	useClock(t, fakeClock(false))
	useSystemd(t, activeUnits(), nil)
	code, out, _ := runEdgectl("status", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url=")
	if code != 0 || !strings.Contains(out, "warning: the system clock is not synchronised (no NTP; systemd's NTPSynchronized=no)") || !strings.HasSuffix(out, "status: OK\n") {
		t.Errorf("exit %d (want 0: an unsynchronised clock is a warning), output:\n%s", code, out)
	}
}

func TestStatusOOMLoop(t *testing.T) {
	sd := activeUnits()
	sd["prometheus.service"] = health.UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "auto-restart", Result: "oom-kill", NRestarts: u32(4)}
	useSystemd(t, sd, nil)
	code, out, _ := runEdgectl("status", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url=")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := "problem: prometheus.service was killed for lack of memory (Result=oom-kill); raise its limit (now 96.0M) with `systemctl edit prometheus.service`, adding the lines [Service] and MemoryMax=144M"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}
