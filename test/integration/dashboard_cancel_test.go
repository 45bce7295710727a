//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAbandonedPanelQueryIsCancelledInPrometheus: a panel query the daemon gives up on (its
// --dashboard.query-timeout) or whose client goes away leaves Prometheus at once: the engine's
// count of running and queued queries (prometheus_engine_queries) drops as soon as the daemon
// answered, or the client left. Prometheus runs one query at a time here, and a long query of
// the test's own holds that slot, so that the daemon's query waits in Prometheus's queue for as
// long as the test needs.
func TestAbandonedPanelQueryIsCancelledInPrometheus(t *testing.T) {
	data := t.TempDir()
	end := time.Now().Add(-time.Hour).Truncate(time.Hour)
	// 100 series of 12 h at 10 s: a quantile over all of them, every 10 s, takes Prometheus minutes.
	fillHistory(t, data, "occupy", 100, end.Add(-12*time.Hour), end, 10*time.Second)
	prom, _, _ := startPrometheusFlags(t, "global: {scrape_interval: 1m}\n", data,
		"--query.max-concurrency=1", "--storage.tsdb.retention.time=12h")
	// Prometheus 2.42 does not interrupt a range function once it evaluates, so the occupying
	// query runs to its end even after the test: stop Prometheus without waiting for it.
	promPID := pidOf(t, "--web.listen-address="+strings.TrimPrefix(prom, "http://"))
	t.Cleanup(func() { syscall.Kill(promPID, syscall.SIGKILL) })
	base := "http://" + startDaemon(t, "--prometheus.url="+prom, "--dashboard.query-timeout=2s")

	occupied := make(chan struct{})
	go func() {
		defer close(occupied)
		q := url.Values{"query": {"sum(quantile_over_time(0.5, occupy[12h]))"}, "start": {fmt.Sprint(end.Add(-12 * time.Hour).Unix())},
			"end": {fmt.Sprint(end.Unix())}, "step": {"10"}, "timeout": {"10m"}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", prom+"/api/v1/query_range?"+q.Encode(), nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	engineQueries := func() float64 {
		v, err := promSelfMetric(prom, "prometheus_engine_queries")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	waitQueries(t, engineQueries, occupied, 1, 30*time.Second)

	// The daemon's own timeout.
	panel := fmt.Sprintf("%s/api/panels/temperature/0?start=%d&end=%d&step=60", base, end.Add(-time.Hour).Unix(), end.Unix())
	answered := make(chan int, 1)
	go func() { code, _ := httpDo(t, "GET", panel, ""); answered <- code }()
	waitQueries(t, engineQueries, occupied, 2, 30*time.Second)
	code := <-answered
	at := time.Now()
	waitQueries(t, engineQueries, occupied, 1, 2*time.Second)
	t.Logf("timeout: answered %d, out of Prometheus %s later", code, time.Since(at).Round(time.Millisecond))
	if code != 503 {
		t.Fatalf("queued panel query answered %d, want 503 at the daemon's timeout", code)
	}

	// The client goes away.
	ctx, leave := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", panel, nil)
		_, err := http.DefaultClient.Do(req)
		left <- err
	}()
	waitQueries(t, engineQueries, occupied, 2, 30*time.Second)
	leave()
	at = time.Now()
	waitQueries(t, engineQueries, occupied, 1, 2*time.Second)
	t.Logf("client gone: out of Prometheus %s later (%v)", time.Since(at).Round(time.Millisecond), <-left)
}

// waitQueries waits until get returns want; it fails the test when the occupying query ended
// first (Prometheus then ran the queued one, and the test proves nothing).
func waitQueries(t *testing.T, get func() float64, occupied <-chan struct{}, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		select {
		case <-occupied:
			t.Fatal("the occupying query ended before the test was done; make it longer")
		default:
		}
		v := get()
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus_engine_queries %v, want %v within %s", v, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
