// Package web serves edge-sensord's HTTP API from the poller's cache.
package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/ui"
)

// Options configure the handler.
type Options struct {
	Poller   *poller.Poller
	Events   *events.Counter
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// MaxRequests caps requests in flight; more get 503 at once instead of
	// queueing, so a flood of clients cannot pin memory.
	MaxRequests int
	// Health reports problems beyond the poll loop (e.g. the server stopped).
	Health  func() error
	Version string
	// Generation changes whenever anything Gatherer returns may have
	// changed; /metrics bodies are encoded once per generation. Nil
	// encodes every request.
	Generation func() uint64
	// Queries forwards the dashboard's queries to Prometheus; nil answers
	// them 503 (no history).
	Queries *QueryProxy
	// Warnings lists problems the dashboard should show (e.g. a cgroup
	// controller that is off); nil means none.
	Warnings func() []string
	// History is how far back Prometheus holds the daemon's data, for the
	// range the page starts on; nil means not known.
	History *History
}

// NewHandler builds the router.
func NewHandler(o Options) http.Handler {
	if o.Queries == nil {
		o.Queries, _ = NewQueryProxy("", DefaultQueryLimits())
	}
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	metrics := newExposition(o.Gatherer, o.Generation, o.Log)
	h := &handlers{o: o}
	// Every route but /healthz counts against the in-flight limit: a health
	// probe allocates next to nothing, and a burst of scrapes must not make
	// it fail.
	limited := limiter(o.MaxRequests)
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle("/metrics", limited(metrics)).Methods(get...)
	r.Handle("/sensor", limited(http.HandlerFunc(h.sensors))).Methods(get...)
	r.Handle("/sensor/{name}", limited(http.HandlerFunc(h.sensor))).Methods(get...)
	r.HandleFunc("/healthz", h.healthz).Methods(get...)
	r.Handle("/api/dashboard", limited(http.HandlerFunc(h.dashboard))).Methods(get...)
	// The dashboard's queries and alerts have their own slots (QueryLimits),
	// apart from the in-flight limit: a flood of them cannot take the
	// scrapes' share.
	r.Handle("/api/panels/{id}/{query}", o.Queries.panel()).Methods(http.MethodGet)
	r.Handle("/api/alerts", o.Queries.alerts()).Methods(http.MethodGet)
	r.PathPrefix("/api/v1/").HandlerFunc(freeFormGone)
	page := limited(ui.Handler())
	r.Handle("/", page).Methods(get...)
	r.PathPrefix("/static/").Handler(page).Methods(get...)
	return recoverer(o.Events, o.Log, r)
}

type handlers struct{ o Options }

func notFound(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "not found", http.StatusNotFound)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

func (h *handlers) sensors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.o.Poller.View().AllJSON())
}

func (h *handlers) sensor(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	b, ok := h.o.Poller.View().SensorJSON(name)
	if !ok {
		b, _ := json.Marshal(map[string]string{"error": "unknown sensor: " + name})
		writeJSON(w, http.StatusNotFound, b)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (h *handlers) healthz(w http.ResponseWriter, r *http.Request) {
	var reasons []string
	if err := h.o.Poller.Healthy(time.Now()); err != nil {
		reasons = append(reasons, err.Error())
	}
	if h.o.Health != nil {
		if err := h.o.Health(); err != nil {
			reasons = append(reasons, err.Error())
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(reasons) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, r := range reasons {
			fmt.Fprintln(w, "unhealthy:", r)
		}
		return
	}
	fmt.Fprintln(w, "ok:", h.o.Poller.View().StatusLine(time.Now()))
}

func (h *handlers) dashboard(w http.ResponseWriter, r *http.Request) {
	warnings := []string{}
	if h.o.Warnings != nil {
		warnings = append(warnings, h.o.Warnings()...)
	}
	lim := h.o.Queries.Limits()
	span, known := h.o.History.Span()
	b, err := json.Marshal(dashboard.Document{
		Version: h.o.Version, History: h.o.Queries.Enabled(), RefreshSeconds: dashboard.RefreshSeconds,
		Ranges: dashboard.Ranges(lim.MaxRange), DefaultRange: dashboard.DefaultRange(lim.MaxRange, span, known),
		MaxPoints: lim.MaxPoints, Warnings: warnings, Panels: dashboard.Panels(),
	})
	if err != nil {
		panic(err) // plain strings and numbers: cannot fail
	}
	writeJSON(w, http.StatusOK, b)
}

// recoverer turns a handler panic into a 500 and counts it, so a bug in one
// route never takes the daemon down.
func recoverer(ev *events.Counter, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				ev.Inc(events.RouteError)
				log.Error("handler panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "internal server error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limiter returns a middleware that rejects requests beyond n in flight,
// across every handler it wraps, with 503.
func limiter(n int) func(http.Handler) http.Handler {
	if n <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	sem := make(chan struct{}, n)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("Retry-After", "1")
				http.Error(w, "too many requests in flight", http.StatusServiceUnavailable)
			}
		})
	}
}

// NewServer returns an http.Server with limits that keep a slow or malicious
// client from holding connections or memory.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		// net/http allows 4 KiB beyond this: headers over 16 KiB get 431.
		MaxHeaderBytes: 12 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}
