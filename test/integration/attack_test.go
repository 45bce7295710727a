//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/freeport"
	"github.com/edgeobs/edge-observability-stack/internal/web"
)

// attacker is the LAN client of the attack: another address than the dashboard's (127.0.0.1).
const attacker = "127.0.0.2"

// TestAttackThroughTheDaemon floods the daemon's port with the worst requests a client can
// send, while a real Prometheus, started as the package starts it (edgectl prometheus-exec,
// the drop-in's flags and environment) inside a memory cgroup at the drop-in's MemoryMax,
// holds 12 h of history of 800 series and scrapes a real edge-sensord. Passes when Prometheus
// keeps its PID and is never OOM-killed, keeps ingesting without a gap over two scrape
// intervals, the dashboard's own queries keep answering (after 503 + Retry-After at worst),
// and every request of the attack is answered within the daemon's query timeout.
// ATTACK_DURATION (90s) is the flood's length; ATTACK_OUT a file for the figures.
func TestAttackThroughTheDaemon(t *testing.T) {
	flood := envDuration(t, "ATTACK_DURATION", 90*time.Second)
	out := newResults(t, os.Getenv("ATTACK_OUT"))
	u := readShippedUnit(t)
	cg := newMemCgroup(t, u.memMax, u.memHigh)

	// 12 h of history: the daemon's series as it would have been scraped, and random-valued
	// series beside them, 800 in all.
	daemonAddr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	data := t.TempDir()
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	backfillWith(t, "http://"+startDaemon(t, "--prometheus.url="), daemonAddr, data, end.Add(-12*time.Hour), end, 600)
	const scrape = 5 * time.Second
	p := startShippedPrometheus(t, u, cg, func(addr string) string {
		return fmt.Sprintf(`
global: {scrape_interval: %s, evaluation_interval: %s}
rule_files: [%q]
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
  - job_name: prometheus
    static_configs: [{targets: [%q]}]
`, scrape, scrape, repoPath(t, "etc/prometheus/rules/edge-observability.yml"), daemonAddr, addr)
	}, data)
	// The daemon as its unit runs it: its environment, in a memory cgroup at its MemoryMax.
	du := readUnitFile(t, "systemd/edge-sensord.service")
	dcg := newMemCgroup(t, du.memMax, du.memHigh)
	daemonListen, _ := startDaemonIn(t, dcg, du.env, "--web.listen-address="+daemonAddr, "--poll.interval=5s", "--prometheus.url="+p.base)
	base := "http://" + daemonListen
	daemonPID := pidOf(t, "--web.listen-address="+daemonAddr)
	waitScrapes(t, p.base, 3)
	limits := web.DefaultQueryLimits()
	checkPanelCost(t, u, p.base, limits, out)
	oom0 := cg.oomKills()
	cg.takePeak()
	cg.takeAnonPeak()
	dcg.takePeak()

	ctx, stop := context.WithTimeout(context.Background(), flood)
	defer stop()
	start := time.Now()
	log := &attackLog{}
	var wg sync.WaitGroup
	for _, run := range []func(){
		func() { floodPanels(ctx, base, limits, 32, log) },
		func() { burstPanels(ctx, base, limits, 200, log) },
		func() { rawRequests(ctx, daemonAddr, log) },
		func() { slowClients(ctx, daemonAddr, limits, log) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	page := playDashboard(ctx, base, limits)
	wg.Wait()
	stopped := time.Now()
	time.Sleep(2 * scrape)

	checkPrometheusSurvived(t, p, cg, oom0, start, stopped, scrape)
	checkOldQueriesRefused(t, p, cg, oom0, out)
	checkAnswers(t, log, limits.Timeout, out)
	checkDashboardAnswered(t, page, out)
	if dcg.oomKills() != 0 || pidOf(t, "--web.listen-address="+daemonAddr) != daemonPID {
		t.Errorf("edge-sensord (PID %d) OOM-killed %d times or restarted", daemonPID, dcg.oomKills())
	}
	out.add("prometheus_peak_mib", mib(cg.takePeak()))
	out.add("prometheus_anon_peak_mib", mib(cg.takeAnonPeak()))
	out.add("daemon_peak_mib", mib(dcg.takePeak()))
	out.add("daemon_peak_rss_kib", float64(statusKiB(t, daemonPID, "VmHWM")))
	out.add("flood_seconds", stopped.Sub(start).Seconds())
}

// checkPanelCost: every panel's queries, at the longest range and the most points the daemon
// allows, stay within Prometheus's --query.max-samples; the costliest one's count (Prometheus's
// own, peakSamples of stats=all) is reported.
func checkPanelCost(t *testing.T, u shippedUnit, prom string, l web.QueryLimits, out *results) {
	t.Helper()
	var worst struct {
		peak  int
		query string
	}
	end := time.Now().Unix()
	secs := int64(l.MaxRange.Seconds())
	step := secs/int64(l.MaxPoints-1) + 1
	for _, p := range dashboard.Panels() {
		for i, q := range p.Queries {
			v := url.Values{"query": {q.Expr}, "stats": {"all"}, "time": {fmt.Sprint(end)}}
			api := "query"
			if p.Kind != dashboard.KindStat {
				v = url.Values{"query": {q.Expr}, "stats": {"all"}, "start": {fmt.Sprint(end - secs)}, "end": {fmt.Sprint(end)}, "step": {fmt.Sprint(step)}}
				api = "query_range"
			}
			code, b := httpDo(t, "GET", prom+"/api/v1/"+api+"?"+v.Encode(), "")
			var r struct {
				Data struct {
					Stats struct{ Samples struct{ PeakSamples int } }
				}
			}
			if err := json.Unmarshal(b, &r); err != nil || code != 200 {
				t.Fatalf("panel %s/%d at the longest range (over --query.max-samples=%s?): %d %s", p.ID, i, u.flag("query.max-samples"), code, b)
			}
			if n := r.Data.Stats.Samples.PeakSamples; n > worst.peak {
				worst.peak, worst.query = n, fmt.Sprintf("%s/%d %s", p.ID, i, q.Expr)
			}
		}
	}
	out.add("panel_peak_samples_max", float64(worst.peak))
	t.Logf("costliest panel query at the longest range: %s, %d samples at once (--query.max-samples=%s)", worst.query, worst.peak, u.flag("query.max-samples"))
}

// outcome is one request of the attack: its kind, the status answered (0: the server closed
// the connection without one) and the time to it.
type outcome struct {
	kind   string
	status int
	took   time.Duration
	err    string
}

type attackLog struct {
	mu       sync.Mutex
	outcomes []outcome
}

func (a *attackLog) add(o outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outcomes = append(a.outcomes, o)
}

// attackerClient is an HTTP client from the attacker's address.
func attackerClient(conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(attacker)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: d.DialContext,
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}}
}

