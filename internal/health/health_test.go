package health

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

const fixtures = "../../test/fixtures/cgroup"

// fakeSystemd answers from a fixed table; units not in it are reported
// like systemd does for unknown units.
type fakeSystemd struct {
	states  map[string]UnitState
	members []string // for SliceUnits
	err     error
	asked   []string
}

func (f *fakeSystemd) UnitStates(_ context.Context, units []string) (map[string]UnitState, error) {
	f.asked = append(f.asked, units...)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]UnitState{}
	for _, u := range units {
		st, ok := f.states[u]
		if !ok {
			st = UnitState{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}
		}
		out[u] = st
	}
	return out, nil
}

type listingSystemd struct{ *fakeSystemd }

func (l listingSystemd) SliceUnits(_ context.Context, slice string) ([]string, error) {
	if slice != "edge-observability.slice" {
		return nil, fmt.Errorf("unexpected slice %q", slice)
	}
	return l.members, nil
}

func running(restarts uint32) UnitState {
	return UnitState{LoadState: "loaded", ActiveState: "active", SubState: "running", NRestarts: &restarts}
}

func allActive() *fakeSystemd {
	return &fakeSystemd{states: map[string]UnitState{
		"edge-sensord.service":     running(0),
		"prometheus.service":       running(1),
		"grafana-server.service":   running(0),
		"edge-observability.slice": {LoadState: "loaded", ActiveState: "active", SubState: "active"},
	}}
}

// fakeProm serves the Prometheus API endpoints Check uses.
type fakeProm struct {
	targets string        // activeTargets JSON array
	ratios  string        // query result JSON array
	ahead   time.Duration // of the newest stored sample, against the clock
	status  int
	alerts  string // JSON array; "" is none
}

