package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/golden"
	"github.com/edgeobs/edge-observability-stack/internal/health"
)

const fixtures = "../../test/fixtures/cgroup"

type fakeSystemd map[string]health.UnitState

func (f fakeSystemd) UnitStates(_ context.Context, units []string) (map[string]health.UnitState, error) {
	out := map[string]health.UnitState{}
	for _, u := range units {
		if st, ok := f[u]; ok {
			out[u] = st
		} else {
			out[u] = health.UnitState{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}
		}
	}
	return out, nil
}

func u32(v uint32) *uint32 { return &v }

// useSystemd makes runStatus talk to sd instead of D-Bus (or fail to
// connect with err) for the duration of the test.
func useSystemd(t *testing.T, sd health.Systemd, err error) {
	t.Helper()
	old := dialSystemd
	dialSystemd = func(context.Context) (health.Systemd, func(), error) {
		if err != nil {
			return nil, nil, err
		}
		return sd, func() {}, nil
	}
	t.Cleanup(func() { dialSystemd = old })
}

func activeUnits() fakeSystemd {
	return fakeSystemd{
		"edge-sensord.service":     {LoadState: "loaded", ActiveState: "active", SubState: "running", NRestarts: u32(0)},
		"prometheus.service":       {LoadState: "loaded", ActiveState: "active", SubState: "running", NRestarts: u32(3)},
		"grafana-server.service":   {LoadState: "loaded", ActiveState: "active", SubState: "running", NRestarts: u32(0)},
		"edge-observability.slice": {LoadState: "loaded", ActiveState: "active", SubState: "active"},
	}
}

// promAlerts are the alerts promAPI serves: a warning firing, a critical
// one pending (neither makes the stack unhealthy).
const promAlerts = `[
 {"labels":{"alertname":"EdgeClockNotSynchronised","severity":"warning","instance":"127.0.0.1:8000"},"annotations":{"summary":"The system clock of 127.0.0.1:8000 is not synchronised"},"state":"firing","activeAt":"2026-12-01T10:00:00Z","value":"0e+00"},
 {"labels":{"alertname":"EdgeTargetDown","severity":"critical","job":"edge-sensord"},"annotations":{"summary":"Scrape target edge-sensord (127.0.0.1:8000) is down"},"state":"pending","activeAt":"2026-12-01T10:05:00Z","value":"0e+00"}]`

// promAPI is a stand-in for Prometheus's HTTP API with one target and promAlerts.
func promAPI(t *testing.T, health string, ratio string) string {
	t.Helper()
	return promAPIAlerts(t, health, ratio, promAlerts)
}