// panelTargets are every query of every panel, a chart's over the longest range at the most
// points the daemon allows, a stat panel's now.
func panelTargets(base string, l web.QueryLimits, span time.Duration, points int) []string {
	var out []string
	end := time.Now().Unix()
	secs := int64(span.Seconds())
	step := secs/int64(points-1) + 1
	for _, p := range dashboard.Panels() {
		for i := range p.Queries {
			q := url.Values{"time": {fmt.Sprint(end)}}
			if p.Kind != dashboard.KindStat {
				q = url.Values{"start": {fmt.Sprint(end - secs)}, "end": {fmt.Sprint(end)}, "step": {fmt.Sprint(step)}}
			}
			out = append(out, fmt.Sprintf("%s/api/panels/%s/%d?%s", base, p.ID, i, q.Encode()))
		}
	}
	return out
}

// get sends one GET and records its outcome; the body is read and dropped.
func get(ctx context.Context, c *http.Client, kind, target string, log *attackLog) {
	req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			log.add(outcome{kind: kind, took: time.Since(t0), err: err.Error()})
		}
		return
	}
	took := time.Since(t0)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	log.add(outcome{kind: kind, status: resp.StatusCode, took: took})
}

// floodPanels: conns connections asking for every panel at the longest range and the most
// points, without a pause, and with the free-form queries that used to be forwarded.
func floodPanels(ctx context.Context, base string, l web.QueryLimits, conns int, log *attackLog) {
	c := attackerClient(conns)
	targets := panelTargets(base, l, l.MaxRange, l.MaxPoints)
	n := len(targets)
	for _, q := range []string{`{__name__=~".+"}[12h]`, `max_over_time(rate({__name__=~".+"}[1m])[12h:1s])`} {
		targets = append(targets, base+"/api/v1/query?"+url.Values{"query": {q}}.Encode())
	}
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				kind := map[bool]string{true: "panel", false: "free-form"}[i%len(targets) < n]
				get(ctx, c, kind, targets[i%len(targets)], log)
			}
		}()
	}
	wg.Wait()
}

