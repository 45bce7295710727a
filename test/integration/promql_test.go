//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
)

// promqlExpr is one PromQL expression shipped in the rules file or the dashboard.
type promqlExpr struct {
	where string // e.g. "rule EdgeSensorStale", "panel temperature/0"
	expr  string
	// value is the part that must return data. For alerts it is the expression without its
	// trailing threshold comparison: on a healthy system the alert itself returns nothing.
	value string
	// panel expressions are queried through the daemon's proxy, as the built-in page does.
	panel bool
}

// alertForm splits `<value> <op> <number>`; the rules file writes every alert that way.
var alertForm = regexp.MustCompile(`^(?s)(.+)\s(==|!=|>=|<=|>|<)\s+(-?[0-9.]+(?:e[+-]?[0-9]+)?)$`)

func rulesExprs(t *testing.T, path string) []promqlExpr {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
				Alert  string `yaml:"alert"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []promqlExpr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			e := strings.TrimSpace(r.Expr)
			if r.Record != "" {
				out = append(out, promqlExpr{where: "record " + r.Record, expr: e, value: e})
				continue
			}
			m := alertForm.FindStringSubmatch(e)
			if m == nil {
				t.Errorf("alert %s: expression %q is not of the form `<value> <comparison> <number>`", r.Alert, e)
				continue
			}
			out = append(out, promqlExpr{where: "alert " + r.Alert, expr: e, value: strings.TrimSpace(m[1])})
		}
	}
	return out
}

// panelExprs are the dashboard's queries: those of the built-in page, and of the Grafana
// dashboard, which is generated from the same list (internal/dashboard fails on drift).
func panelExprs() []promqlExpr {
	var out []promqlExpr
	for _, p := range dashboard.Panels() {
		for i, q := range p.Queries {
			out = append(out, promqlExpr{where: fmt.Sprintf("panel %s/%d", p.ID, i), expr: q.Expr, value: q.Expr, panel: true})
		}
	}
	return out
}

// promInstant runs an instant query. A PromQL parse error is an HTTP 400 with status "error".
func promInstant(base, q string) (n int, err error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		return 0, fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "scalar", "string":
		return 1, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &list); err != nil {
		return 0, err
	}
	return len(list), nil
}

// TestShippedPromQLReturnsData: every expression of the rules file and of the dashboard is
// valid PromQL for the real Prometheus and returns data when Prometheus scrapes the real daemon
// with the shipped configuration, and every rule evaluates without error. The dashboard's
// queries go through the daemon's query proxy.
func TestShippedPromQLReturnsData(t *testing.T) {
	rulesFile := repoPath(t, "etc/prometheus/rules/edge-observability.yml")
	exprs := append(rulesExprs(t, rulesFile), panelExprs()...)
	if len(exprs) < 20 {
		t.Fatalf("found only %d expressions", len(exprs))
	}

	// The daemon starts after Prometheus (it proxies to it) on an address chosen now.
	daemon := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))

	// The shipped prometheus.yml, with 1s intervals, the daemon's address and the rules file
	// of the repository.
	shipped, err := os.ReadFile(repoPath(t, "etc/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(shipped)
	for old, repl := range map[string]string{
		"scrape_interval: 15s":                "scrape_interval: 1s",
		"evaluation_interval: 15s":            "evaluation_interval: 1s",
		"scrape_timeout: 10s":                 "scrape_timeout: 1s",
		"127.0.0.1:8000":                      daemon,
		"/etc/edge-observability/rules/*.yml": rulesFile,
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("shipped prometheus.yml no longer contains %q", old)
		}
		cfg = strings.ReplaceAll(cfg, old, repl)
	}
	prom := startPrometheus(t, cfg)
	// The fixture cgroup tree nests the slice under edge.slice; fixture sysfs has broken
	// attributes, so read error counters exist.
	startDaemon(t, "--cgroup.slice=edge.slice/edge-observability.slice", "--web.listen-address="+daemon, "--prometheus.url="+prom)

	// Poll until everything has data (range functions need a few scrapes, recording rules an
	// evaluation); report what is still missing at the deadline.
	deadline := time.Now().Add(90 * time.Second)
	var problems []string
	for {
		problems = problems[:0]
		if n, err := promInstant(prom, `count_over_time(up{job="edge-sensord"}[1m]) >= 10`); err != nil || n == 0 {
			problems = append(problems, fmt.Sprintf("fewer than 10 scrapes of edge-sensord yet (%v)", err))
		}
		for _, e := range exprs {
			base := prom
			if e.panel {
				base = "http://" + daemon
			}
			if _, err := promInstant(base, e.expr); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q: %v", e.where, e.expr, err))
				continue
			}
			n, err := promInstant(base, e.value)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q: %v", e.where, e.value, err))
			} else if n == 0 {
				problems = append(problems, fmt.Sprintf("%s: %q returned no data", e.where, e.value))
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, p := range problems {
		t.Error(p)
	}

	// Rule evaluation errors (e.g. many-to-many matching) only show in the rules API.
	resp, err := http.Get(prom + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			loaded++
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q %s", r.Name, r.Health, r.LastError)
			}
		}
	}
	if want := len(rulesExprs(t, rulesFile)); loaded != want {
		t.Errorf("Prometheus loaded %d rules, the file has %d", loaded, want)
	}
	t.Logf("%d expressions checked against %s scraping %s", len(exprs), prom, daemon)
}
