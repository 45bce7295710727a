package main

import (
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/golden"
)

// volatile drops lines whose values change from run to run (times,
// durations, process and Go runtime figures, host CPU, build info), so
// the golden file pins names, labels and values of everything else.
var volatile = regexp.MustCompile(`^(go_|process_|promhttp_|edge_sensor_build_info|edge_sensor_host_cpu_usage_ratio|sensor_cpu_spike|sensor_failed_events_total\{reason="cpu_spike"\}|edge_sensor_last_update_timestamp_seconds|edge_sensor_poll_last_success_timestamp_seconds|edge_sensor_poll_duration_seconds|edge_sensor_scrape_collector_duration_seconds)`)

// machineValue matches the samples of families whose series are pinned but
// whose values depend on the machine the test runs on: statfs of the
// fixture root's directories (the filesystem holding the checkout), the
// clock, and the kernel's uname.
var machineValue = regexp.MustCompile(`^(node_filesystem_(size|free|avail)_bytes|node_filesystem_files(_free)?|node_time_seconds|node_uname_info)[{ ]`)

func stableExposition(body string) string {
	var keep []string
	for _, l := range strings.Split(body, "\n") {
		if l == "" {
			continue
		}
		name := l
		if strings.HasPrefix(l, "# ") {
			if f := strings.Fields(l); len(f) >= 3 {
				name = f[2]
			}
		}
		if volatile.MatchString(name) {
			continue
		}
		if machineValue.MatchString(l) {
			l = maskMachineValue(l)
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n") + "\n"
}

// maskMachineValue keeps a sample's name and labels, but uname's, whose
// labels are the machine's, and replaces its value.
func maskMachineValue(l string) string {
	if strings.HasPrefix(l, "node_uname_info") {
		return "node_uname_info{...} 1"
	}
	return l[:strings.LastIndexByte(l, ' ')] + " <machine>"
}

// TestGoldenExposition runs the real binary on the fixture sysfs and cgroup
// trees (no simulated sensors) and compares /metrics with a golden file:
// every source, every kind, the broken attributes and the unit accounting;
// and the host collectors on a Raspberry Pi's procfs, sysfs and root
// filesystem (test/fixtures/host), with the variants of its power state and
// storage.
func TestGoldenExposition(t *testing.T) {
	root, _ := filepath.Abs("../../test/fixtures")
	fix := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	sensorTree := func(cgroup string) []string {
		// The host collectors would read this machine's /proc: off.
		return []string{"--path.sysfs=" + fix("sysfs"), "--path.cgroupfs=" + fix("cgroup", cgroup), "--collector.disable-defaults"}
	}
	hostTree := func(sys string, only ...string) []string {
		args := []string{"--path.sysfs=" + fix("host", sys), "--path.procfs=" + fix("host", "proc"), "--path.rootfs=" + fix("host", "rootfs"),
			"--path.cgroupfs=" + fix("cgroup", "v2")}
		if len(only) > 0 {
			args = append(args, "--collector.disable-defaults")
		}
		for _, c := range only {
			args = append(args, "--collector."+c)
		}
		return args
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"fixtures-cgroup-v2", sensorTree("v2")},
		{"fixtures-cgroup-v1", sensorTree("v1")},
		{"fixtures-cgroup-v2-nomemory", sensorTree("v2-nomemory")},
		{"fixtures-cgroup-v1-nomemory", sensorTree("v1-nomemory")},
		{"host-pi4", hostTree("sys")},
		{"host-rpi-throttled", hostTree("sys-throttled", "rpi", "mmc")},
		{"host-rpi-garbage", hostTree("sys-garbage", "rpi", "mmc")},
		{"host-pi-zero", hostTree("sys-zero", "rpi", "mmc")},
		{"host-cm4-emmc", hostTree("sys-cm4-emmc", "rpi", "mmc")},
		{"host-rpi-hwmon-only", hostTree("sys-hwmon-only", "rpi", "mmc")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--clock.timex-file="+fix("clock", "synchronized"), "--no-sensors.simulate", "--poll.interval=1h")
			d := start(t, nil, args...)
			d.next("READY=1", 10*time.Second)
			resp, err := httpClient.Get("http://" + d.addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			golden.Check(t, tc.name+".golden", stableExposition(string(b)))
		})
	}
}

// TestStatusWithoutMemoryController: on a Raspberry Pi whose kernel has the
// memory controller off, systemctl status says the budget is not enforced
// and why, from the first READY=1 on.
func TestStatusWithoutMemoryController(t *testing.T) {
	root, _ := filepath.Abs("../../test/fixtures")
	d := start(t, nil, "--path.sysfs="+filepath.Join(root, "sysfs"), "--path.cgroupfs="+filepath.Join(root, "cgroup", "v2-nomemory"),
		"--path.procfs="+filepath.Join(root, "proc", "pi-6.12"), "--no-sensors.simulate", "--poll.interval=1h")
	msg := d.next("READY=1", 10*time.Second)
	want := "0 stale; memory budget NOT enforced (memory controller off: the kernel command line has cgroup_disable=memory)"
	if !strings.Contains(msg, want) {
		t.Fatalf("notify message %q lacks %q", msg, want)
	}
	_, _, body := d.get("/metrics")
	if !strings.Contains(body, `edge_cgroup_controller_enabled{controller="memory"} 0`) || strings.Contains(body, "edge_unit_memory_bytes{") {
		t.Fatalf("/metrics: want the memory controller at 0 and no unit memory:\n%s", body)
	}
}

// TestStatusClockNotSynchronised: with the kernel's clock unsynchronised,
// the gauge is 0 and systemctl status and the dashboard say so; with the
// status unknown (adjtimex denied), there is no gauge and no warning.
func TestStatusClockNotSynchronised(t *testing.T) {
	root, _ := filepath.Abs("../../test/fixtures")
	for _, tc := range []struct {
		name, file, metric string
		warn               bool
	}{
		{"unsynchronized", filepath.Join(root, "clock", "unsynchronized"), "edge_clock_synchronized 0\n", true},
		{"synchronized", filepath.Join(root, "clock", "synchronized"), "edge_clock_synchronized 1\n", false},
		{"unknown", filepath.Join(t.TempDir(), "absent"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, nil, "--path.sysfs="+filepath.Join(root, "sysfs"), "--path.cgroupfs="+filepath.Join(root, "cgroup", "v2"),
				"--clock.timex-file="+tc.file, "--no-sensors.simulate", "--poll.interval=1h")
			msg := d.next("READY=1", 10*time.Second)
			if got := strings.Contains(msg, clocksync.Warning); got != tc.warn {
				t.Errorf("notify message %q: clock warning %v, want %v", msg, got, tc.warn)
			}
			_, _, body := d.get("/metrics")
			if tc.metric == "" && strings.Contains(body, "edge_clock_synchronized") {
				t.Errorf("/metrics with the status unknown has edge_clock_synchronized:\n%s", body)
			}
			if tc.metric != "" && !strings.Contains(body, tc.metric) {
				t.Errorf("/metrics lacks %q", tc.metric)
			}
			_, _, doc := d.get("/api/dashboard")
			if got := strings.Contains(doc, clocksync.Warning); got != tc.warn {
				t.Errorf("/api/dashboard %s: clock warning %v, want %v", doc, got, tc.warn)
			}
		})
	}
}