// promAPIAlerts is promAPI with the alerts given (a JSON array).
func promAPIAlerts(t *testing.T, health, ratio, alerts string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/targets":
			lastErr := ""
			if health == "down" {
				lastErr = "connection refused"
			}
			fmt.Fprintf(w, `{"status":"success","data":{"activeTargets":[{"labels":{"job":"edge-sensord","instance":"127.0.0.1:8000"},"health":%q,"lastError":%q}]}}`, health, lastErr)
		case "/api/v1/query":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"edge-sensord","instance":"127.0.0.1:8000"},"value":[1,%q]}]}}`, ratio)
		case "/api/v1/status/tsdb":
			fmt.Fprintf(w, `{"status":"success","data":{"headStats":{"numSeries":1,"maxTime":%d}}}`, time.Now().UnixMilli())
		case "/api/v1/alerts":
			fmt.Fprintf(w, `{"status":"success","data":{"alerts":%s}}`, alerts)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func runEdgectl(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStatusTable(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			useSystemd(t, activeUnits(), nil)
			url := promAPI(t, "up", "1")
			code, out, stderr := runEdgectl("status", "--path.cgroupfs", filepath.Join(fixtures, v), "--prometheus.url", url)
			if code != 0 {
				t.Errorf("exit %d, want 0; stderr %s\n%s", code, stderr, out)
			}
			host, _ := os.Hostname()
			out = strings.ReplaceAll(out, url, "http://PROMETHEUS")
			golden.Check(t, "status_"+v+".txt", strings.ReplaceAll(out, "http://"+host+":", "http://HOST:"))
		})
	}
}

func TestStatusJSON(t *testing.T) {
	useSystemd(t, activeUnits(), nil)
	url := promAPI(t, "up", "0.5")
	code, out, _ := runEdgectl("status", "--json", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url", url, "--window", "10m")
	if code != 1 {
		t.Errorf("exit %d, want 1 (success ratio 0.5)", code)
	}
	var r struct {
		Units []struct {
			Unit        string  `json:"unit"`
			ActiveState string  `json:"active_state"`
			Restarts    *uint32 `json:"restarts"`
			MemoryBytes uint64  `json:"memory_bytes"`
			MemoryMax   *uint64 `json:"memory_max_bytes"`
			CPUSeconds  float64 `json:"cpu_seconds"`
		} `json:"units"`
		Total struct {
			MemoryBytes  uint64 `json:"memory_bytes"`
			BudgetBytes  uint64 `json:"budget_bytes"`
			BudgetSource string `json:"budget_source"`
		} `json:"total"`
		Prometheus struct {
			Window  string `json:"window"`
			Targets []struct {
				Health       string   `json:"health"`
				SuccessRatio *float64 `json:"success_ratio"`
			} `json:"targets"`
		} `json:"prometheus"`
		Problems []string `json:"problems"`
		Status   string   `json:"status"`
		ExitCode int      `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(r.Units) != 3 || r.Units[2].Unit != "prometheus.service" || r.Units[2].MemoryBytes != 83886080 ||
		r.Units[2].MemoryMax == nil || *r.Units[2].MemoryMax != 100663296 || r.Units[2].Restarts == nil || *r.Units[2].Restarts != 3 ||
		r.Units[2].CPUSeconds != 98 || r.Units[2].ActiveState != "active" {
		t.Errorf("units %+v", r.Units)
	}
	if r.Units[1].Unit != "grafana-server.service" || r.Units[1].MemoryMax != nil {
		t.Errorf("grafana row %+v: want no memory_max_bytes (unlimited)", r.Units[1])
	}
	if r.Total.MemoryBytes != 138412032 || r.Total.BudgetBytes != 157286400 || r.Total.BudgetSource != "slice" {
		t.Errorf("total %+v", r.Total)
	}
	if r.Prometheus.Window != "10m" || len(r.Prometheus.Targets) != 1 || *r.Prometheus.Targets[0].SuccessRatio != 0.5 {
		t.Errorf("prometheus %+v", r.Prometheus)
	}
	if r.Status != "unhealthy" || r.ExitCode != 1 || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "50.00% of scrapes") {
		t.Errorf("status %q exit %d problems %q", r.Status, r.ExitCode, r.Problems)
	}
}

func TestStatusExitCodes(t *testing.T) {
	v2 := filepath.Join(fixtures, "v2")
	tests := []struct {
		name   string
		sd     health.Systemd
		dial   error
		args   []string
		code   int
		output string // expected in stdout or stderr
	}{
		{name: "target down", sd: activeUnits(), args: []string{"--prometheus.url", "UP:down"}, code: 1, output: "is down: connection refused"},
		{name: "critical alert firing", sd: activeUnits(), args: []string{"--prometheus.url", "UP:critical"}, code: 1,
			output: "problem: alert EdgeTargetDown is firing (critical) since 2026-12-01T10:05:00Z: Scrape target edge-sensord (127.0.0.1:8000) is down"},
		{name: "over flag budget", sd: activeUnits(), args: []string{"--budget", "100M"}, code: 1, output: "over the budget 100.0M"},
		{name: "flag budget above the slice limit", sd: activeUnits(), args: []string{"--budget", "1G"}, code: 0, output: "150.0M budget (slice)"},
		{name: "unit failed", sd: func() health.Systemd {
			s := activeUnits()
			s["edge-sensord.service"] = health.UnitState{LoadState: "loaded", ActiveState: "failed", SubState: "failed"}
			return s
		}(), code: 1, output: "edge-sensord.service is failed"},
		{name: "no systemd bus", dial: health.ErrNoBus, code: 3, output: "--no-systemd"},
		{name: "no systemd bus, --no-systemd", dial: health.ErrNoBus, args: []string{"--no-systemd"}, code: 0, output: "active/cgroup"},
		{name: "prometheus unreachable", sd: activeUnits(), args: []string{"--prometheus.url", "http://127.0.0.1:1"}, code: 3, output: "unknown: Prometheus at http://127.0.0.1:1"},
		{name: "prometheus skipped", sd: activeUnits(), args: []string{"--prometheus.url="}, code: 0, output: "status: OK"},
		{name: "bad budget", sd: activeUnits(), args: []string{"--budget", "lots"}, code: 2, output: "--budget"},
		{name: "bad flag", sd: activeUnits(), args: []string{"--bogus"}, code: 2, output: "flag provided but not defined"},
		{name: "extra argument", sd: activeUnits(), args: []string{"now"}, code: 2, output: `unexpected argument "now"`},
		{name: "bad min-success", sd: activeUnits(), args: []string{"--min-success", "2"}, code: 2, output: "--min-success"},
		{name: "help", sd: activeUnits(), args: []string{"--help"}, code: 0, output: "Exit status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			useSystemd(t, tc.sd, tc.dial)
			args := []string{"status", "--path.cgroupfs", v2, "--prometheus.url", promAPI(t, "up", "1")}
			for _, a := range tc.args {
				switch a {
				case "UP:down":
					a = promAPI(t, "down", "0")
				case "UP:critical":
					a = promAPIAlerts(t, "up", "1", strings.Replace(promAlerts, `"state":"pending"`, `"state":"firing"`, 1))
				}
				args = append(args, a)
			}
			code, out, stderr := runEdgectl(args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr)
			}
			if !strings.Contains(out+stderr, tc.output) {
				t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", tc.output, out, stderr)
			}
		})
	}
}

