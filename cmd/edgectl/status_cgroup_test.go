package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

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

type clockSystemd struct {
	fakeSystemd
	synced bool
}

func (c clockSystemd) NTPSynchronized(context.Context) (bool, error) { return c.synced, nil }

func TestStatusClockNotSynchronised(t *testing.T) {
	useSystemd(t, clockSystemd{activeUnits(), false}, nil)
	code, out, _ := runEdgectl("status", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url=")
	if code != 0 {
		t.Errorf("exit %d, want 0: an unsynchronised clock is a warning", code)
	}
	if !strings.Contains(out, "warning: the system clock is not synchronised (NTPSynchronized=no)") || !strings.HasSuffix(out, "status: OK\n") {
		t.Errorf("output:\n%s", out)
	}

	useSystemd(t, clockSystemd{activeUnits(), true}, nil)
	if _, out, _ := runEdgectl("status", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url="); strings.Contains(out, "clock") {
		t.Errorf("synchronised clock mentioned:\n%s", out)
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
