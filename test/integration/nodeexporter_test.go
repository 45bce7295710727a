//go:build integration

package integration

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
	"github.com/edgeobs/edge-observability-stack/internal/host"
)

// nodeExporterBinary is Debian's prometheus-node-exporter (1.5.0 in
// bookworm), the reference the host collectors are held to.
const nodeExporterBinary = "/usr/bin/prometheus-node-exporter"

// hostTree is where both exporters read: a fixture or this machine.
type hostTree struct {
	name                  string
	procfs, sysfs, rootfs string
	static                bool // the files do not change while the test reads them
	netlink               bool // node_exporter reads interfaces over netlink (this machine's only)
}

// sharedCollectors are the host collectors node_exporter has too, under the
// same names and reading the same trees; rpi and mmc are edge-sensord's
// own, and network_route asks netlink in node_exporter (see
// TestNetworkRouteMatchesNodeExporter).
func sharedCollectors() []string {
	var out []string
	for _, c := range host.CollectorNames() {
		if c != "rpi" && c != "mmc" && c != "network_route" {
			out = append(out, c)
		}
	}
	return out
}

// TestNodeExporterConformance runs Debian's node_exporter and edge-sensord
// on the same trees, with the same collectors and the same excludes, and
// compares every node_* family edge-sensord exports: the same name, type,
// label names and series, and the same values, exactly where nothing moves
// between the two reads.
func TestNodeExporterConformance(t *testing.T) {
	if _, err := os.Stat(nodeExporterBinary); err != nil {
		t.Fatalf("%s is required (apt-get install prometheus-node-exporter, or `make deps`): %v", nodeExporterBinary, err)
	}
	fixture := func(p string) string { return repoPath(t, "test/fixtures/host/"+p) }
	for _, tree := range []hostTree{
		{name: "fixture", procfs: fixture("proc"), sysfs: fixture("sys"), rootfs: fixture("rootfs"), static: true},
		{name: "this-machine", procfs: "/proc", sysfs: "/sys", rootfs: "/", netlink: true},
	} {
		t.Run(tree.name, func(t *testing.T) {
			var args []string
			for _, c := range sharedCollectors() {
				args = append(args, "--collector."+c)
			}
			paths := []string{"--path.procfs=" + tree.procfs, "--path.sysfs=" + tree.sysfs, "--path.rootfs=" + tree.rootfs}
			edge := startDaemon(t, append(append(paths, "--poll.interval=200ms", "--collector.disable-defaults"), args...)...)
			ne := startNodeExporter(t, tree, append(paths, args...))
			ours, theirs, oursAfter := bracketedScrapes(t, edge, ne)
			if tree.static {
				assertFamilies(t, ours, fixtureFamilies)
			} else {
				assertFamilies(t, ours, nil)
			}
			for _, name := range sortedNames(ours) {
				if strings.HasPrefix(name, "node_") {
					compareFamily(t, tree, ours[name], theirs[name], oursAfter[name], ours)
				}
			}
		})
	}
}

// TestNetworkRouteMatchesNodeExporter compares this machine's routes as
// edge-sensord reads them from /proc/net/route with node_exporter's
// network_route collector, which asks netlink: the same devices,
// destinations, gateways and metrics (the labels the file holds).
func TestNetworkRouteMatchesNodeExporter(t *testing.T) {
	paths := []string{"--path.procfs=/proc", "--path.sysfs=/sys", "--path.rootfs=/", "--collector.network_route"}
	edge := startDaemon(t, append(paths, "--poll.interval=200ms", "--collector.disable-defaults")...)
	ne := startNodeExporter(t, hostTree{name: "this-machine", netlink: true}, paths)
	ours, theirs, _ := bracketedScrapes(t, edge, ne)
	routes := func(mfs map[string]*dto.MetricFamily) []string {
		var out []string
		for _, m := range mfs["node_network_route_info"].GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out = append(out, fmt.Sprintf("%s dev %s via %q metric %s", l["dest"], l["device"], l["gw"], l["priority"]))
		}
		sort.Strings(out)
		return out
	}
	got, want := routes(ours), routes(theirs)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("routes:\n%s\nnode_exporter's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a, b := series(ours["node_network_routes"]), series(theirs["node_network_routes"]); !maps.Equal(a, b) {
		t.Errorf("node_network_routes %v, node_exporter's %v", a, b)
	}
	t.Logf("%d routes: %s", len(got), strings.Join(got, "; "))
}