// burstPanels: every 5 s, n new connections at once, each asking for a panel.
func burstPanels(ctx context.Context, base string, l web.QueryLimits, n int, log *attackLog) {
	targets := panelTargets(base, l, l.MaxRange, l.MaxPoints)
	for ctx.Err() == nil {
		c := attackerClient(n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); get(ctx, c, "burst", targets[i%len(targets)], log) }()
		}
		wg.Wait()
		c.CloseIdleConnections()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// rawCase is a request written as bytes: oversized, malformed or otherwise hostile.
type rawCase struct {
	kind string
	req  func() []byte
}

func rawCases() []rawCase {
	panel := "GET /api/panels/temperature/0?start=0&end=3600&step=15"
	return []rawCase{
		{"url-64KiB", func() []byte {
			return []byte(panel + "&x=" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n")
		}},
		{"header-64KiB", func() []byte {
			return []byte(panel + " HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n")
		}},
		{"body-1GiB-announced", func() []byte {
			return []byte(panel + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n" + strings.Repeat("c", 64<<10))
		}},
		{"body-chunked", func() []byte {
			return []byte(panel + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n" + strings.Repeat("d", 64<<10))
		}},
		{"garbage", func() []byte { return []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GARBAGE\r\n\r\n") }},
		{"unknown-panel", func() []byte { return []byte("GET /api/panels/nope/0 HTTP/1.1\r\nHost: x\r\n\r\n") }},
		{"bad-index", func() []byte { return []byte("GET /api/panels/temperature/99 HTTP/1.1\r\nHost: x\r\n\r\n") }},
		{"client-promql", func() []byte { return []byte(panel + "&query=up HTTP/1.1\r\nHost: x\r\n\r\n") }},
		{"over-range", func() []byte {
			return []byte("GET /api/panels/temperature/0?start=0&end=864000&step=3600 HTTP/1.1\r\nHost: x\r\n\r\n")
		}},
		{"admin", func() []byte {
			return []byte("POST /api/v1/admin/tsdb/delete_series?match[]=up HTTP/1.1\r\nHost: x\r\n\r\n")
		}},
		{"quit", func() []byte { return []byte("POST /-/quit HTTP/1.1\r\nHost: x\r\n\r\n") }},
	}
}

// rawRequests sends the raw cases in turn on new connections until ctx ends.
func rawRequests(ctx context.Context, addr string, log *attackLog) {
	for i := 0; ctx.Err() == nil; i++ {
		c := rawCases()[i%len(rawCases())]
		status, took, err := rawExchange(addr, c.req(), 0, 0)
		log.add(outcome{kind: c.kind, status: status, took: took, err: err})
	}
}

// rawExchange writes req (a byte every trickle, when set) on a new connection from the
// attacker's address and reads the status line (0 when the server closed the connection
// instead), then holds the connection open for hold without reading more.
func rawExchange(addr string, req []byte, trickle, hold time.Duration) (int, time.Duration, string) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(attacker)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, 0, err.Error()
	}
	defer conn.Close()
	t0 := time.Now()
	conn.SetDeadline(t0.Add(time.Minute))
	go func() {
		if trickle == 0 {
			conn.Write(req)
			return
		}
		for _, b := range req {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(trickle)
		}
	}()
	line := make([]byte, 12)
	n, err := io.ReadFull(conn, line)
	took := time.Since(t0)
	var status int
	if _, serr := fmt.Sscanf(string(line[:n]), "HTTP/1.1 %d", &status); serr != nil {
		return 0, took, fmt.Sprintf("%q %v", line[:n], err)
	}
	time.Sleep(hold)
	return status, took, ""
}

// slowClients: 20 at a time that send their headers a byte a second (slowloris), and 20 that
// ask for a chart over 12 h and then read nothing for 10 s.
func slowClients(ctx context.Context, addr string, l web.QueryLimits, log *attackLog) {
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				target := panelTargets("", l, l.MaxRange, l.MaxPoints)[i%20]
				req := []byte("GET " + target + " HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 60) + "\r\n\r\n")
				kind, trickle, hold := "slowloris", time.Second, time.Duration(0)
				if i >= 20 {
					kind, trickle, hold = "slow-reader", 0, 10*time.Second
				}
				status, took, err := rawExchange(addr, req, trickle, hold)
				log.add(outcome{kind: kind, status: status, took: took, err: err})
			}
		}()
	}
	wg.Wait()
}

// pageResult is what the dashboard saw during the attack.
type pageResult struct {
	rounds, queries, retried int
	failed                   []string
	longest                  time.Duration // first try to answer, retries included
}

// playDashboard plays the page from the dashboard's own address (127.0.0.1) until ctx ends:
// every 5 s, every panel over 1 h at about a point per pixel of a 300 px chart, and the
// alerts, two at a time, each retried up to three times after the Retry-After of a 503, as
// the page does.
func playDashboard(ctx context.Context, base string, l web.QueryLimits) pageResult {
	var res pageResult
	var mu sync.Mutex
	c := &http.Client{Timeout: 15 * time.Second}
	for ctx.Err() == nil {
		targets := append(panelTargets(base, l, time.Hour, 300), base+"/api/alerts")
		work := make(chan string)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for target := range work {
					tries, took, err := pageQuery(c, target)
					mu.Lock()
					res.queries++
					res.retried += min(tries-1, 1)
					res.longest = max(res.longest, took)
					if err != "" {
						res.failed = append(res.failed, target+": "+err)
					}
					mu.Unlock()
				}
			}()
		}
		for _, target := range targets {
			work <- target
		}
		close(work)
		wg.Wait()
		res.rounds++
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	return res
}

