//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
)

// promqlExpr is one PromQL expression shipped in the rules files or the dashboard.
type promqlExpr struct {
	where string // e.g. "rule EdgeSensorStale", "panel temperature/0"
	expr  string
	// value is the part that must return data. For alerts it is the expression without its
	// trailing threshold comparison: on a healthy system the alert itself returns nothing. Empty
	// for an alert with no such part, which is only evaluated.
	value string
	// record is the name a recording rule records, "" for others.
	record string
	// panelPath is a dashboard query's path on the daemon (/api/panels/ID/N), and chart
	// whether it takes a range; "" for the rules' expressions, which go to Prometheus.
	panelPath string
	chart     bool
	// panel expressions are queried through the daemon's proxy, as the built-in page does.
	panel bool
}

// alertForm splits `<value> <op> <number>` and `<value> <op> on(...) group_left() <threshold>`,
// the forms of the alerts that compare a value with a threshold.
var alertForm = regexp.MustCompile(`^(?s)(.+)\s(==|!=|>=|<=|>|<)\s+(-?[0-9.]+(?:e[+-]?[0-9]+)?|on\s*\([a-z_, ]*\)\s*group_left\s*\(\s*\)\s*edge:alert_threshold:[a-z_]+)$`)

// rulesExprs reads the rules of every rule file.
func rulesExprs(t *testing.T, paths ...string) []promqlExpr {
	t.Helper()
	var out []promqlExpr
	for _, path := range paths {
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
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				e := strings.TrimSpace(r.Expr)
				if r.Record != "" {
					out = append(out, promqlExpr{where: "record " + r.Record, expr: e, value: e, record: r.Record})
					continue
				}
				value := ""
				if m := alertForm.FindStringSubmatch(e); m != nil {
					value = strings.TrimSpace(m[1])
				}
				out = append(out, promqlExpr{where: "alert " + r.Alert, expr: e, value: value})
			}
		}
	}
	return out
}

// shippedRuleFiles are the rule files the package installs in /etc/edge-observability/rules/.
func shippedRuleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(repoPath(t, "etc/prometheus/rules") + "/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	return files
}

// notExportedHere are metrics the rules use that the daemon on this machine and the fixture trees
// may not export: those of the host collectors, and of hardware the test machine lacks. A rule
// using one is still evaluated; it must return data only once all of its metrics are exported.
var notExportedHere = map[string]string{
	"node_filesystem_avail_bytes":                "host collectors",
	"node_filesystem_free_bytes":                 "host collectors",
	"node_filesystem_size_bytes":                 "host collectors",
	"node_filesystem_readonly":                   "host collectors",
	"node_memory_MemAvailable_bytes":             "host collectors",
	"node_memory_MemTotal_bytes":                 "host collectors",
	"node_pressure_memory_stalled_seconds_total": "host collectors, kernels with PSI",
	"node_time_seconds":                          "host collectors",
	"node_boot_time_seconds":                     "host collectors",
	"node_network_up":                            "host collectors",
	"node_network_info":                          "host collectors",
	"node_network_route_info":                    "host collectors",
	"edge_rpi_throttle":                          "Raspberry Pi firmware",
	"edge_mmc_pre_eol":                           "eMMC",
	"edge_mmc_life_time_used_ratio":              "eMMC",
	"node_cpu_scaling_frequency_hertz":           "cpufreq, which many virtual machines lack",
}

// noDataWhenHealthy are rules whose value part is empty on a healthy machine by design.
var noDataWhenHealthy = map[string]string{
	"alert EdgeNoSamplesStored":              "absent() of what is stored",
	"alert EdgeFilesystemFillingUp":          "only a filesystem whose free space falls has a time to full",
	"record edge:filesystem_full_in:seconds": "only a filesystem whose free space falls has a time to full",
}

var (
	nameMatcher   = regexp.MustCompile(`__name__\s*=~\s*"([^"]*)"`)
	labelMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	labelLists    = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	quoted        = regexp.MustCompile(`"[^"]*"`)
	ranges        = regexp.MustCompile(`\[[^\]]*\]`)
	identifier    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	keywords      = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
)

