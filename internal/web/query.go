package web

// The query proxy runs the dashboard's own queries on the local Prometheus:
// a client names a panel of internal/dashboard and one of its queries, and
// chooses only the time (a validated range, or an instant); the PromQL comes
// from the panel list. Nothing a client writes is evaluated by Prometheus,
// and nothing else of Prometheus's API is reachable, except its list of
// alerts (alerts.go). Limits keep a browser, or a hostile client, from
// costing the device more than a dashboard should.

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/httpgzip"
)

// QueryLimits bound what the dashboard's queries may cost.
type QueryLimits struct {
	// MaxRange is the longest end-start of a range query.
	MaxRange time.Duration
	// MaxPoints is the most points per series of a range query:
	// (end-start)/step+1.
	MaxPoints int
	// MaxConcurrent requests are forwarded at once; more get 503 at once.
	MaxConcurrent int
	// MaxPerClient of those may come from one client address (an IPv6
	// /64), so that one client cannot take every slot.
	MaxPerClient int
	// Timeout is the most a request to Prometheus may take; then the proxy
	// cancels it and answers 503. It must stay below Prometheus's
	// --query.timeout, so that the proxy always answers first.
	Timeout time.Duration
	// MaxBodyBytes caps the body a request may carry (the API reads none).
	MaxBodyBytes int64
}

// DefaultQueryLimits fit a 12h retention on a 2-core device: a day's worth of
// range is not there to query; two pages (two queries each) at once, while
// Prometheus runs two queries at a time (--query.max-concurrency) and
// queues the rest; and a timeout under the 15s Prometheus allows a query.
func DefaultQueryLimits() QueryLimits {
	return QueryLimits{MaxRange: 12*time.Hour + 15*time.Minute, MaxPoints: 1000, MaxConcurrent: 4, MaxPerClient: 2,
		Timeout: 10 * time.Second, MaxBodyBytes: 16 << 10}
}

func (l QueryLimits) validate() error {
	switch {
	case l.MaxRange <= 0:
		return fmt.Errorf("maximum range must be positive, got %s", l.MaxRange)
	case l.MaxPoints < 2:
		return fmt.Errorf("maximum points must be >= 2, got %d", l.MaxPoints)
	case l.MaxConcurrent < 1:
		return fmt.Errorf("maximum concurrent queries must be >= 1, got %d", l.MaxConcurrent)
	case l.MaxPerClient < 1 || l.MaxPerClient > l.MaxConcurrent:
		return fmt.Errorf("maximum concurrent queries per client must be between 1 and %d, got %d", l.MaxConcurrent, l.MaxPerClient)
	case l.Timeout <= 0:
		return fmt.Errorf("query timeout must be positive, got %s", l.Timeout)
	case l.MaxBodyBytes < 1:
		return fmt.Errorf("maximum request size must be positive, got %d", l.MaxBodyBytes)
	}
	return nil
}

// grace is how much longer than the proxy's timeout Prometheus is told a
// query may run: the proxy cancels it first, and Prometheus stops it on its
// own should the cancellation not reach it.
const grace = time.Second

// QueryProxy runs the dashboard's queries on one Prometheus.
type QueryProxy struct {
	upstream *url.URL // nil: no Prometheus, every query gets 503
	limits   QueryLimits
	client   *http.Client
	slots    *slots
	panels   map[string]dashboard.Panel
}

// NewQueryProxy returns a proxy to the Prometheus at upstream (its base URL, e.g.
// http://127.0.0.1:9090). An empty upstream turns history off.
func NewQueryProxy(upstream string, l QueryLimits) (*QueryProxy, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	p := &QueryProxy{limits: l, slots: newSlots(l.MaxConcurrent, l.MaxPerClient), panels: map[string]dashboard.Panel{}}
	for _, pn := range dashboard.Panels() {
		p.panels[pn.ID] = pn
	}
	if upstream == "" {
		return p, nil
	}
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("Prometheus URL %q: %w", upstream, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("Prometheus URL %q: want http(s)://host[:port][/prefix], without query or credentials", upstream)
	}
	p.upstream = u
	p.client = &http.Client{
		// A backstop: each request has its own deadline (forward).
		Timeout: l.Timeout + grace,
		Transport: &http.Transport{
			// Prometheus is local: never route through $HTTP_PROXY.
			Proxy:               nil,
			MaxIdleConnsPerHost: l.MaxConcurrent,
			IdleConnTimeout:     time.Minute,
			// Compressed answers are passed on as they are (see forward).
			DisableCompression: true,
		},
		// A redirect could lead anywhere; Prometheus's API does not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// Enabled reports whether there is a Prometheus to query.
func (p *QueryProxy) Enabled() bool { return p.upstream != nil }

// Limits returns the proxy's limits.
func (p *QueryProxy) Limits() QueryLimits { return p.limits }

// apiError is an error answered in Prometheus's format.
type apiError struct {
	status int
	typ    string // Prometheus's errorType: bad_data, not_found, unavailable, timeout
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badData(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_data", fmt.Sprintf(format, a...)}
}

func unavailable(format string, a ...any) *apiError {
	return &apiError{http.StatusServiceUnavailable, "unavailable", fmt.Sprintf(format, a...)}
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", e.typ, e.msg})
	writeJSON(w, e.status, b)
}

// freeFormGone answers what used to be the free-form query API.
func freeFormGone(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("%s is not served: edge-sensord runs only "+
		"the dashboard's own queries (/api/panels/{id}/{query}); on the device, query Prometheus at 127.0.0.1:9090", r.URL.Path)})
}

// refuseBody answers 413 for a request with a body over the limit. The API
// reads no body, so a small one is ignored and a slow one holds nothing.
func (p *QueryProxy) refuseBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > p.limits.MaxBodyBytes || (r.ContentLength < 0 && len(r.TransferEncoding) > 0) {
		w.Header().Set("Connection", "close")
		writeAPIError(w, &apiError{http.StatusRequestEntityTooLarge, "bad_data",
			fmt.Sprintf("request body over %d bytes (this API takes none)", p.limits.MaxBodyBytes)})
		return true
	}
	return false
}

