package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
)

// countingGatherer counts Gather calls and returns a gauge whose value the
// test sets, plus a second family for name[] filtering.
type countingGatherer struct {
	calls atomic.Int64
	value atomic.Int64
	err   error
	empty bool
}

func (g *countingGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.calls.Add(1)
	if g.empty {
		return nil, g.err
	}
	reg := prometheus.NewPedanticRegistry()
	a := prometheus.NewGauge(prometheus.GaugeOpts{Name: "a_value", Help: "A."})
	a.Set(float64(g.value.Load()))
	b := prometheus.NewGauge(prometheus.GaugeOpts{Name: "b_value", Help: "B."})
	b.Set(2)
	reg.MustRegister(a, b)
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	return mfs, g.err
}

// cached is an exposition over a countingGatherer with a test-driven
// generation.
func cached() (*countingGatherer, *atomic.Uint64, http.Handler) {
	g, gen := &countingGatherer{}, &atomic.Uint64{}
	return g, gen, newTestExposition(g, gen)
}

func wantGathers(t *testing.T, g *countingGatherer, want int64) {
	t.Helper()
	if n := g.calls.Load(); n != want {
		t.Fatalf("%d gathers, want %d", n, want)
	}
}

func newTestExposition(g prometheus.Gatherer, gen *atomic.Uint64) http.Handler {
	var f func() uint64
	if gen != nil {
		f = gen.Load
	}
	return newExposition(g, f, quiet())
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestExpositionGathersOncePerGeneration(t *testing.T) {
	g, gen, h := cached()
	g.value.Store(1)

	first := testhttp.Serve(h, "GET", "/metrics").Body.String()
	for range 5 {
		if b := testhttp.Serve(h, "GET", "/metrics").Body.String(); b != first {
			t.Fatalf("same generation, different body:\n%s\nvs\n%s", b, first)
		}
	}
	testhttp.Serve(h, "GET", "/metrics", "Accept-Encoding", "gzip")
	testhttp.Serve(h, "GET", "/metrics", "Accept", "application/openmetrics-text;version=1.0.0")
	wantGathers(t, g, 1)
	if !strings.Contains(first, "a_value 1\n") {
		t.Fatalf("body:\n%s", first)
	}

	// New data without a new generation is not served (that is the
	// contract: the generation moves whenever the data does) ...
	g.value.Store(7)
	if b := testhttp.Serve(h, "GET", "/metrics").Body.String(); !strings.Contains(b, "a_value 1\n") {
		t.Fatalf("body changed within a generation:\n%s", b)
	}
	// ... and is served, in every encoding, as soon as it moves.
	gen.Add(1)
	if b := testhttp.Serve(h, "GET", "/metrics").Body.String(); !strings.Contains(b, "a_value 7\n") {
		t.Fatalf("new generation not gathered:\n%s", b)
	}
	if b := gunzip(t, testhttp.Serve(h, "GET", "/metrics", "Accept-Encoding", "gzip").Body.Bytes()); !strings.Contains(b, "a_value 7\n") {
		t.Fatalf("gzip body of the new generation:\n%s", b)
	}
	wantGathers(t, g, 2)
}

func TestExpositionWithoutGenerationGathersEveryRequest(t *testing.T) {
	g := &countingGatherer{}
	h := newTestExposition(g, nil)
	testhttp.Serve(h, "GET", "/metrics")
	g.value.Store(3)
	if b := testhttp.Serve(h, "GET", "/metrics").Body.String(); !strings.Contains(b, "a_value 3\n") {
		t.Fatalf("body:\n%s", b)
	}
	wantGathers(t, g, 2)
}

func TestExpositionEncodings(t *testing.T) {
	_, _, h := cached()
	plain := testhttp.Serve(h, "GET", "/metrics")
	if plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("no Accept-Encoding, got Content-Encoding %q", plain.Header().Get("Content-Encoding"))
	}
	if cl := plain.Header().Get("Content-Length"); cl != strconv.Itoa(plain.Body.Len()) {
		t.Fatalf("Content-Length %q for %d bytes", cl, plain.Body.Len())
	}
	if v := plain.Header().Values("Vary"); strings.Join(v, ",") != "Accept,Accept-Encoding" {
		t.Fatalf("Vary %q", v)
	}
	for _, c := range []struct {
		header string
		gzip   bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*", true},
		{"*;q=0", false},
		{"identity", false},
		{"br, zstd", false},
		{"*, gzip;q=0", false},
		{"gzip;q=bogus", false},
		{"x-gzip", true},
	} {
		w := testhttp.Serve(h, "GET", "/metrics", "Accept-Encoding", c.header)
		got := w.Header().Get("Content-Encoding") == "gzip"
		if got != c.gzip {
			t.Errorf("Accept-Encoding %q: gzip=%v, want %v", c.header, got, c.gzip)
			continue
		}
		body := w.Body.String()
		if got {
			body = gunzip(t, w.Body.Bytes())
		}
		if body != plain.Body.String() {
			t.Errorf("Accept-Encoding %q: body differs from the plain one", c.header)
		}
		if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
			t.Errorf("Accept-Encoding %q: Content-Length %q for %d bytes", c.header, cl, w.Body.Len())
		}
	}
}