// pageQuery asks for target as the page does; err is "" once it has an answer.
func pageQuery(c *http.Client, target string) (tries int, took time.Duration, err string) {
	t0 := time.Now()
	for tries = 1; ; tries++ {
		resp, e := c.Get(target)
		if e != nil {
			return tries, time.Since(t0), e.Error()
		}
		var body struct{ Status, Error string }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		retry := resp.Header.Get("Retry-After")
		switch {
		case resp.StatusCode == 200 && body.Status == "success":
			return tries, time.Since(t0), ""
		case resp.StatusCode != 503 || retry != "1" || tries > 3:
			return tries, time.Since(t0), fmt.Sprintf("%d after %d tries: %s", resp.StatusCode, tries, body.Error)
		}
		time.Sleep(time.Second + time.Duration(tries)*100*time.Millisecond)
	}
}

// checkPrometheusSurvived: the same Prometheus process, no OOM kill in its cgroup, and both
// jobs' samples every scrape, no gap over two scrape intervals, from before the attack to
// after it, every scrape a success.
func checkPrometheusSurvived(t *testing.T, p *shippedProm, cg *memCgroup, oom0 int, start, stopped time.Time, scrape time.Duration) {
	t.Helper()
	if !p.alive() || cg.oomKills() != oom0 {
		t.Fatalf("Prometheus (PID %d) alive %v, OOM kills in its cgroup %d -> %d", p.pid, p.alive(), oom0, cg.oomKills())
	}
	at := time.Now()
	window := at.Sub(start) + 2*scrape
	for _, job := range []string{"edge-sensord", "prometheus"} {
		q := url.Values{"query": {fmt.Sprintf(`up{job=%q}[%ds]`, job, int(window.Seconds()))}, "time": {fmt.Sprint(at.Unix())}}
		_, b := httpDo(t, "GET", p.base+"/api/v1/query?"+q.Encode(), "")
		var r struct {
			Data struct{ Result []struct{ Values [][2]any } }
		}
		if err := json.Unmarshal(b, &r); err != nil || len(r.Data.Result) != 1 {
			t.Fatalf("up of %s: %s", job, b)
		}
		var times []float64
		for _, v := range r.Data.Result[0].Values {
			times = append(times, v[0].(float64))
			if v[1] != "1" {
				t.Errorf("job %s: a failed scrape at %v", job, v[0])
			}
		}
		gap, gapAt := 0.0, 0.0
		for i := 1; i < len(times); i++ {
			if d := times[i] - times[i-1]; d > gap {
				gap, gapAt = d, times[i-1]
			}
		}
		if gap > 2*scrape.Seconds() {
			t.Errorf("job %s: no sample for %.1fs from %s (attack %s to %s)", job, gap, time.Unix(int64(gapAt), 0).Format(time.TimeOnly),
				start.Format(time.TimeOnly), stopped.Format(time.TimeOnly))
			_, m := httpDo(t, "GET", p.base+"/metrics", "")
			for _, line := range strings.Split(string(m), "\n") {
				if strings.HasPrefix(line, "prometheus_target_interval_length_seconds") || strings.HasPrefix(line, "go_gc_duration") ||
					strings.HasPrefix(line, "prometheus_tsdb_compaction_duration_seconds_sum") || strings.HasPrefix(line, "process_cpu_seconds_total") ||
					strings.HasPrefix(line, "prometheus_target_scrapes_") || strings.HasPrefix(line, "go_memstats_heap_inuse_bytes") {
					t.Log(line)
				}
			}
		}
		if last := float64(at.Unix()) - times[len(times)-1]; gap > 2*scrape.Seconds() || last > 2*scrape.Seconds() || times[0] > float64(start.Unix()) {
			t.Errorf("job %s: %d samples from %.0f, longest gap %.1fs, last %.1fs ago (scrapes every %s)", job, len(times), times[0], gap, last, scrape)
		}
		t.Logf("job %s: %d scrapes over %s, longest gap %.1fs", job, len(times), window.Round(time.Second), gap)
	}
}