// serve runs one checked request to Prometheus within the limits: history
// on, a free slot for the client, and the answer written by answer.
func (p *QueryProxy) serve(w http.ResponseWriter, r *http.Request, answer func(ctx context.Context) *apiError) {
	if p.upstream == nil {
		writeAPIError(w, unavailable("history is off: edge-sensord runs without --prometheus.url"))
		return
	}
	release, e := p.slots.acquire(clientKey(r.RemoteAddr))
	if e != nil {
		w.Header().Set("Retry-After", "1")
		writeAPIError(w, e)
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), p.limits.Timeout)
	defer cancel()
	// The server's write timeout must not cut an answer that is still allowed to come.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(p.limits.Timeout + grace))
	if e := answer(ctx); e != nil && r.Context().Err() == nil {
		writeAPIError(w, e)
	}
}

// send asks Prometheus; an error is what to answer instead (nothing when
// the client went away: the request to Prometheus is cancelled with it).
func (p *QueryProxy) send(ctx context.Context, req *http.Request) (*http.Response, *apiError) {
	resp, err := p.client.Do(req.WithContext(ctx))
	switch {
	case err == nil:
		return resp, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &apiError{http.StatusServiceUnavailable, "timeout", fmt.Sprintf(
			"Prometheus did not answer within %s (--dashboard.query-timeout); the query was cancelled", p.limits.Timeout)}
	default:
		return nil, unavailable("Prometheus at %s is not answering: %v", p.upstream.Redacted(), unwrapURLError(err))
	}
}

// forward sends the panel's query to Prometheus and streams the answer back,
// so a large result never sits in the daemon's memory.
func (p *QueryProxy) forward(ctx context.Context, w http.ResponseWriter, r *http.Request, path string, q url.Values) *apiError {
	req, err := http.NewRequest(http.MethodPost, p.upstream.JoinPath(path).String(), strings.NewReader(q.Encode()))
	if err != nil {
		return &apiError{http.StatusInternalServerError, "internal", err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	gzipOK := httpgzip.Accepts(r.Header.Get("Accept-Encoding"))
	if gzipOK {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, e := p.send(ctx, req)
	if e != nil {
		return e
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	enc := resp.Header.Get("Content-Encoding")
	if !strings.HasPrefix(ct, "application/json") || (enc != "" && !(gzipOK && enc == "gzip")) {
		return notPrometheus(p.upstream, path, resp)
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
		return failed(resp)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	return nil
}

// notPrometheus is the answer to an upstream answer that is not
// Prometheus's JSON: Prometheus starting up (503), or another server.
func notPrometheus(u *url.URL, path string, resp *http.Response) *apiError {
	return unavailable("%s at %s answered %s with %q, not Prometheus's JSON", path, u.Redacted(), resp.Status, resp.Header.Get("Content-Type"))
}

// failed is the answer to Prometheus's own failure (500: a storage error):
// 503 with its message, as edge-sensord answers no 5xx but 503.
func failed(resp *http.Response) *apiError {
	var e struct{ Error string }
	body := io.LimitReader(resp.Body, 4<<10)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(body); err == nil {
			body = zr
		}
	}
	json.NewDecoder(body).Decode(&e)
	return unavailable("Prometheus failed to answer (%s): %s", resp.Status, e.Error)
}

// unwrapURLError drops url.Error's "Post URL:" prefix, which repeats the URL.
func unwrapURLError(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