func TestExpositionFormats(t *testing.T) {
	g, _, h := cached()
	for _, c := range []struct{ accept, ctPrefix, suffix string }{
		{"", "text/plain; version=0.0.4", "b_value 2\n"},
		{"application/openmetrics-text;version=1.0.0", "application/openmetrics-text; version=1.0.0", "# EOF\n"},
		{"application/openmetrics-text;version=0.0.1", "application/openmetrics-text; version=0.0.1", "# EOF\n"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", ""},
		{"text/html", "text/plain; version=0.0.4", "b_value 2\n"},
	} {
		for _, gz := range []string{"", "gzip"} {
			w := testhttp.Serve(h, "GET", "/metrics", "Accept", c.accept, "Accept-Encoding", gz)
			ct := w.Header().Get("Content-Type")
			if w.Code != 200 || !strings.HasPrefix(ct, c.ctPrefix) {
				t.Errorf("Accept %q: %d %q, want %q", c.accept, w.Code, ct, c.ctPrefix)
				continue
			}
			body := w.Body.Bytes()
			if gz != "" {
				body = []byte(gunzip(t, body))
			}
			// Each body decodes in its own format to both families.
			dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.Format(ct))
			n := 0
			for {
				var mf dto.MetricFamily
				if err := dec.Decode(&mf); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Errorf("Accept %q: decode: %v", c.accept, err)
					}
					break
				}
				n++
			}
			if ft := expfmt.Format(ct).FormatType(); ft != expfmt.TypeOpenMetrics && n != 2 {
				t.Errorf("Accept %q: %d families decoded, want 2", c.accept, n)
			}
			if !strings.HasSuffix(string(body), c.suffix) {
				t.Errorf("Accept %q: body does not end in %q:\n%s", c.accept, c.suffix, body)
			}
		}
	}
	wantGathers(t, g, 1)
}

func TestExpositionNameFilter(t *testing.T) {
	_, _, h := cached()
	w := testhttp.Serve(h, "GET", "/metrics?name[]=b_value", "Accept-Encoding", "gzip")
	b := gunzip(t, w.Body.Bytes())
	if strings.Contains(b, "a_value") || !strings.Contains(b, "b_value 2") {
		t.Fatalf("filtered body:\n%s", b)
	}
	// The filtered body must not be served to an unfiltered scrape.
	b = gunzip(t, testhttp.Serve(h, "GET", "/metrics", "Accept-Encoding", "gzip").Body.Bytes())
	if !strings.Contains(b, "a_value") || !strings.Contains(b, "b_value") {
		t.Fatalf("unfiltered body after a filtered one:\n%s", b)
	}
}

func TestExpositionGatherErrors(t *testing.T) {
	var gen atomic.Uint64
	// Nothing gathered: 500 with the reason.
	h := newTestExposition(&countingGatherer{empty: true, err: errors.New("collector broke")}, &gen)
	w := testhttp.Serve(h, "GET", "/metrics")
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "collector broke") {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	// Something gathered: served, like promhttp's ContinueOnError.
	h = newTestExposition(&countingGatherer{err: errors.New("one collector broke")}, &gen)
	w = testhttp.Serve(h, "GET", "/metrics")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "a_value") {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
}

// Concurrent scrapes across generation changes: every response is whole
// and of some generation (run with -race).
func TestExpositionConcurrent(t *testing.T) {
	g, gen, h := cached()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if i == 0 && j%5 == 0 {
					g.value.Add(1)
					gen.Add(1)
				}
				w := testhttp.Serve(h, "GET", "/metrics", "Accept-Encoding", "gzip")
				if b := gunzip(t, w.Body.Bytes()); !strings.HasSuffix(b, "b_value 2\n") {
					t.Errorf("truncated body:\n%s", b)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := g.calls.Load(); n > 11 {
		t.Fatalf("%d gathers for 10 generations", n)
	}
}
