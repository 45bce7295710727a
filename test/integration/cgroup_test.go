//go:build integration

package integration

import (
	"testing"
	"time"
)

// TestMemoryBudgetAlertFires: on a Raspberry Pi whose kernel has the memory
// controller off, Debian's Prometheus with the shipped rules fires
// EdgeMemoryBudgetNotEnforced from the daemon's metric, and has no unit
// memory to show.
func TestMemoryBudgetAlertFires(t *testing.T) {
	daemon := startDaemon(t, "--path.cgroupfs="+repoPath(t, "test/fixtures/cgroup/v2-nomemory"),
		"--path.procfs="+repoPath(t, "test/fixtures/proc/pi-6.12"))
	prom := startPrometheus(t, rulesConfig(t, daemon))

	const firing = `ALERTS{alertname="EdgeMemoryBudgetNotEnforced", alertstate="firing", controller="memory", job="edge-sensord"}`
	deadline := time.Now().Add(90 * time.Second)
	for {
		if v, ok := promQuery(t, prom, firing); ok && v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not firing after 90s", firing)
		}
		time.Sleep(time.Second)
	}
	if v, ok := promQuery(t, prom, `edge_cgroup_controller_enabled{controller="cpu"}`); !ok || v != 1 {
		t.Errorf("cpu controller: %v %v, want 1", v, ok)
	}
	if _, ok := promQuery(t, prom, `edge_unit_memory_bytes`); ok {
		t.Error("edge_unit_memory_bytes has samples without memory accounting")
	}
}
