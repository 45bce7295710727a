package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
)

type src struct{}

func (src) Name() string { return "fake" }
func (src) Read(context.Context) (sensors.Result, error) {
	return sensors.Result{Readings: []sensors.Reading{
		{Name: "cpu_temp", Kind: sensors.Temperature, Value: 51.25, Source: "fake", Chip: "c0"},
		{Name: "vin", Kind: sensors.Voltage, Value: 12.1, Source: "fake", Chip: "c0"},
	}}, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func setup(t *testing.T, poll bool) (http.Handler, *events.Counter) {
	return setupWith(t, poll, Options{MaxRequests: 4})
}

// setupWith fills o's poller, events, gatherer and log with a fake source's.
func setupWith(t *testing.T, poll bool, o Options) (http.Handler, *events.Counter) {
	t.Helper()
	ev := events.New()
	p := poller.New(quiet(), t.TempDir(), ev)
	p.Reconfigure(config.Default(), []sensors.Source{src{}})
	if poll {
		p.PollOnce(context.Background())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ev, poller.Collector{P: p})
	o.Poller, o.Events, o.Gatherer, o.Log = p, ev, reg, quiet()
	return NewHandler(o), ev
}

func TestMetricsContentNegotiation(t *testing.T) {
	h, _ := setup(t, true)
	w := testhttp.Serve(h, "GET", "/metrics")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("default: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if !strings.Contains(w.Body.String(), `edge_sensor_temperature_celsius{chip="c0",label="",sensor="cpu_temp",source="fake"} 51.25`) {
		t.Fatalf("body:\n%s", w.Body)
	}
	w = testhttp.Serve(h, "GET", "/metrics", "Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
		t.Fatalf("openmetrics: %q", ct)
	}
	if !strings.HasSuffix(w.Body.String(), "# EOF\n") {
		t.Fatal("OpenMetrics body must end with # EOF")
	}
	// What Prometheus 2.x sends.
	w = testhttp.Serve(h, "GET", "/metrics", "Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("prometheus accept header: %q", ct)
	}
}

func TestSensorJSON(t *testing.T) {
	h, _ := setup(t, true)
	w := testhttp.Serve(h, "GET", "/sensor")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var all []poller.Sensor
	if err := json.Unmarshal(w.Body.Bytes(), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "cpu_temp" || *all[0].Value != 51.25 || all[0].Unit != "celsius" ||
		all[0].Kind != "temperature" || all[0].Status != "ok" || all[0].Source != "fake" || time.Since(all[0].Time) > time.Minute {
		t.Fatalf("%+v", all)
	}
	w = testhttp.Serve(h, "GET", "/sensor/vin")
	var one poller.Sensor
	if err := json.Unmarshal(w.Body.Bytes(), &one); err != nil || w.Code != 200 || one.Unit != "volts" || *one.Value != 12.1 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w = testhttp.Serve(h, "GET", "/sensor/nope"); w.Code != 404 || !strings.Contains(w.Body.String(), "unknown sensor") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestBadRequestsGet4xx(t *testing.T) {
	h, _ := setup(t, true)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/nope", 404},
		{"GET", "/sensor/a/b", 404},
		{"POST", "/metrics", 405},
		{"DELETE", "/sensor", 405},
		{"PUT", "/healthz", 405},
		{"GET", "/metrics/", 404},
	} {
		if w := testhttp.Serve(h, c.method, c.path); w.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
}

func TestHealthz(t *testing.T) {
	h, _ := setup(t, false)
	if w := testhttp.Serve(h, "GET", "/healthz"); w.Code != 503 || !strings.Contains(w.Body.String(), "no poll completed") {
		t.Fatalf("before first poll: %d %s", w.Code, w.Body)
	}
	h, _ = setup(t, true)
	if w := testhttp.Serve(h, "GET", "/healthz"); w.Code != 200 || !strings.Contains(w.Body.String(), "2 sensors") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestPanicIsRecoveredAndCounted(t *testing.T) {
	ev := events.New()
	h := recoverer(ev, quiet(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 500 || ev.Value(events.RouteError) != 1 {
		t.Fatalf("%d events=%v", w.Code, ev.Value(events.RouteError))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := limiter(1)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	close(release)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second request: %d", w.Code)
	}
}

type blockingGatherer struct{ entered, release chan struct{} }

func (b blockingGatherer) Gather() ([]*dto.MetricFamily, error) {
	b.entered <- struct{}{}
	<-b.release
	return nil, nil
}

func TestHealthzBypassesRequestLimit(t *testing.T) {
	ev := events.New()
	p := poller.New(quiet(), t.TempDir(), ev)
	p.Reconfigure(config.Default(), []sensors.Source{src{}})
	p.PollOnce(context.Background())
	g := blockingGatherer{make(chan struct{}), make(chan struct{})}
	h := NewHandler(Options{Poller: p, Events: ev, Gatherer: g, Log: quiet(), MaxRequests: 1})
	go testhttp.Serve(h, "GET", "/metrics")
	<-g.entered // the one slot is taken
	if w := testhttp.Serve(h, "GET", "/sensor"); w.Code != 503 {
		t.Fatalf("/sensor over the limit: %d", w.Code)
	}
	if w := testhttp.Serve(h, "GET", "/healthz"); w.Code != 200 {
		t.Fatalf("/healthz over the limit: %d", w.Code)
	}
	close(g.release)
}

func FuzzHandler(f *testing.F) {
	for _, s := range []string{"/metrics", "/sensor", "/sensor/cpu_temp", "/sensor/%00", "/healthz", "/", "/../etc/passwd", "//sensor", "/sensor/" + strings.Repeat("a", 300)} {
		f.Add("GET", s, "text/plain")
	}
	f.Add("POST", "/metrics", "application/openmetrics-text;version=1.0.0")
	f.Add("HEAD", "/sensor/x", "*/*;q=abc")
	f.Add("GET", "/api/dashboard", "gzip")
	f.Add("GET", "/api/panels/stale/0?time=1e9", "gzip")
	f.Add("GET", "/api/panels/temperature/0?start=0&end=3600&step=15s", "")
	f.Add("GET", "/api/alerts", "")
	f.Add("POST", "/api/v1/query_range?query=up&start=0&end=3600&step=15s", "")
	ev := events.New()
	p := poller.New(quiet(), f.TempDir(), ev)
	p.Reconfigure(config.Default(), []sensors.Source{src{}})
	p.PollOnce(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(ev, poller.Collector{P: p})
	// A Prometheus that answers every query, so a 5xx can only come from the proxy.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[],"alerts":[]}}`)
	}))
	defer up.Close()
	proxy := func() *QueryProxy {
		q, err := NewQueryProxy(up.URL, DefaultQueryLimits())
		if err != nil {
			f.Fatal(err)
		}
		return q
	}
	h := NewHandler(Options{Poller: p, Events: ev, Gatherer: reg, Log: quiet(), Queries: proxy()})
	// The same, with /metrics bodies cached per generation as in the daemon.
	cachedH := NewHandler(Options{Poller: p, Events: ev, Gatherer: reg, Log: quiet(), Generation: p.Polls, Queries: proxy()})
	f.Fuzz(func(t *testing.T, method, path, accept string) {
		r, err := http.NewRequest(method, "http://x"+path, nil)
		if err != nil {
			return // not a request a server could receive
		}
		r.Header.Set("Accept", accept)
		r.Header.Set("Accept-Encoding", accept) // arbitrary encodings too
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cw := httptest.NewRecorder()
		cachedH.ServeHTTP(cw, r)
		if cw.Code != w.Code || cw.Header().Get("Content-Type") != w.Header().Get("Content-Type") {
			t.Fatalf("%s %q accept %q: cached %d %q, uncached %d %q", method, path, accept,
				cw.Code, cw.Header().Get("Content-Type"), w.Code, w.Header().Get("Content-Type"))
		}
		// The fuzz run outlives the poll made at setup: /healthz then
		// rightly answers 503; everything else must never be a 5xx.
		if w.Code >= 500 && !(w.Code == 503 && strings.HasPrefix(r.URL.Path, "/healthz")) {
			t.Fatalf("%s %q accept %q: %d", method, path, accept, w.Code)
		}
		if ev.Value(events.RouteError) != 0 {
			t.Fatal("handler panicked")
		}
		if w.Header().Get("Content-Type") == "application/json" && method != "HEAD" && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: invalid JSON body %q", method, path, w.Body)
		}
	})
}

// The dashboard page and its assets are served at / and /static/, read-only.
func TestDashboardPageRoutes(t *testing.T) {
	h, _ := setup(t, true)
	page := testhttp.Serve(h, "GET", "/")
	if page.Code != 200 || !strings.Contains(page.Body.String(), `src="static/app.js?v=`) {
		t.Fatalf("GET / = %d:\n%s", page.Code, page.Body)
	}
	if w := testhttp.Serve(h, "GET", "/static/app.js"); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /static/app.js = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{{"POST", "/", 405}, {"PUT", "/static/app.js", 405}, {"GET", "/static/none.js", 404}, {"GET", "/index.html", 404}} {
		if w := testhttp.Serve(h, c.method, c.path); w.Code != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
}
