package selfstat

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

func gather(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			out[mf.GetName()] = m.GetCounter().GetValue()
		default:
			out[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// The same values as client_golang's process collector, read the same
// moment, for every metric both export.
func TestMatchesStockCollector(t *testing.T) {
	ours := gather(t, New("/proc"))
	stock := gather(t, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, name := range []string{"process_cpu_seconds_total", "process_open_fds", "process_max_fds",
		"process_virtual_memory_bytes", "process_virtual_memory_max_bytes", "process_resident_memory_bytes", "process_start_time_seconds"} {
		o, ok := ours[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		s := stock[name]
		// Memory and CPU move between the two reads; fds and limits do not.
		tol := map[string]float64{"process_cpu_seconds_total": 0.05, "process_virtual_memory_bytes": 8 << 20,
			"process_resident_memory_bytes": 4 << 20, "process_start_time_seconds": 0.011, "process_open_fds": 1}[name]
		if math.Abs(o-s) > tol {
			t.Errorf("%s = %v, stock collector says %v", name, o, s)
		}
	}
	if len(ours) != 7 {
		t.Errorf("%d metrics: %v", len(ours), ours)
	}
}

// A fixture procfs: values parsed from the right fields, a command name
// with spaces and parentheses, and errors reported as invalid metrics.
func TestFixture(t *testing.T) {
	root := t.TempDir()
	self := filepath.Join(root, "self")
	os.MkdirAll(filepath.Join(self, "fd"), 0o755)
	for _, fd := range []string{"0", "1", "2"} {
		os.WriteFile(filepath.Join(self, "fd", fd), nil, 0o644)
	}
	os.WriteFile(filepath.Join(root, "stat"), []byte("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"), 0o644)
	// Fields 3..24: state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime(14) stime(15) cutime cstime priority nice
	// threads itrealvalue starttime(22) vsize(23) rss(24).
	os.WriteFile(filepath.Join(self, "stat"),
		[]byte("42 (edge (sensor) d) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 7 0 12345 104857600 2560 18446744073709551615\n"), 0o644)
	got := gather(t, New(root))
	want := map[string]float64{
		"process_cpu_seconds_total":     3,
		"process_start_time_seconds":    1700000000 + 123.45,
		"process_virtual_memory_bytes":  104857600,
		"process_resident_memory_bytes": 2560 * float64(os.Getpagesize()),
		"process_open_fds":              3,
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-6 {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}

	os.WriteFile(filepath.Join(self, "stat"), []byte("42 (x) S 1 2\n"), 0o644)
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(root))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "fields after the command name") {
		t.Fatalf("truncated stat: %v", err)
	}
}