// fixtureFamilies are the node_* families edge-sensord exports on the
// Raspberry Pi fixture: all of them, so that the comparison covers each.
var fixtureFamilies = []string{
	"node_boot_time_seconds", "node_cpu_scaling_frequency_hertz", "node_cpu_seconds_total",
	"node_disk_discard_time_seconds_total", "node_disk_discarded_sectors_total", "node_disk_discards_completed_total",
	"node_disk_discards_merged_total", "node_disk_flush_requests_time_seconds_total", "node_disk_flush_requests_total",
	"node_disk_io_now", "node_disk_io_time_seconds_total", "node_disk_io_time_weighted_seconds_total",
	"node_disk_read_bytes_total", "node_disk_read_time_seconds_total", "node_disk_reads_completed_total",
	"node_disk_reads_merged_total", "node_disk_write_time_seconds_total", "node_disk_writes_completed_total",
	"node_disk_writes_merged_total", "node_disk_written_bytes_total",
	"node_filesystem_avail_bytes", "node_filesystem_device_error", "node_filesystem_files", "node_filesystem_files_free",
	"node_filesystem_free_bytes", "node_filesystem_readonly", "node_filesystem_size_bytes",
	"node_load1", "node_load15", "node_load5",
	"node_memory_Buffers_bytes", "node_memory_Cached_bytes", "node_memory_MemAvailable_bytes", "node_memory_MemFree_bytes",
	"node_memory_MemTotal_bytes", "node_memory_SReclaimable_bytes", "node_memory_SwapFree_bytes", "node_memory_SwapTotal_bytes",
	"node_network_info", "node_network_receive_bytes_total", "node_network_receive_drop_total", "node_network_receive_errs_total",
	"node_network_receive_packets_total", "node_network_transmit_bytes_total", "node_network_transmit_drop_total",
	"node_network_transmit_errs_total", "node_network_transmit_packets_total", "node_network_up",
	"node_pressure_cpu_waiting_seconds_total", "node_pressure_io_stalled_seconds_total", "node_pressure_io_waiting_seconds_total",
	"node_pressure_memory_stalled_seconds_total", "node_pressure_memory_waiting_seconds_total",
	"node_time_seconds", "node_uname_info",
}

// assertFamilies checks that edge-sensord exports exactly want (on the
// fixture), or at least the families every Linux machine has.
func assertFamilies(t *testing.T, ours map[string]*dto.MetricFamily, want []string) {
	t.Helper()
	var got []string
	for name := range ours {
		if strings.HasPrefix(name, "node_") {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	if want != nil && !slices.Equal(got, want) {
		t.Fatalf("node_* families exported on the fixture:\n%v\nwant\n%v", got, want)
	}
	for _, name := range []string{"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_load1", "node_boot_time_seconds",
		"node_filesystem_size_bytes", "node_network_receive_bytes_total", "node_network_up", "node_disk_written_bytes_total",
		"node_time_seconds", "node_uname_info"} {
		if !slices.Contains(got, name) {
			t.Errorf("%s not exported", name)
		}
	}
}

// startNodeExporter runs node_exporter with only the shared collectors and
// edge-sensord's excludes (Debian's build leaves out more mount points and
// the loopback interface than node_exporter upstream, whose defaults
// edge-sensord keeps), and returns its address once it answers.
func startNodeExporter(t *testing.T, tree hostTree, args []string) string {
	t.Helper()
	args = append(args, "--collector.disable-defaults",
		"--collector.filesystem.mount-points-exclude="+host.DefaultMountPointsExclude,
		"--collector.filesystem.fs-types-exclude="+host.DefaultFSTypesExclude,
		"--collector.diskstats.device-exclude="+host.DefaultDiskstatsExclude,
		"--collector.netdev.device-exclude=")
	if !tree.netlink {
		// Netlink answers for this machine whatever --path.procfs says.
		args = append(args, "--no-collector.netdev.netlink")
	}
	for attempt := 0; attempt < 3; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
		out := &promLog{}
		cmd := exec.Command(nodeExporterBinary, append(args, "--web.listen-address="+addr)...)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("node_exporter log:\n%s", out.String())
			}
		})
		if waitHTTP(addr+"/metrics", done) {
			return addr
		}
		t.Logf("node_exporter did not start (port taken?):\n%s", out.String())
	}
	t.Fatal("node_exporter did not start")
	return ""
}

