package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/edgeobs/edge-observability-stack/internal/httpgzip"
)

// exposition serves /metrics from bodies encoded (and gzipped) at most once
// per generation of the data, where a generation changes with every poll
// and every event counted between polls. All the data changes only then,
// so every other scrape, and every scraper after the first, gets bytes
// already made: the cost of a scrape is the cost of an HTTP response.
type exposition struct {
	g   prometheus.Gatherer
	gen func() uint64 // nil: gather and encode on every request
	log *slog.Logger

	mu     sync.Mutex
	cur    *snapshot
	accept []expfmt.Format
}

type snapshot struct {
	gen    uint64
	mfs    []*dto.MetricFamily
	err    error
	bodies map[bodyKey][]byte
}

type bodyKey struct {
	format expfmt.Format
	gzip   bool
}

// maxBodies bounds the cache: Accept negotiation yields a small fixed set
// of formats and escaping schemes, so it is only a guard.
const maxBodies = 64

func newExposition(g prometheus.Gatherer, gen func() uint64, log *slog.Logger) *exposition {
	return &exposition{g: g, gen: gen, log: log, accept: expfmt.DefaultOpenMetricsAcceptedFormats()}
}

func (e *exposition) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format := expfmt.NegotiateAccept(r.Header, e.accept...)
	gz := httpgzip.Accepts(r.Header.Get("Accept-Encoding"))
	var names map[string]bool
	if r.URL != nil {
		if q := r.URL.Query()["name[]"]; len(q) > 0 {
			names = make(map[string]bool, len(q))
			for _, n := range q {
				names[n] = true
			}
		}
	}

	body, err := e.body(format, gz, names)
	if err != nil {
		http.Error(w, "error gathering metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", string(format))
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// body returns the encoded exposition; a name filter is encoded for the
// request alone, everything else is cached for the generation.
func (e *exposition) body(format expfmt.Format, gz bool, names map[string]bool) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snapshot()
	if len(s.mfs) == 0 && s.err != nil {
		return nil, s.err
	}
	return s.body(format, gz, names)
}

// body encodes one body, or takes it from the generation's cache; a gzip
// body is made from the plain one, cached too.
func (s *snapshot) body(format expfmt.Format, gz bool, names map[string]bool) ([]byte, error) {
	key := bodyKey{format, gz}
	if b, ok := s.bodies[key]; ok && names == nil {
		return b, nil
	}
	var b []byte
	var err error
	if gz {
		var plain []byte
		if plain, err = s.body(format, false, names); err == nil {
			b, err = httpgzip.Compress(plain)
		}
	} else {
		b, err = encode(s.mfs, format, names)
	}
	if err != nil {
		return nil, err
	}
	if names == nil && len(s.bodies) < maxBodies {
		s.bodies[key] = b
	}
	return b, nil
}

// snapshot returns the current generation's gathered families, gathering
// again when the generation moved on. Callers hold e.mu.
func (e *exposition) snapshot() *snapshot {
	var gen uint64
	if e.gen != nil {
		gen = e.gen()
		if e.cur != nil && e.cur.gen == gen {
			return e.cur
		}
	}
	// Read before gathering: data that changes during Gather moves the
	// generation on again, so the next scrape sees it.
	mfs, err := e.g.Gather()
	if err != nil {
		// Once per generation, not once per scrape.
		e.log.Error("error gathering metrics", "err", err)
	}
	s := &snapshot{gen: gen, mfs: mfs, err: err, bodies: map[bodyKey][]byte{}}
	if e.gen != nil {
		e.cur = s
	}
	return s
}

func encode(mfs []*dto.MetricFamily, format expfmt.Format, names map[string]bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range mfs {
		if names != nil && !names[mf.GetName()] {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", mf.GetName(), err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