// metricNames returns the metric names an expression selects, and the regular expressions of its
// {__name__=~"..."} selectors.
func metricNames(expr string) (names, regexps []string) {
	for _, m := range nameMatcher.FindAllStringSubmatch(expr, -1) {
		regexps = append(regexps, m[1])
	}
	e := labelMatchers.ReplaceAllString(expr, " ")
	e = labelLists.ReplaceAllString(e, " ")
	e = quoted.ReplaceAllString(e, " ")
	e = ranges.ReplaceAllString(e, " ")
	for _, m := range identifier.FindAllStringIndex(e, -1) {
		word, before, after := e[m[0]:m[1]], e[:m[0]], strings.TrimLeft(e[m[1]:], " \t\n")
		if strings.HasSuffix(before, ".") || (before != "" && before[len(before)-1] >= '0' && before[len(before)-1] <= '9') {
			continue // the exponent of a number, e.g. 1e21
		}
		if !strings.HasPrefix(after, "(") && !keywords[strings.ToLower(word)] {
			names = append(names, word)
		}
	}
	return names, regexps
}

// exportedNames are the metric names of a /metrics page.
func exportedNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	names := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		names[strings.FieldsFunc(l, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return names
}

// available are the metric names with data: those exported, those Prometheus adds to every
// scrape, and those recorded by rules whose own inputs are all available.
func available(exported map[string]bool, exprs []promqlExpr) map[string]bool {
	have := map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}
	for n := range exported {
		have[n] = true
	}
	for changed := true; changed; {
		changed = false
		for _, e := range exprs {
			if e.record != "" && !have[e.record] && inputsAvailable(e.expr, have) {
				have[e.record], changed = true, true
			}
		}
	}
	return have
}

// inputsAvailable: every metric the expression selects is available, user thresholds (optional
// by design) aside, and each __name__ regexp matches an available name.
func inputsAvailable(expr string, have map[string]bool) bool {
	names, regexps := metricNames(expr)
	for _, n := range names {
		if !have[n] && !strings.HasPrefix(n, "edge:threshold:") {
			return false
		}
	}
	for _, r := range regexps {
		re := regexp.MustCompile("^(?:" + r + ")$")
		if !slices.ContainsFunc(slices.Collect(maps.Keys(have)), re.MatchString) {
			return false
		}
	}
	return true
}

// checkNames: every metric a rule selects is exported by the daemon here, recorded by a rule, a
// user threshold, or one of notExportedHere; a misspelt name is none of these.
func checkNames(t *testing.T, exprs []promqlExpr, have map[string]bool) {
	t.Helper()
	recorded := map[string]bool{}
	for _, e := range exprs {
		recorded[e.record] = true
	}
	for _, e := range exprs {
		names, regexps := metricNames(e.expr)
		for _, n := range names {
			if !have[n] && !recorded[n] && notExportedHere[n] == "" && !strings.HasPrefix(n, "edge:threshold:") {
				t.Errorf("%s: selects %s, which nothing exports or records", e.where, n)
			}
		}
		for _, r := range regexps {
			re := regexp.MustCompile("^(?:" + r + ")$")
			if !slices.ContainsFunc(slices.Collect(maps.Keys(have)), re.MatchString) {
				t.Errorf("%s: __name__=~%q matches no exported metric", e.where, r)
			}
		}
	}
}

func TestMetricNamesOfExpressions(t *testing.T) {
	names, regexps := metricNames(`label_replace({__name__=~"edge_sensor_(a|b)"}, "unit", "$1", "__name__", "x") >= on(job, instance) group_left() max by (sensor) (rate(foo_total{a="b"}[5m]) * 1e21) or vector(0.9) unless bar`)
	if strings.Join(names, ",") != "foo_total,bar" || strings.Join(regexps, ",") != "edge_sensor_(a|b)" {
		t.Errorf("names %v, regexps %v", names, regexps)
	}
	names, _ = metricNames("group by (job, mountpoint) (node_filesystem_readonly == 0)\n  * 0 + on(mountpoint) group_left() edge:threshold:x{mountpoint!=\"\"}\nor\n(edge:threshold:x or vector(0.9))")
	if strings.Join(names, ",") != "node_filesystem_readonly,edge:threshold:x,edge:threshold:x" {
		t.Errorf("names %v", names)
	}
}