// waitHTTP waits up to 10 s for a 200 from url, or for the process to exit.
func waitHTTP(url string, exited <-chan struct{}) bool {
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false
}

// bracketedScrapes reads edge-sensord, then node_exporter, then
// edge-sensord again after a poll that began once node_exporter had
// answered: a counter node_exporter read lies between edge-sensord's two.
func bracketedScrapes(t *testing.T, edge, ne string) (ours, theirs, oursAfter map[string]*dto.MetricFamily) {
	t.Helper()
	ours, _ = scrapePolledAfter(t, edge, time.Time{})
	theirs = scrape(t, ne)
	read := time.Now()
	oursAfter, _ = scrapePolledAfter(t, edge, read)
	return ours, theirs, oursAfter
}

// scrapePolledAfter scrapes edge-sensord until its last poll began after t0
// (its poll completion time less its duration).
func scrapePolledAfter(t *testing.T, addr string, t0 time.Time) (map[string]*dto.MetricFamily, time.Time) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mfs := scrape(t, addr)
		done := gaugeValue(mfs, "edge_sensor_poll_last_success_timestamp_seconds")
		took := gaugeValue(mfs, "edge_sensor_poll_duration_seconds")
		began := time.Unix(0, int64((done-took)*1e9))
		if began.After(t0) {
			return mfs, began
		}
	}
	t.Fatalf("edge-sensord did not poll after %s", t0)
	return nil, time.Time{}
}

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s/metrics: %v", addr, err)
	}
	return mfs
}

func gaugeValue(mfs map[string]*dto.MetricFamily, name string) float64 {
	if mf := mfs[name]; mf != nil && len(mf.GetMetric()) == 1 {
		return sampleValue(mf.GetMetric()[0])
	}
	return math.NaN()
}