func (f fakeProm) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.status != 0 {
			w.WriteHeader(f.status)
			fmt.Fprint(w, `{"status":"error","errorType":"internal","error":"boom"}`)
			return
		}
		switch r.URL.Path {
		case "/api/v1/targets":
			if r.URL.Query().Get("state") != "active" {
				t.Errorf("targets requested without state=active: %s", r.URL)
			}
			fmt.Fprintf(w, `{"status":"success","data":{"activeTargets":%s,"droppedTargets":[]}}`, f.targets)
		case "/api/v1/query":
			if q := r.URL.Query().Get("query"); q != "avg_over_time(up[5m])" {
				t.Errorf("unexpected query %q", q)
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s}}`, f.ratios)
		case "/api/v1/status/tsdb":
			fmt.Fprintf(w, `{"status":"success","data":{"headStats":{"numSeries":42,"minTime":1,"maxTime":%d}}}`, time.Now().Add(f.ahead).UnixMilli())
		case "/api/v1/alerts":
			if f.alerts == "" {
				f.alerts = "[]"
			}
			fmt.Fprintf(w, `{"status":"success","data":{"alerts":%s}}`, f.alerts)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func target(job, instance, health, lastErr string) string {
	return fmt.Sprintf(`{"labels":{"job":%q,"instance":%q},"health":%q,"lastError":%q,"scrapeUrl":"http://%s/metrics"}`, job, instance, health, lastErr, instance)
}

func alert(name, severity, state string) string {
	return fmt.Sprintf(`{"labels":{"alertname":%q,"severity":%q},"annotations":{"summary":"%s summary"},"state":%q,"activeAt":"2026-12-01T10:00:00Z","value":"1"}`,
		name, severity, name, state)
}

func ratio(job, instance, v string) string {
	return fmt.Sprintf(`{"metric":{"job":%q,"instance":%q},"value":[1700000000.123,%q]}`, job, instance, v)
}

var healthyProm = fakeProm{
	targets: "[" + target("edge-sensord", "127.0.0.1:8000", "up", "") + "," + target("prometheus", "127.0.0.1:9090", "up", "") + "]",
	ratios:  "[" + ratio("edge-sensord", "127.0.0.1:8000", "1") + "," + ratio("prometheus", "127.0.0.1:9090", "0.9995") + "]",
}

func opts(t *testing.T, root string, sd Systemd, prom fakeProm) Options {
	return Options{
		Cgroup:        cgroup.Reader{Root: root},
		Slice:         "edge-observability.slice",
		Budget:        150 << 20,
		Expect:        []string{"edge-sensord.service", "prometheus.service"},
		Systemd:       sd,
		PrometheusURL: prom.start(t),
		Window:        5 * time.Minute,
		MinSuccess:    0.999,
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	testtree.Write(t, root, files)
	return root
}

func wantExit(t *testing.T, r Report, code int, problem string) {
	t.Helper()
	if r.ExitCode != code {
		t.Errorf("exit code %d, want %d; problems %q, unknown %q", r.ExitCode, code, r.Problems, r.Unknown)
	}
	if problem == "" {
		return
	}
	all := strings.Join(append(append([]string{}, r.Problems...), r.Unknown...), "\n")
	if !strings.Contains(all, problem) {
		t.Errorf("no problem mentioning %q in:\n%s", problem, all)
	}
}

func TestCheckHealthy(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			sd := allActive()
			r := Check(context.Background(), opts(t, filepath.Join(fixtures, v), sd, healthyProm))
			wantExit(t, r, exitcode.OK, "")
			if r.Status != "ok" || len(r.Problems) != 0 || len(r.Unknown) != 0 {
				t.Errorf("status %q problems %q unknown %q", r.Status, r.Problems, r.Unknown)
			}
			var names []string
			for _, u := range r.Units {
				names = append(names, u.Unit)
			}
			if got := strings.Join(names, ","); got != "edge-sensord.service,grafana-server.service,prometheus.service" {
				t.Errorf("units %s", got)
			}
			p := r.Units[2]
			if p.MemoryBytes == nil || *p.MemoryBytes != 83886080 || p.MemoryMaxBytes == nil || *p.MemoryMaxBytes != 100663296 || p.NRestarts == nil || *p.NRestarts != 1 || !p.InCgroup {
				t.Errorf("prometheus row %+v", p)
			}
			if r.Total.MemoryBytes == nil || *r.Total.MemoryBytes != 138412032 || r.Total.BudgetBytes != 157286400 || r.Total.BudgetSource != "slice" || r.Total.OverBudget {
				t.Errorf("total %+v", r.Total)
			}
			if r.Total.State == nil || r.Total.State.ActiveState != "active" {
				t.Errorf("slice state %+v", r.Total.State)
			}
			if !contains(sd.asked, "edge-observability.slice") {
				t.Errorf("slice state not asked: %q", sd.asked)
			}
			tg := r.Prometheus.Targets
			if len(tg) != 2 || tg[1].SuccessRatio == nil || *tg[1].SuccessRatio != 0.9995 || tg[0].Health != "up" {
				t.Errorf("targets %+v", tg)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCheckUnhealthyUnits(t *testing.T) {
	v2 := filepath.Join(fixtures, "v2")

	t.Run("failed unit", func(t *testing.T) {
		sd := allActive()
		sd.states["grafana-server.service"] = UnitState{LoadState: "loaded", ActiveState: "failed", SubState: "failed"}
		wantExit(t, Check(context.Background(), opts(t, v2, sd, healthyProm)), exitcode.Failure, "grafana-server.service is failed (failed)")
	})
	t.Run("activating unit", func(t *testing.T) {
		sd := allActive()
		sd.states["prometheus.service"] = UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "auto-restart"}
		wantExit(t, Check(context.Background(), opts(t, v2, sd, healthyProm)), exitcode.Failure, "prometheus.service is activating (auto-restart)")
	})
	t.Run("expected unit stopped, no cgroup", func(t *testing.T) {
		root := writeTree(t, map[string]string{
			"cgroup.controllers":                                         "memory",
			"edge-observability.slice/memory.current":                    "10",
			"edge-observability.slice/prometheus.service/memory.current": "10",
		})
		sd := allActive()
		sd.states["edge-sensord.service"] = UnitState{LoadState: "loaded", ActiveState: "inactive", SubState: "dead"}
		r := Check(context.Background(), opts(t, root, sd, healthyProm))
		wantExit(t, r, exitcode.Failure, "edge-sensord.service is inactive (dead)")
		if r.Units[0].Unit != "edge-sensord.service" || r.Units[0].InCgroup {
			t.Errorf("row %+v", r.Units[0])
		}
	})
	t.Run("slice member listed by systemd only", func(t *testing.T) {
		sd := allActive()
		sd.members = []string{"edge-sensord.service", "extra.service"}
		sd.states["extra.service"] = UnitState{LoadState: "loaded", ActiveState: "failed", SubState: "failed"}
		r := Check(context.Background(), opts(t, v2, listingSystemd{sd}, healthyProm))
		wantExit(t, r, exitcode.Failure, "extra.service is failed")
		if len(r.Units) != 4 {
			t.Errorf("%d units, want 4 (3 from cgroups + extra.service)", len(r.Units))
		}
	})
	t.Run("no systemd: states from cgroups", func(t *testing.T) {
		root := writeTree(t, map[string]string{
			"cgroup.controllers":                                         "memory",
			"edge-observability.slice/memory.current":                    "10",
			"edge-observability.slice/prometheus.service/memory.current": "10",
		})
		r := Check(context.Background(), opts(t, root, nil, healthyProm))
		wantExit(t, r, exitcode.Failure, "edge-sensord.service is inactive (no-cgroup)")
		if r.Units[1].ActiveState != "active" {
			t.Errorf("prometheus row %+v", r.Units[1])
		}
	})
	t.Run("no slice cgroup", func(t *testing.T) {
		o := opts(t, filepath.Join(fixtures, "v2"), nil, healthyProm)
		o.Slice, o.Expect = "other.slice", nil
		wantExit(t, Check(context.Background(), o), exitcode.Failure, "slice other.slice has no cgroup")
	})
	// `make run`: no systemd, so no slice; one plain sentence, not two riddles.
	t.Run("no systemd and no slice", func(t *testing.T) {
		o := opts(t, filepath.Join(fixtures, "v2"), &fakeSystemd{err: fmt.Errorf("%w: dial: no such file", ErrNoBus)}, healthyProm)
		o.Slice = "other.slice"
		r := Check(context.Background(), o)
		want := []string{cgroup.NoSlice("other.slice")}
		if r.ExitCode != exitcode.Failure || !reflect.DeepEqual(r.Problems, want) || len(r.Unknown) != 0 {
			t.Errorf("exit %d, problems %q, unknown %q; want exit 1 and only %q", r.ExitCode, r.Problems, r.Unknown, want)
		}
	})
	t.Run("no systemd, slice present", func(t *testing.T) {
		r := Check(context.Background(), opts(t, filepath.Join(fixtures, "v2"), &fakeSystemd{err: ErrNoBus}, healthyProm))
		wantExit(t, r, exitcode.Unknown, "unit states from systemd: no connection to systemd")
		if strings.Contains(strings.Join(r.Problems, " "), "Not running under systemd") {
			t.Errorf("the slice exists, yet: %q", r.Problems)
		}
	})
}

func TestCheckBudget(t *testing.T) {
	t.Run("at the slice's own limit", func(t *testing.T) {
		root := writeTree(t, map[string]string{
			"cgroup.controllers":                                           "memory",
			"edge-observability.slice/memory.current":                      "1000",
			"edge-observability.slice/memory.max":                          "1000",
			"edge-observability.slice/edge-sensord.service/memory.current": "500",
			"edge-observability.slice/prometheus.service/memory.current":   "500",
		})
		r := Check(context.Background(), opts(t, root, allActive(), healthyProm))
		wantExit(t, r, exitcode.Failure, "at its memory limit")
		if !r.Total.OverBudget || r.Total.BudgetBytes != 1000 || r.Total.BudgetSource != "slice" {
			t.Errorf("total %+v", r.Total)
		}
	})
	t.Run("unlimited slice over the flag budget", func(t *testing.T) {
		files := map[string]string{
			"cgroup.controllers":                                           "memory",
			"edge-observability.slice/memory.max":                          "max",
			"edge-observability.slice/edge-sensord.service/memory.current": "1",
			"edge-observability.slice/prometheus.service/memory.current":   "1",
		}
		files["edge-observability.slice/memory.current"] = fmt.Sprint(150<<20 + 1)
		r := Check(context.Background(), opts(t, writeTree(t, files), allActive(), healthyProm))
		wantExit(t, r, exitcode.Failure, "over the budget 150.0M")
		if r.Total.BudgetSource != "flag" || r.Total.BudgetBytes != 150<<20 {
			t.Errorf("total %+v", r.Total)
		}

		files["edge-observability.slice/memory.current"] = fmt.Sprint(150 << 20) // exactly the budget is fine
		wantExit(t, Check(context.Background(), opts(t, writeTree(t, files), allActive(), healthyProm)), exitcode.OK, "")
	})
	for _, c := range []struct {
		name, tree string
		budget     uint64
		enforce    bool
		exit       int
		problem    string
		total      uint64
		source     string
	}{
		// The fixture slice uses 132M of its 150M limit.
		{"flag budget ignored when the slice has a limit", "v1", 100 << 20, false, exitcode.OK, "", 150 << 20, "slice"},
		{"enforced flag budget below the slice limit", "v1", 100 << 20, true, exitcode.Failure, "over the budget 100.0M", 100 << 20, "flag"},
		{"enforced flag budget above the slice limit", "v2", 1 << 30, true, exitcode.OK, "", 150 << 20, "slice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opts(t, filepath.Join(fixtures, c.tree), allActive(), healthyProm)
			o.Budget, o.EnforceBudget = c.budget, c.enforce
			r := Check(context.Background(), o)
			wantExit(t, r, c.exit, c.problem)
			if r.Total.BudgetBytes != c.total || r.Total.BudgetSource != c.source {
				t.Errorf("total %+v", r.Total)
			}
		})
	}
}

func TestCheckPrometheus(t *testing.T) {
	v2 := filepath.Join(fixtures, "v2")
	run := func(t *testing.T, p fakeProm) Report {
		return Check(context.Background(), opts(t, v2, allActive(), p))
	}
	for _, c := range []struct {
		name    string
		edit    func(p *fakeProm) // of a healthy Prometheus
		exit    int
		problem string
	}{
		{"target down", func(p *fakeProm) {
			p.targets = "[" + target("edge-sensord", "127.0.0.1:8000", "down", "connection refused") + "]"
		}, exitcode.Failure, "target edge-sensord/127.0.0.1:8000 is down: connection refused"},
		{"success ratio below minimum", func(p *fakeProm) { p.ratios = "[" + ratio("edge-sensord", "127.0.0.1:8000", "0.998") + "]" }, exitcode.Failure, "99.80% of scrapes succeeded over 5m, below 99.90%"},
		{"no targets", func(p *fakeProm) { p.targets, p.ratios = "[]", "[]" }, exitcode.Failure, "no active scrape targets"},
		{"target up but nothing stored", func(p *fakeProm) { p.ratios = "[" + ratio("prometheus", "127.0.0.1:9090", "1") + "]" }, exitcode.Failure, "edge-sensord/127.0.0.1:8000: scraped but no samples stored"},
		{"target not scraped yet", func(p *fakeProm) { p.targets = "[" + target("edge-sensord", "127.0.0.1:8000", "unknown", "") + "]" }, exitcode.Unknown, "not scraped yet"},
		{"clock behind the stored samples", func(p *fakeProm) { p.ahead = 5 * time.Minute }, exitcode.Failure, "ahead of the system clock: the clock went back"},
		{"newest sample a moment ahead", func(p *fakeProm) { p.ahead = 20 * time.Second }, exitcode.OK, ""},
		{"critical alert firing", func(p *fakeProm) { p.alerts = "[" + alert("EdgeSensorPollStalled", "critical", "firing") + "]" }, exitcode.Failure,
			"alert EdgeSensorPollStalled is firing (critical) since 2026-12-01T10:00:00Z: EdgeSensorPollStalled summary"},
		{"critical alert pending, warning firing", func(p *fakeProm) {
			p.alerts = "[" + alert("EdgeTargetDown", "critical", "pending") + "," + alert("EdgeSensorStale", "warning", "firing") + "]"
		}, exitcode.OK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := healthyProm
			c.edit(&p)
			wantExit(t, run(t, p), c.exit, c.problem)
		})
	}
	t.Run("alerts listed firing first, then by severity", func(t *testing.T) {
		p := healthyProm
		p.alerts = "[" + alert("B", "warning", "firing") + "," + alert("A", "critical", "pending") + "," + alert("C", "critical", "firing") + "," + alert("D", "", "firing") + "]"
		r := run(t, p)
		var got []string
		for _, a := range r.Alerts {
			got = append(got, a.Name+"/"+a.State)
		}
		if strings.Join(got, " ") != "C/firing B/firing D/firing A/pending" {
			t.Errorf("alerts %v", got)
		}
	})
	t.Run("API error", func(t *testing.T) {
		wantExit(t, run(t, fakeProm{status: http.StatusServiceUnavailable}), exitcode.Unknown, "HTTP 503: internal: boom")
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		o := opts(t, v2, allActive(), healthyProm)
		o.PrometheusURL = url
		r := Check(context.Background(), o)
		wantExit(t, r, exitcode.Unknown, "Prometheus at "+url)
	})
	t.Run("not Prometheus", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>hi</html>") }))
		defer srv.Close()
		o := opts(t, v2, allActive(), healthyProm)
		o.PrometheusURL = srv.URL
		wantExit(t, Check(context.Background(), o), exitcode.Unknown, "not a Prometheus API response")
	})
	t.Run("skipped when no URL", func(t *testing.T) {
		o := opts(t, v2, allActive(), healthyProm)
		o.PrometheusURL = ""
		r := Check(context.Background(), o)
		wantExit(t, r, exitcode.OK, "")
		if r.Prometheus != nil {
			t.Errorf("prometheus section %+v", r.Prometheus)
		}
	})
}

func TestCheckUnreadableCgroups(t *testing.T) {
	// Without systemd, unit states come from cgroups; when those cannot be
	// read nothing is known to be wrong.
	o := opts(t, t.TempDir(), nil, healthyProm)
	r := Check(context.Background(), o)
	wantExit(t, r, exitcode.Unknown, "reading cgroups: cgroup: ")
	if len(r.Problems) != 0 {
		t.Errorf("problems %q, want none", r.Problems)
	}
}

func TestCheckSystemdUnavailable(t *testing.T) {
	sd := &fakeSystemd{err: errors.New("no bus")}
	r := Check(context.Background(), opts(t, filepath.Join(fixtures, "v2"), sd, healthyProm))
	wantExit(t, r, exitcode.Unknown, "unit states from systemd: no bus")

	// A definite problem outranks what could not be determined.
	o := opts(t, filepath.Join(fixtures, "v2"), sd, healthyProm)
	o.Budget, o.EnforceBudget = 1<<20, true
	wantExit(t, Check(context.Background(), o), exitcode.Failure, "over the budget")
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]uint64{"150M": 150 << 20, "1024": 1024, "1.5G": 3 << 29, "64k": 64 << 10, "2T": 2 << 40, " 7 ": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1M", "12X", "1e30T", "NaN", "Inf", "0x1p4", "nanM"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): want error", in)
		}
	}
	for in, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.0K", 150 << 20: "150.0M", 3 << 29: "1.5G"} {
		if got := FormatBytes(in); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestDashboardURL(t *testing.T) {
	p := &Prometheus{Targets: []Target{
		{Job: "prometheus", Instance: "127.0.0.1:9090"},
		{Job: "edge-sensord", Instance: "127.0.0.1:8123"},
	}}
	for _, c := range []struct {
		host string
		p    *Prometheus
		want string
	}{
		{"pi4", p, "http://pi4:8123/"},
		{"", p, ""},
		{"pi4", nil, ""},
		{"pi4", &Prometheus{Targets: []Target{{Job: "prometheus", Instance: "127.0.0.1:9090"}}}, ""},
		{"pi4", &Prometheus{Targets: []Target{{Job: "edge-sensord", Instance: "no-port"}}}, ""},
	} {
		if got := dashboardURL(c.host, c.p); got != c.want {
			t.Errorf("dashboardURL(%q, %v) = %q, want %q", c.host, c.p, got, c.want)
		}
	}
}
