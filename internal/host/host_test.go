package host

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

var fixtures = func() string { p, _ := filepath.Abs("../../test/fixtures/host"); return p }()

// only enables the named collectors.
func only(names ...string) func(string) bool {
	return func(n string) bool { return slices.Contains(names, n) }
}

// newFixtureHost makes a Host on the Raspberry Pi fixture, with sys one of
// its sysfs variants.
func newFixtureHost(t *testing.T, sys string, enabled func(string) bool) *Host {
	t.Helper()
	h, err := New(Options{Procfs: filepath.Join(fixtures, "proc"), Sysfs: filepath.Join(fixtures, sys),
		Rootfs: filepath.Join(fixtures, "rootfs"), Enabled: enabled})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// samples runs one Update and returns the samples as "name{l="v",...}" -> value.
func samples(t *testing.T, h *Host) map[string]float64 {
	t.Helper()
	if err := h.Update(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[seriesName(mf.GetName(), m)] = value(m)
		}
	}
	return out
}

func seriesName(name string, m *dto.Metric) string {
	var l []string
	for _, p := range m.GetLabel() {
		l = append(l, fmt.Sprintf("%s=%q", p.GetName(), p.GetValue()))
	}
	sort.Strings(l)
	if len(l) == 0 {
		return name
	}
	return name + "{" + strings.Join(l, ",") + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// outcome returns how the named collector fared in the last Update.
func outcome(t *testing.T, h *Host, name string) poller.CollectorOutcome {
	t.Helper()
	for _, o := range h.Outcomes() {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no outcome for %s in %v", name, h.Outcomes())
	return poller.CollectorOutcome{}
}

func TestCollectorNamesDifferFromSources(t *testing.T) {
	for _, c := range CollectorNames() {
		if slices.Contains(sensors.SourceNames(), c) {
			t.Errorf("host collector %q has a sensor source's name: edge_sensor_scrape_collector_success{collector=%q} would mean two things", c, c)
		}
		if CollectorHelp(c) == "" {
			t.Errorf("collector %q has no help for its flag", c)
		}
	}
}

// The fixture is a Raspberry Pi 4; these are the values of its files, in
// node_exporter's units (the golden exposition pins the rest).
func TestFixtureValuesInBaseUnits(t *testing.T) {
	got := samples(t, newFixtureHost(t, "sys", nil))
	for series, want := range map[string]float64{
		`node_cpu_seconds_total{cpu="0",mode="user"}`:         3309.82, // 330982 USER_HZ ticks
		`node_cpu_seconds_total{cpu="3",mode="softirq"}`:      10.29,
		`node_memory_MemTotal_bytes`:                          3881836 * 1024,
		`node_memory_SwapFree_bytes`:                          197884 * 1024,
		`node_pressure_io_stalled_seconds_total`:              198.765432,
		`node_disk_written_bytes_total{device="mmcblk0"}`:     41207664 * 512,
		`node_disk_io_time_seconds_total{device="mmcblk0p2"}`: 2031.789,
		`node_disk_flush_requests_total{device="mmcblk0"}`:    91234,
		`node_network_receive_drop_total{device="wlan0"}`:     118,
		`node_network_up{device="eth0"}`:                      1,
		`node_network_up{device="lo"}`:                        0, // operstate "unknown"
		`node_network_info{address="dc:a6:32:01:02:03",broadcast="ff:ff:ff:ff:ff:ff",device="eth0",duplex="full",ifalias="",operstate="up"}`: 1,
		`node_network_info{address="dc:a6:32:01:02:04",broadcast="ff:ff:ff:ff:ff:ff",device="wlan0",duplex="",ifalias="",operstate="down"}`:  1,
		`node_network_route_info{dest="default",device="eth0",gw="192.168.1.1",priority="100",proto="",src="",weight=""}`:                    1,
		`node_network_route_info{dest="192.168.1.0/24",device="eth0",gw="",priority="100",proto="",src="",weight=""}`:                        1,
		`node_network_route_info{dest="default",device="eth0",gw="fe80::1",priority="1024",proto="",src="",weight=""}`:                       1,
		`node_network_route_info{dest="fe80::/64",device="eth0",gw="",priority="256",proto="",src="",weight=""}`:                             1,
		// Unreachable, local and multicast routes left out.
		`node_network_routes{device="eth0"}`:        4,
		`node_boot_time_seconds`:                    1764320400,
		`node_cpu_scaling_frequency_hertz{cpu="2"}`: 1.5e9,
		`node_filesystem_readonly{device="/dev/sda1",fstype="ext4",mountpoint="/srv/backup"}`:            1, // superblock ro
		`node_filesystem_readonly{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/srv/www-readonly"}`: 1, // read-only bind
		`node_filesystem_readonly{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"}`:                 0,
		`node_filesystem_device_error{device="/dev/sdc1",fstype="ext4",mountpoint="/media/usb"}`:         1, // no such directory
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	for _, absent := range []string{
		`node_disk_reads_completed_total{device="ram0"}`, `node_disk_reads_completed_total{device="loop0"}`,
		`node_disk_reads_completed_total{device="sda1"}`, // node_exporter's default excludes
		`node_filesystem_size_bytes{device="/dev/sdc1",fstype="ext4",mountpoint="/media/usb"}`,
		`node_filesystem_device_error{device="tmpfs",fstype="tmpfs",mountpoint="/run/credentials/systemd-journald.service"}`,
		`node_filesystem_device_error{device="/dev/loop0",fstype="squashfs",mountpoint="/snap/core22/1380"}`,
		`node_filesystem_device_error{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/var/lib/docker/overlay2"}`,
	} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s is exported", absent)
		}
	}
	if _, ok := got[`node_filesystem_size_bytes{device="/dev/sdb1",fstype="vfat",mountpoint="/media/pi/USB STICK"}`]; !ok {
		t.Errorf("the mount point with an escaped space is missing")
	}
}

func TestEnabledSelectsCollectors(t *testing.T) {
	h := newFixtureHost(t, "sys", only("loadavg"))
	got := samples(t, h)
	if len(got) != 3 || got["node_load15"] != 0.59 {
		t.Errorf("only loadavg enabled: %v", got)
	}
	if names := h.Names(); !slices.Equal(names, []string{"loadavg"}) {
		t.Errorf("Names() = %v", names)
	}
}

func TestNewNamesTheBadPath(t *testing.T) {
	file := filepath.Join(fixtures, "proc", "loadavg")
	for _, o := range []Options{{Procfs: "/nonexistent"}, {Sysfs: file}, {Rootfs: "/nonexistent/root"}} {
		_, err := New(o)
		if err == nil {
			t.Fatalf("New(%+v) succeeded", o)
		}
		for _, s := range []string{o.Procfs, o.Sysfs, o.Rootfs} {
			if s != "" && !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not name %s", err, s)
			}
		}
	}
}