func sortedNames(mfs map[string]*dto.MetricFamily) []string {
	names := make([]string, 0, len(mfs))
	for n := range mfs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// series maps each sample of a family to its value by its sorted labels.
func series(mf *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf.GetMetric() {
		var l []string
		for _, p := range m.GetLabel() {
			l = append(l, fmt.Sprintf("%s=%q", p.GetName(), p.GetValue()))
		}
		sort.Strings(l)
		out["{"+strings.Join(l, ",")+"}"] = sampleValue(m)
	}
	return out
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// compareFamily holds one family of edge-sensord to node_exporter's: the
// same type, the same series (their label names and values), and values
// as close as valueRule allows.
func compareFamily(t *testing.T, tree hostTree, ours, theirs, oursAfter *dto.MetricFamily, all map[string]*dto.MetricFamily) {
	t.Helper()
	name := ours.GetName()
	if theirs == nil {
		t.Errorf("%s: node_exporter has no such family", name)
		return
	}
	if ours.GetType() != theirs.GetType() {
		t.Errorf("%s: type %s, node_exporter's %s", name, ours.GetType(), theirs.GetType())
	}
	a, n := series(ours), series(theirs)
	var b map[string]float64
	if oursAfter != nil {
		b = series(oursAfter)
	}
	// A series may come or go between the reads (a mount, an interface):
	// one of edge-sensord's reads must have node_exporter's series.
	if !sameKeys(a, n) && !sameKeys(b, n) {
		t.Errorf("%s: series differ:\nedge-sensord  %v\nnode_exporter %v", name, keys(a), keys(n))
		return
	}
	rule := valueRule(name, tree.static, all)
	for k, nv := range n {
		av, aok := a[k]
		bv, bok := b[k]
		if !aok || !bok {
			continue // the series came or went between the reads
		}
		if msg := rule.check(av, nv, bv); msg != "" {
			t.Errorf("%s%s: edge-sensord %v then %v, node_exporter %v: %s", name, k, av, bv, nv, msg)
		}
	}
}

func sameKeys(a, b map[string]float64) bool { return slices.Equal(keys(a), keys(b)) }

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// rule is how far node_exporter's value may be from edge-sensord's reads
// taken before (a) and after (b) it.
type rule struct {
	exact    bool    // equal (to float rounding: node_exporter divides PSI by 1000 twice, edge-sensord by 1e6 once)
	monotone bool    // a <= n <= b: a counter, read in that order
	slack    float64 // a gauge that moves: within [min(a,b)-s, max(a,b)+s], s = slack + rel*max(|a|,|b|)
	rel      float64
	why      string
}

func (r rule) check(a, n, b float64) string {
	const rel = 1e-12
	near := func(x, y float64) bool { return math.Abs(x-y) <= rel*math.Max(math.Abs(x), math.Abs(y)) }
	switch {
	case r.exact && !(near(a, n) && near(b, n)):
		return "want equal (" + r.why + ")"
	case r.monotone && !((a <= n || near(a, n)) && (n <= b || near(n, b))):
		return "want between edge-sensord's reads (" + r.why + ")"
	}
	if s := r.slack + r.rel*math.Max(math.Abs(a), math.Abs(b)); !r.exact && !r.monotone && (n < math.Min(a, b)-s || n > math.Max(a, b)+s) {
		return fmt.Sprintf("want within %g of edge-sensord's reads (%s)", s, r.why)
	}
	return ""
}

// valueRule says, for each family, why and how much its values may move
// between the reads of the two exporters.
func valueRule(name string, static bool, all map[string]*dto.MetricFamily) rule {
	memTotal := gaugeValue(all, "node_memory_MemTotal_bytes")
	switch {
	case name == "node_time_seconds":
		return rule{slack: 1, why: "the clock moves between the reads"}
	case strings.HasPrefix(name, "node_filesystem_") && (strings.HasSuffix(name, "free_bytes") || strings.HasSuffix(name, "avail_bytes")):
		// Even on the fixture: its mount points are directories on the
		// filesystem of the checkout, which other processes write to.
		return rule{slack: 0.01 * maxSize(all, "node_filesystem_size_bytes"), why: "free space moves as files are written"}
	case name == "node_filesystem_files_free":
		return rule{slack: 0.01 * maxSize(all, "node_filesystem_files"), why: "free inodes move as files are made"}
	case static:
		return rule{exact: true, why: "the fixture's files do not change"}
	case name == "node_memory_MemTotal_bytes" || name == "node_memory_SwapTotal_bytes" || name == "node_boot_time_seconds" ||
		strings.HasPrefix(name, "node_filesystem_") || name == "node_uname_info" || name == "node_network_up":
		return rule{exact: true, why: "it does not move between two reads"}
	case strings.HasSuffix(name, "_total"):
		return rule{monotone: true, why: "a counter only grows"}
	case strings.HasPrefix(name, "node_memory_"):
		return rule{slack: 0.02 * memTotal, why: "memory in use moves; 2 % of MemTotal"}
	case strings.HasPrefix(name, "node_load"):
		return rule{slack: 1, rel: 0.1, why: "the load average is recomputed every 5 s"}
	case name == "node_disk_io_now":
		return rule{slack: 256, why: "I/Os in flight come and go"}
	}
	// The CPU frequency steps between the reads; a unit error (kHz) is still caught.
	return rule{rel: 1, why: "a gauge that moves (scaling frequency)"}
}

// maxSize is the largest value of a family (the biggest filesystem).
func maxSize(all map[string]*dto.MetricFamily, name string) float64 {
	m := 0.0
	if mf := all[name]; mf != nil {
		for _, s := range mf.GetMetric() {
			m = math.Max(m, sampleValue(s))
		}
	}
	return m
}