// checkOldQueriesRefused sends Prometheus itself, as a tool on the device could, the queries
// that OOM-killed it when the daemon still forwarded any PromQL: its limits refuse them (422).
func checkOldQueriesRefused(t *testing.T, p *shippedProm, cg *memCgroup, oom0 int, out *results) {
	t.Helper()
	for i, q := range []string{`{__name__=~".+"}[12h]`, `max_over_time(rate({__name__=~".+"}[1m])[12h:1s])`} {
		t0 := time.Now()
		code, b := httpDo(t, "GET", p.base+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), "")
		took := time.Since(t0)
		t.Logf("%s directly: %d after %s: %.120s", q, code, took.Round(time.Millisecond), b)
		if code != 422 || !p.alive() || cg.oomKills() != oom0 {
			t.Errorf("%s: %d (alive %v, OOM kills %d)", q, code, p.alive(), cg.oomKills()-oom0)
		}
		out.add(fmt.Sprintf("old_query_%d_status", i), float64(code))
		out.add(fmt.Sprintf("old_query_%d_ms", i), float64(took.Milliseconds()))
	}
}

// wantStatus is what each kind of request must be answered with (a client that never completes
// its headers gets 400 when the server's header timeout strikes, or the connection closed: 0).
var wantStatus = map[string][]int{
	"panel": {200, 503}, "burst": {200, 503}, "slow-reader": {200, 503}, "free-form": {404},
	"url-64KiB": {431}, "header-64KiB": {431}, "body-1GiB-announced": {413}, "body-chunked": {413},
	"garbage": {400}, "unknown-panel": {404}, "bad-index": {404}, "client-promql": {400}, "over-range": {400},
	"admin": {404}, "quit": {404}, "slowloris": {0, 400, 408},
}

// checkAnswers: every request of the attack answered as its kind must be, within the daemon's
// query timeout.
func checkAnswers(t *testing.T, log *attackLog, timeout time.Duration, out *results) {
	t.Helper()
	byStatus, byKind := map[int]int{}, map[string]int{}
	var longest, longestPanel outcome
	for _, o := range log.outcomes {
		byStatus[o.status]++
		byKind[o.kind]++
		if o.took > longest.took {
			longest = o
		}
		if (o.kind == "panel" || o.kind == "burst") && o.took > longestPanel.took {
			longestPanel = o
		}
		if !slices.Contains(wantStatus[o.kind], o.status) || (o.status == 0 && o.kind != "slowloris") {
			t.Errorf("%s: status %d after %s (%s), want one of %v", o.kind, o.status, o.took, o.err, wantStatus[o.kind])
		}
		if o.took > timeout {
			t.Errorf("%s: answered %d after %s, over the query timeout of %s", o.kind, o.status, o.took, timeout)
		}
	}
	out.add("requests", float64(len(log.outcomes)))
	for s, n := range byStatus {
		out.add(fmt.Sprintf("status_%d", s), float64(n))
	}
	for k, n := range byKind {
		out.add("kind_"+k, float64(n))
	}
	out.add("longest_answer_ms", float64(longest.took.Milliseconds()))
	out.add("longest_panel_answer_ms", float64(longestPanel.took.Milliseconds()))
	t.Logf("longest answer: %s %d after %s; of a panel: %d after %s", longest.kind, longest.status, longest.took, longestPanel.status, longestPanel.took)
}

// checkDashboardAnswered: every query of every refresh of the page was answered.
func checkDashboardAnswered(t *testing.T, page pageResult, out *results) {
	t.Helper()
	for _, f := range page.failed {
		t.Errorf("the dashboard's query failed: %s", f)
	}
	if page.rounds < 3 {
		t.Errorf("the dashboard refreshed only %d times", page.rounds)
	}
	out.add("page_refreshes", float64(page.rounds))
	out.add("page_queries", float64(page.queries))
	out.add("page_queries_retried", float64(page.retried))
	out.add("page_longest_ms", float64(page.longest.Milliseconds()))
}

// statusKiB reads a "kB" field of /proc/PID/status (VmHWM: the peak RSS).
func statusKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			var v int
			fmt.Sscan(f[1], &v)
			return v
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