// panelExprs are the dashboard's queries: those of the built-in page, and of the Grafana
// dashboard, which is generated from the same list (internal/dashboard fails on drift).
func panelExprs() []promqlExpr {
	var out []promqlExpr
	for _, p := range dashboard.Panels() {
		for i, q := range p.Queries {
			out = append(out, promqlExpr{where: fmt.Sprintf("panel %s/%d", p.ID, i), expr: q.Expr, value: q.Expr, panel: true,
				panelPath: fmt.Sprintf("/api/panels/%s/%d", url.PathEscape(p.ID), i), chart: p.Kind != "stat"})
		}
	}
	return out
}

// promInstant runs an instant query. A PromQL parse error is an HTTP 400 with status "error".
func promInstant(base, q string) (n int, err error) {
	return promResult(base + "/api/v1/query?query=" + url.QueryEscape(q))
}

// panelResult asks the daemon at base for a dashboard query, as the page does: a chart over
// the last 5 minutes, a stat now.
func panelResult(base string, e promqlExpr) (n int, err error) {
	now := time.Now().Unix()
	params := url.Values{"time": {fmt.Sprint(now)}}
	if e.chart {
		params = url.Values{"start": {fmt.Sprint(now - 300)}, "end": {fmt.Sprint(now)}, "step": {"15"}}
	}
	return promResult(base + e.panelPath + "?" + params.Encode())
}

// promResult gets a query's answer in Prometheus's form and counts its series.
func promResult(u string) (n int, err error) {
	resp, err := http.Get(u)
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
	ruleFiles := shippedRuleFiles(t)
	exprs := append(rulesExprs(t, ruleFiles...), panelExprs()...)
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
		"/etc/edge-observability/rules/*.yml": repoPath(t, "etc/prometheus/rules") + "/*.yml",
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
	// evaluation); report what is still missing at the deadline. A value needs data only when
	// all its inputs are exported here.
	deadline := time.Now().Add(90 * time.Second)
	var problems []string
	var have map[string]bool
	for {
		problems = problems[:0]
		// Some series appear only after a few polls (host CPU needs two samples).
		have = available(exportedNames(t, "http://"+daemon+"/metrics"), exprs)
		if n, err := promInstant(prom, `count_over_time(up{job="edge-sensord"}[1m]) >= 10`); err != nil || n == 0 {
			problems = append(problems, fmt.Sprintf("fewer than 10 scrapes of edge-sensord yet (%v)", err))
		}
		for _, e := range exprs {
			query := func() (int, error) { return promInstant(prom, e.expr) }
			if e.panel {
				query = func() (int, error) { return panelResult("http://"+daemon, e) }
			}
			if _, err := query(); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q: %v", e.where, e.expr, err))
				continue
			}
			if e.value == "" || noDataWhenHealthy[e.where] != "" || !inputsAvailable(e.value, have) {
				continue
			}
			n, err := promInstant(prom, e.value)
			if e.panel { // a panel's value is its whole query
				n, err = query()
			}
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
	checkNames(t, exprs, have)

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
	if want := len(rulesExprs(t, ruleFiles...)); loaded != want {
		t.Errorf("Prometheus loaded %d rules, the files have %d", loaded, want)
	}
	for _, e := range exprs {
		if e.value == "" || noDataWhenHealthy[e.where] != "" || !inputsAvailable(e.value, have) {
			t.Logf("%s: evaluated only (no value part, or inputs not exported here)", e.where)
		}
	}
	t.Logf("%d expressions checked against %s scraping %s", len(exprs), prom, daemon)
}