// Prometheus down: the report says why its targets are unknown, and claims
// no consequence (it used to print "no targets", and "targets": []).
func TestStatusPrometheusDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	args := []string{"status", "--path.cgroupfs", filepath.Join(fixtures, "v2"), "--prometheus.url", url}
	useSystemd(t, activeUnits(), nil)
	code, out, _ := runEdgectl(args...)
	cause := "no answer: dial tcp " + strings.TrimPrefix(url, "http://") + ": connect: connection refused"
	if code != exitcode.Unknown || !strings.Contains(out, "\nPrometheus "+url+": "+cause+"\n") ||
		!strings.Contains(out, "unknown: Prometheus at "+url+": "+cause+"\n") || strings.Contains(out, "no targets") {
		t.Errorf("exit %d, want %d, the cause %q and no \"no targets\":\n%s", code, exitcode.Unknown, cause, out)
	}
	_, out, _ = runEdgectl(append(args, "--json")...)
	var r struct {
		Prometheus map[string]any `json:"prometheus"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Prometheus["error"] != cause || r.Prometheus["targets"] != nil {
		t.Errorf("prometheus %v, want error %q and targets null", r.Prometheus, cause)
	}
}

func TestUsage(t *testing.T) {
	code, _, stderr := runEdgectl()
	if code != exitcode.Usage || !strings.Contains(stderr, "\n  status ") {
		t.Errorf("no args: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runEdgectl("frobnicate")
	if code != exitcode.Usage || !strings.HasPrefix(stderr, "edgectl: unknown command \"frobnicate\"\n\nusage: edgectl <command>") {
		t.Errorf("unknown command: exit %d, stderr %q", code, stderr)
	}
	// A flag before any command is a flag, not a command.
	code, _, stderr = runEdgectl("--frobnicate")
	if code != exitcode.Usage || !strings.HasPrefix(stderr, "edgectl: unknown flag \"--frobnicate\"\n\nusage: edgectl <command>") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, stderr)
	}
	// The usage lists the registry's commands sorted, each with the first
	// sentence of its summary, within 80 columns.
	_, out, _ := runEdgectl("--help")
	var listed []string
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 80 {
			t.Errorf("usage line over 80 columns: %q", l)
		}
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, "  "), " "); ok && strings.HasPrefix(l, "  ") && name != "" {
			listed = append(listed, name)
		}
	}
	if len(listed) != len(commands) {
		t.Fatalf("usage lists %q, registry has %d commands:\n%s", listed, len(commands), out)
	}
	for i := 1; i < len(listed); i++ {
		if listed[i-1] >= listed[i] {
			t.Errorf("usage not sorted: %q", listed)
		}
	}
	flat := strings.Join(strings.Fields(out), " ")
	for name := range commands {
		if want := name + " " + firstSentence(commandDocs[name].summary); !strings.Contains(flat, want) || len(want) < len(name)+20 {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
}
