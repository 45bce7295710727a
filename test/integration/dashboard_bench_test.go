//go:build integration && browser && dashbench

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestDashboardBench measures the dashboard (test/bench/run.sh dashboard; not
// part of `make test`): bytes a first visit transfers, time to the first
// complete page over 12 h of data, edge-sensord's RSS with the page open and
// refreshing against without, and Prometheus's CPU per refresh. Prometheus
// scrapes every 15 s as shipped, on 12 h of backfilled history of the
// daemon's own series. DASH_BENCH_WINDOW (3m) is each RSS/CPU window,
// DASH_BENCH_RUNS (5) the first loads per range, DASH_BENCH_OUT a file for
// the "key value" results.
func TestDashboardBench(t *testing.T) {
	window := envDuration(t, "DASH_BENCH_WINDOW", 3*time.Minute)
	runs, _ := strconv.Atoi(envOr("DASH_BENCH_RUNS", "5"))
	out := newResults(t, os.Getenv("DASH_BENCH_OUT"))

	// Prometheus scrapes the daemon the page talks to; a second daemon with
	// the same sensors shows what its scrapes look like for the backfill.
	daemonAddr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	rules := repoPath(t, "etc/prometheus/rules/edge-observability.yml")
	cfg := fmt.Sprintf(`
global: {scrape_interval: 15s, evaluation_interval: 15s}
rule_files: [%q]
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
`, rules, daemonAddr)

	// 12 h of history: the daemon's series every 15 s, made into blocks by
	// promtool, then the recording rules evaluated over them, also by
	// promtool.
	data := t.TempDir()
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	start := end.Add(-12 * time.Hour)
	backfill(t, "http://"+startDaemon(t, "--path.sysfs="+repoPath(t, "test/fixtures/host/sys"), "--prometheus.url="), daemonAddr, data, start, end)
	prom, _, stopProm := startPrometheusData(t, cfg, data)
	ruleBlocks := t.TempDir()
	promtool(t, "tsdb", "create-blocks-from", "rules", "--url="+prom, "--output-dir="+ruleBlocks,
		fmt.Sprintf("--start=%d", start.Unix()), fmt.Sprintf("--end=%d", end.Unix()), "--eval-interval=15s", rules)
	stopProm()
	moveBlocks(t, ruleBlocks, data)
	prom, _, _ = startPrometheusData(t, cfg, data)
	promPID := pidOf(t, "--web.listen-address="+strings.TrimPrefix(prom, "http://"))

	// As shipped: 5 s polls, the query proxy on that Prometheus.
	base := "http://" + startDaemon(t, "--path.sysfs="+repoPath(t, "test/fixtures/host/sys"), "--web.listen-address="+daemonAddr, "--poll.interval=5s", "--prometheus.url="+prom)
	daemonPID := pidOf(t, "--web.listen-address="+daemonAddr)
	doc := dashboardDoc(t, base)

	for _, rng := range []string{"12h", "1h"} {
		var ms []float64
		for i := 0; i < runs; i++ {
			b := newBrowser(t, base)
			sizes := b.recordTransfers()
			b.viewport(1280, 900, false)
			b.run(chromedp.Navigate(base + "/#range=" + rng))
			b.waitAllPanels(doc)
			ms = append(ms, eval[float64](b, `edgeDashboard.firstRenderMs`))
			if i == 0 {
				static, dynamic := sizes()
				out.add("transfer_static_gzip_bytes_"+rng, static)
				out.add("transfer_data_gzip_bytes_"+rng, dynamic)
			}
			b.assertClean(false)
			b.close()
		}
		slices.Sort(ms)
		out.add("first_render_ms_median_"+rng, ms[len(ms)/2])
		out.add("first_render_ms_max_"+rng, ms[len(ms)-1])
	}

	// RSS and Prometheus CPU, first without the page, then with it open.
	idleMax, idleRSS, idleCPU := watch(t, daemonPID, promPID, window)
	b := newBrowser(t, base)
	b.viewport(1280, 900, false)
	b.run(chromedp.Navigate(base + "/#range=1h"))
	b.waitAllPanels(doc)
	before := eval[int](b, `edgeDashboard.refreshes`)
	openMax, openRSS, openCPU := watch(t, daemonPID, promPID, window)
	refreshes := eval[int](b, `edgeDashboard.refreshes`) - before
	b.assertClean(false)
	out.add("daemon_rss_kib_max_without_page", idleMax)
	out.add("daemon_rss_kib_max_with_page", openMax)
	out.add("daemon_rss_kib_without_page", idleRSS)
	out.add("daemon_rss_kib_with_page", openRSS)
	out.add("page_refreshes_in_window", float64(refreshes))
	out.add("prometheus_cpu_ms_window_without_page", idleCPU)
	out.add("prometheus_cpu_ms_window_with_page", openCPU)
	if refreshes > 0 {
		out.add("prometheus_cpu_ms_per_refresh", (openCPU-idleCPU)/float64(refreshes))
	}
}

// moveBlocks moves the block directories promtool wrote (under data/ for
// rules) into Prometheus's data directory.
func moveBlocks(t *testing.T, from, to string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(from, "*", "meta.json"))
	more, _ := filepath.Glob(filepath.Join(from, "*", "*", "meta.json"))
	for _, meta := range append(dirs, more...) {
		block := filepath.Dir(meta)
		if err := os.Rename(block, filepath.Join(to, filepath.Base(block))); err != nil {
			t.Fatal(err)
		}
	}
	if len(dirs)+len(more) == 0 {
		t.Fatalf("promtool wrote no blocks under %s", from)
	}
}

// watch samples for d and returns the daemon's highest and last RSS (KiB)
// and the CPU time Prometheus used meanwhile (ms).
func watch(t *testing.T, daemonPID, promPID int, d time.Duration) (maxKiB, lastKiB, promCPUms float64) {
	t.Helper()
	cpu0 := cpuMillis(t, promPID)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
		lastKiB = rssKiBOf(t, daemonPID)
		maxKiB = max(maxKiB, lastKiB)
	}
	return maxKiB, lastKiB, cpuMillis(t, promPID) - cpu0
}

func rssKiBOf(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatalf("no VmRSS for %d", pid)
	return 0
}

// cpuMillis is utime+stime of pid, assuming the usual 100 clock ticks a
// second.
func cpuMillis(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) * 10
}

// recordTransfers sums the encoded (on the wire) bytes of every response the
// page loads: its page and assets, and its data (API, readings, queries).
func (b *browser) recordTransfers() func() (static, data float64) {
	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	var st, dyn float64
	chromedp.Listen(b.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFinished:
			u := strings.TrimPrefix(urls[ev.RequestID], b.base)
			if u == "/" || strings.HasPrefix(u, "/#") || strings.HasPrefix(u, "/static/") {
				st += ev.EncodedDataLength
			} else {
				dyn += ev.EncodedDataLength
			}
		}
	})
	return func() (float64, float64) {
		mu.Lock()
		defer mu.Unlock()
		return st, dyn
	}
}

func (b *browser) close() { chromedp.Cancel(b.ctx) }
