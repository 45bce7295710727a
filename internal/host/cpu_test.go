package host

import (
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

// A CPU counter that goes back a little keeps its highest value, as
// node_exporter's do; idle going back by 3 s or more is a CPU that came
// back (hot-plug), whose counters start again from the new values.
func TestCPUCountersNeverGoBack(t *testing.T) {
	proc := t.TempDir()
	h, err := New(Options{Procfs: proc, Sysfs: t.TempDir(), Enabled: only("cpu")})
	if err != nil {
		t.Fatal(err)
	}
	poll := func(cpu0 string) map[string]float64 {
		testtree.Write(t, proc, map[string]string{"stat": "cpu  1 1 1 1 1 1 1 1 0 0\ncpu0 " + cpu0 + "\nbtime 1"})
		return samples(t, h)
	}
	user, idle, iowait := `node_cpu_seconds_total{cpu="0",mode="user"}`, `node_cpu_seconds_total{cpu="0",mode="idle"}`, `node_cpu_seconds_total{cpu="0",mode="iowait"}`
	poll("100 0 50 1000 30 0 0 0 0 0")
	got := poll("110 0 50 1001 20 0 0 0 0 0") // iowait went back 0.1 s
	if got[user] != 1.1 || got[idle] != 10.01 || got[iowait] != 0.3 {
		t.Errorf("after iowait went back: user %v idle %v iowait %v; want 1.1 10.01 0.3", got[user], got[idle], got[iowait])
	}
	got = poll("5 0 1 600 2 0 0 0 0 0") // idle back by 4.01 s: a CPU that came back
	if got[user] != 0.05 || got[idle] != 6 || got[iowait] != 0.02 {
		t.Errorf("after hot-plug: user %v idle %v iowait %v; want 0.05 6 0.02", got[user], got[idle], got[iowait])
	}
}