// A missing subsystem is no data: nothing exported, and a success.
func TestMissingSubsystemIsNoData(t *testing.T) {
	proc, sys := t.TempDir(), t.TempDir()
	testtree.Write(t, proc, map[string]string{"loadavg": "0.1 0.2 0.3 1/2 3"})
	h, err := New(Options{Procfs: proc, Sysfs: sys, Enabled: only("pressure", "cpufreq", "netclass", "network_route", "rpi", "mmc")})
	if err != nil {
		t.Fatal(err)
	}
	if got := samples(t, h); len(got) != 0 {
		t.Errorf("exported %v", got)
	}
	for _, o := range h.Outcomes() {
		if o.Err != nil || len(o.ReadErrors) != 0 {
			t.Errorf("%s: %v, %v; want success without data", o.Name, o.Err, o.ReadErrors)
		}
	}
}

// A collector that fails names the file in words, and the others go on.
func TestFailureNamesTheFile(t *testing.T) {
	proc := t.TempDir()
	testtree.Write(t, proc, map[string]string{
		"meminfo":      "MemTotal: lots kB",
		"stat":         "cpu  1 2 3\nbtime x",
		"loadavg":      "0.1 0.2",
		"net/dev":      "h1\nh2\n  eth0: 1 2 3",
		"net/route":    "Iface\tDestination\nwlan0\t0000ZZ0A\t00000000\t0001\t0\t0\t0\t00FFFFFF",
		"pressure/cpu": "some avg10=zz",
		"diskstats":    " 179 0 mmcblk0 x 2 3",
		"1/mountinfo":  "22 1 179:2 / / rw",
	})
	h, err := New(Options{Procfs: proc, Sysfs: t.TempDir(), Enabled: only("meminfo", "stat", "loadavg", "netdev", "network_route", "pressure", "diskstats", "filesystem")})
	if err != nil {
		t.Fatal(err)
	}
	samples(t, h)
	for _, name := range h.Names() {
		o := outcome(t, h, name)
		if o.Err == nil {
			t.Errorf("%s succeeded on garbage", name)
			continue
		}
		msg := o.Err.Error()
		t.Logf("%s: %s", name, msg)
		if !strings.Contains(msg, proc) || strings.Contains(msg, "Desc{") || strings.Contains(msg, "&{") {
			t.Errorf("%s: %q does not name the file below %s in words", name, msg, proc)
		}
	}
}
