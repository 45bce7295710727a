package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/selfstat"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/sensors/sensorstest"
)

// benchHandler is the daemon's handler over a generated tree of n sensors,
// with the same collectors registered as in cmd/edge-sensord.
func benchHandler(b *testing.B, n int) http.Handler {
	return benchHandlerWith(b, n, true, true, nil)
}

// benchHandlerWith builds the handler; gen is the exposition's generation
// (nil: encode every request).
func benchHandlerWith(b *testing.B, n int, goColl, procColl bool, gen func() uint64) http.Handler {
	b.Helper()
	dir := b.TempDir()
	if err := sensorstest.WriteHwmonTree(dir, n); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ev := events.New()
	// As in the daemon: the Go and process collectors are gathered once
	// per poll and served from that.
	var runtimeGs prometheus.Gatherers
	if goColl {
		runtimeGs = append(runtimeGs, selfstat.GoRuntime())
	}
	if procColl {
		processReg := prometheus.NewRegistry()
		processReg.MustRegister(selfstat.New("/proc"))
		runtimeGs = append(runtimeGs, processReg)
	}
	runtime := &poller.CachedGatherer{G: runtimeGs}
	p := poller.New(log, b.TempDir(), ev, runtime)
	p.Reconfigure(config.Default(), sensors.NewSources(sensors.Options{SysfsPath: dir}))
	if v := p.PollOnce(context.Background()); len(v.Sensors) != n {
		b.Fatalf("%d sensors, want %d", len(v.Sensors), n)
	}
	sensorReg := prometheus.NewRegistry()
	sensorReg.MustRegister(ev, poller.Collector{P: p})
	reg := prometheus.Gatherers{sensorReg, runtime}
	return NewHandler(Options{Poller: p, Events: ev, Gatherer: reg, Log: log, MaxRequests: 16, Generation: gen})
}

// BenchmarkMetrics serves /metrics in-process as Prometheus asks for it:
// OpenMetrics, with and without gzip. data=new moves the generation on
// before every request, as when each scrape follows a poll (the shipped
// 15 s scrape interval and 5 s poll): gather, encode and compress each
// time. data=same is every further scrape of one poll's data.
func BenchmarkMetrics(b *testing.B) {
	const accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	for _, n := range []int{10, 100, 1000} {
		for _, gz := range []bool{false, true} {
			for _, fresh := range []bool{true, false} {
				data := map[bool]string{true: "new", false: "same"}[fresh]
				b.Run(fmt.Sprintf("sensors=%d/gzip=%v/data=%s", n, gz, data), func(b *testing.B) {
					var gen atomic.Uint64
					h := benchHandlerWith(b, n, true, true, func() uint64 {
						if fresh {
							return gen.Add(1)
						}
						return 0
					})
					b.ReportAllocs()
					var size int
					for b.Loop() {
						r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
						r.Header.Set("Accept", accept)
						if gz {
							r.Header.Set("Accept-Encoding", "gzip")
						}
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						if w.Code != http.StatusOK {
							b.Fatalf("status %d", w.Code)
						}
						size = w.Body.Len()
					}
					b.ReportMetric(float64(size), "bytes/scrape")
				})
			}
		}
	}
}

// BenchmarkMetricsCollectors splits the cost of a small scrape (10
// sensors, no gzip) between the sensor samples and the Go runtime and
// process collectors that every exporter carries.
func BenchmarkMetricsCollectors(b *testing.B) {
	for _, c := range []struct {
		name            string
		goColl, process bool
	}{{"all", true, true}, {"no-go", false, true}, {"no-process", true, false}, {"sensors-only", false, false}} {
		b.Run("collectors="+c.name, func(b *testing.B) {
			serveLoop(b, benchHandlerWith(b, 10, c.goColl, c.process, nil), "/metrics")
		})
	}
}

// serveLoop GETs path from h in the benchmark's loop.
func serveLoop(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkSensorJSON serves /sensor, which is pre-rendered once per poll.
func BenchmarkSensorJSON(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			serveLoop(b, benchHandler(b, n), "/sensor")
		})
	}
}

// BenchmarkQueryProxy forwards a panel's range query whose answer is size bytes (a
// panel of 10 series at 1,000 points is about 400 KB) from an in-process
// Prometheus stand-in: what the daemon allocates per dashboard query.
func BenchmarkQueryProxy(b *testing.B) {
	for _, size := range []int{4 << 10, 400 << 10} {
		b.Run(fmt.Sprintf("answer=%dKB", size>>10), func(b *testing.B) {
			answer := []byte(`{"status":"success","data":{"resultType":"matrix","result":[` +
				strings.Repeat(`[1700000000,"1"],`, size/17) + `]}}`)
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(answer)
			}))
			defer up.Close()
			q, err := NewQueryProxy(up.URL, DefaultQueryLimits())
			if err != nil {
				b.Fatal(err)
			}
			h := NewHandler(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxRequests: 16, Queries: q})
			req := httptest.NewRequest("GET", "/api/panels/temperature/0?start=0&end=43200&step=44", nil)
			b.SetBytes(int64(len(answer)))
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != 200 || w.n != len(answer) {
					b.Fatalf("%d, %d bytes", w.code, w.n)
				}
			}
		})
	}
}

// discardWriter counts the body instead of keeping it, as a network
// connection would.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(c int)   { w.code = c }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(p)
	return len(p), nil
}
