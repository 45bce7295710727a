//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"golang.org/x/crypto/bcrypt"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
)

// httpDo sends a request and returns the status and body.
func httpDo(t *testing.T, method, target, form string, user ...string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(user) == 2 {
		req.SetBasicAuth(user[0], user[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type promAnswer struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

func decodeAnswer(t *testing.T, what string, b []byte) promAnswer {
	t.Helper()
	var a promAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: not Prometheus's JSON: %q", what, b)
	}
	return a
}

// promCounter reads one counter of Prometheus's own metrics.
func promCounter(t *testing.T, prom, name, handler string) float64 {
	t.Helper()
	_, b := httpDo(t, "GET", prom+"/metrics", "")
	var v float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, `handler="`+handler+`"`) {
			var x float64
			fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &x)
			v += x
		}
	}
	return v
}

// TestDashboardProxyAgainstPrometheus: the real daemon runs the panels' own queries on the
// real Prometheus and answers what Prometheus answers for the panel list's expression; it
// refuses what is over its limits, and any PromQL of the client's, without asking Prometheus,
// and nothing else of Prometheus is reachable through it.
func TestDashboardProxyAgainstPrometheus(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	prom := startPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: edge-sensord
    static_configs:
      - targets: [%q]
`, addr))
	startDaemon(t, "--web.listen-address="+addr, "--prometheus.url="+prom, "--dashboard.max-points=100")
	base := "http://" + addr

	code, b := httpDo(t, "GET", base+"/api/dashboard", "")
	var doc dashboard.Document
	if err := json.Unmarshal(b, &doc); err != nil || code != 200 {
		t.Fatalf("/api/dashboard: %d %s", code, b)
	}
	if !doc.History || doc.MaxPoints != 100 || doc.RefreshSeconds != 15 || !reflect.DeepEqual(doc.Panels, dashboard.Panels()) {
		t.Fatalf("/api/dashboard: %s", b)
	}
	waitScrapes(t, prom, 10)

	// A timeseries panel's query over a range, and a stat panel's at an instant, answer what
	// Prometheus answers for the panel's expression directly. The times lie in the past, so
	// both read the same samples.
	end := time.Now().Add(-3 * time.Second).Unix()
	span := url.Values{"start": {fmt.Sprint(end - 60)}, "end": {fmt.Sprint(end)}, "step": {"1"}}
	at := url.Values{"time": {fmt.Sprint(end)}}
	for _, c := range []struct {
		panel, api string
		params     url.Values
	}{{"temperature", "query_range", span}, {"sources", "query", at}} {
		p := panelByID(t, c.panel)
		direct := url.Values{"query": {p.Queries[0].Expr}}
		for k, v := range c.params {
			direct[k] = v
		}
		_, d := httpDo(t, "GET", prom+"/api/v1/"+c.api+"?"+direct.Encode(), "")
		want := decodeAnswer(t, "direct", d)
		if want.Status != "success" || !strings.Contains(string(want.Data), "simulated") {
			t.Fatalf("direct %s: %s", c.panel, d)
		}
		code, b := httpDo(t, "GET", base+"/api/panels/"+c.panel+"/0?"+c.params.Encode(), "")
		if got := decodeAnswer(t, c.panel, b); code != 200 || !reflect.DeepEqual(got, want) {
			t.Fatalf("panel %s through the daemon: %d %s\ndirect: %s", c.panel, code, b, d)
		}
	}

	// Over the limits, a client's PromQL, free-form query paths: refused by the daemon,
	// Prometheus never asked.
	before := promCounter(t, prom, "prometheus_http_requests_total", "/api/v1/query_range") +
		promCounter(t, prom, "prometheus_http_requests_total", "/api/v1/query")
	for _, c := range []struct {
		path string
		code int
	}{
		{"/api/panels/temperature/0?" + url.Values{"start": {fmt.Sprint(end - 60)}, "end": {fmt.Sprint(end)}, "step": {"0.5"}}.Encode(), 400}, // 121 points
		{"/api/panels/temperature/0?" + url.Values{"start": {fmt.Sprint(end - 86400)}, "end": {fmt.Sprint(end)}, "step": {"3600"}}.Encode(), 400},
		{"/api/panels/temperature/0?" + span.Encode() + "&query=up", 400},
		{"/api/panels/nope/0?" + span.Encode(), 404},
		{"/api/v1/query?query=" + url.QueryEscape(`{__name__=~".+"}[12h]`), 404},
		{"/api/v1/query_range?" + url.Values{"query": {"up"}, "start": {fmt.Sprint(end - 60)}, "end": {fmt.Sprint(end)}, "step": {"1"}}.Encode(), 404},
	} {
		code, b := httpDo(t, "GET", base+c.path, "")
		if a := decodeAnswer(t, c.path, b); code != c.code || a.Status != "error" || a.Error == "" {
			t.Fatalf("%s: %d %s", c.path, code, b)
		}
	}
	after := promCounter(t, prom, "prometheus_http_requests_total", "/api/v1/query_range") +
		promCounter(t, prom, "prometheus_http_requests_total", "/api/v1/query")
	if after != before {
		t.Fatalf("refused requests reached Prometheus (%v -> %v requests)", before, after)
	}

	// Nothing else: the test's Prometheus runs with --web.enable-lifecycle, so a forwarded
	// /-/quit would stop it.
	for _, c := range []struct{ method, path string }{
		{"POST", "/-/quit"}, {"PUT", "/-/quit"}, {"POST", "/-/reload"},
		{"POST", "/api/v1/admin/tsdb/snapshot"}, {"POST", "/api/v1/admin/tsdb/delete_series?match[]=up"},
		{"POST", "/api/v1/write"}, {"GET", "/api/v1/labels"}, {"GET", "/api/v1/series?match[]=up"},
		{"GET", "/api/v1/status/flags"}, {"GET", "/federate?match[]=up"},
	} {
		if code, b := httpDo(t, c.method, base+c.path, ""); code != 404 {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, b)
		}
	}
	if code, _ := httpDo(t, "GET", prom+"/-/ready", ""); code != 200 {
		t.Fatalf("Prometheus not ready after the refused requests: %d", code)
	}
}

// waitScrapes waits until Prometheus holds n scrapes of the job edge-sensord.
func waitScrapes(t *testing.T, prom string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if v, ok := promQuery(t, prom, `count_over_time(up{job="edge-sensord"}[1m])`); ok && v >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d scrapes within 60s", n)
		}
		time.Sleep(time.Second)
	}
}

func panelByID(t *testing.T, id string) dashboard.Panel {
	t.Helper()
	for _, p := range dashboard.Panels() {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no panel %q", id)
	return dashboard.Panel{}
}

// TestDashboardProxyWithoutPrometheus: history off and a Prometheus that is down both answer
// 503 with a message, in Prometheus's error format.
func TestDashboardProxyWithoutPrometheus(t *testing.T) {
	for _, c := range []struct {
		url     string
		history bool
		msg     string
	}{
		{"", false, "history is off"},
		{fmt.Sprintf("http://127.0.0.1:%d", freeport.Port(t)), true, "is not answering"},
	} {
		base := "http://" + startDaemon(t, "--prometheus.url="+c.url)
		_, b := httpDo(t, "GET", base+"/api/dashboard", "")
		var doc dashboard.Document
		if err := json.Unmarshal(b, &doc); err != nil || doc.History != c.history {
			t.Fatalf("--prometheus.url=%q: /api/dashboard %s", c.url, b)
		}
		for _, path := range []string{"/api/panels/stale/0", "/api/alerts"} {
			code, b := httpDo(t, "GET", base+path, "")
			if a := decodeAnswer(t, path, b); code != 503 || a.Status != "error" || a.ErrorType != "unavailable" || !strings.Contains(a.Error, c.msg) {
				t.Fatalf("--prometheus.url=%q: %s: %d %s", c.url, path, code, b)
			}
		}
	}
}

// TestDashboardBehindBasicAuth: the web config's basic auth covers the dashboard API and the
// proxy as it covers /metrics.
func TestDashboardBehindBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("basic_auth_users:\n  admin: %s\n", hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	// No Prometheus: an authorized query gets 503 from the proxy, an unauthorized one 401 before it.
	base := "http://" + startDaemon(t, "--web.config.file="+cfg, "--prometheus.url=")
	for _, path := range []string{"/metrics", "/api/dashboard", "/api/panels/stale/0", "/api/panels/temperature/0?start=0&end=60&step=15", "/api/alerts"} {
		if code, _ := httpDo(t, "GET", base+path, ""); code != 401 {
			t.Errorf("%s without credentials: %d", path, code)
		}
		if code, _ := httpDo(t, "GET", base+path, "", "admin", "wrong"); code != 401 {
			t.Errorf("%s with a wrong password: %d", path, code)
		}
	}
	if code, b := httpDo(t, "GET", base+"/api/dashboard", "", "admin", "s3cret"); code != 200 {
		t.Fatalf("/api/dashboard with credentials: %d %s", code, b)
	}
	if code, b := httpDo(t, "GET", base+"/api/panels/stale/0", "", "admin", "s3cret"); code != 503 {
		t.Fatalf("query with credentials, history off: %d %s", code, b)
	}
}

// TestDashboardWarnsWhenBudgetNotEnforced: the cgroup problems the daemon detects reach the
// page through /api/dashboard.
func TestDashboardWarnsWhenBudgetNotEnforced(t *testing.T) {
	for _, c := range []struct {
		cgroup, proc string
		warn         bool
	}{
		{"test/fixtures/cgroup/v2-nomemory", "test/fixtures/proc/pi-6.12", true},
		{"test/fixtures/cgroup/v2", "test/fixtures/proc/pi-6.12-enabled", false},
	} {
		base := "http://" + startDaemon(t, "--path.cgroupfs="+repoPath(t, c.cgroup), "--path.procfs="+repoPath(t, c.proc))
		_, b := httpDo(t, "GET", base+"/api/dashboard", "")
		var doc dashboard.Document
		if err := json.Unmarshal(b, &doc); err != nil || doc.Warnings == nil {
			t.Fatalf("%s: /api/dashboard %s", c.cgroup, b)
		}
		got := strings.Join(doc.Warnings, "; ")
		if c.warn != strings.Contains(got, "memory budget NOT enforced") {
			t.Errorf("%s, %s: warnings %q", c.cgroup, c.proc, doc.Warnings)
		}
	}
}
