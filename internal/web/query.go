package web

// The query proxy forwards the dashboard's PromQL queries to the local
// Prometheus: only instant and range queries, only the parameters they need,
// and within limits that keep a browser from costing the device more than a
// dashboard should. Nothing else of Prometheus's API is reachable through it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/edgeobs/edge-observability-stack/internal/httpgzip"
)

// QueryLimits bound what one query may cost.
type QueryLimits struct {
	// MaxRange is the longest end-start of a range query.
	MaxRange time.Duration
	// MaxPoints is the most points per series of a range query:
	// (end-start)/step+1.
	MaxPoints int
	// MaxConcurrent queries are forwarded at once; more get 503 at once.
	MaxConcurrent int
	// Timeout is the most a query may take; it is passed to Prometheus as
	// the query's timeout and enforced on the connection as well.
	Timeout time.Duration
	// MaxBodyBytes caps a POST body.
	MaxBodyBytes int64
}

// DefaultQueryLimits fit a 12h retention on a 2-core device: a day's worth of
// range is not there to query, and two queries at once leave a core to the
// scrapes.
func DefaultQueryLimits() QueryLimits {
	return QueryLimits{MaxRange: 12*time.Hour + 15*time.Minute, MaxPoints: 1000, MaxConcurrent: 2,
		Timeout: 20 * time.Second, MaxBodyBytes: 16 << 10}
}

func (l QueryLimits) validate() error {
	switch {
	case l.MaxRange <= 0:
		return fmt.Errorf("maximum range must be positive, got %s", l.MaxRange)
	case l.MaxPoints < 2:
		return fmt.Errorf("maximum points must be >= 2, got %d", l.MaxPoints)
	case l.MaxConcurrent < 1:
		return fmt.Errorf("maximum concurrent queries must be >= 1, got %d", l.MaxConcurrent)
	case l.Timeout <= 0:
		return fmt.Errorf("query timeout must be positive, got %s", l.Timeout)
	case l.MaxBodyBytes < 1:
		return fmt.Errorf("maximum request size must be positive, got %d", l.MaxBodyBytes)
	}
	return nil
}

// grace is how much longer than the query's own timeout the proxy waits, so
// that Prometheus's timeout error arrives before the proxy gives up.
const grace = 2 * time.Second

// QueryProxy forwards queries to one Prometheus.
type QueryProxy struct {
	upstream *url.URL // nil: no Prometheus, every query gets 503
	limits   QueryLimits
	client   *http.Client
	slots    chan struct{}
}

// NewQueryProxy returns a proxy to the Prometheus at upstream (its base URL, e.g.
// http://127.0.0.1:9090). An empty upstream turns history off.
func NewQueryProxy(upstream string, l QueryLimits) (*QueryProxy, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	p := &QueryProxy{limits: l, slots: make(chan struct{}, l.MaxConcurrent)}
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
		Timeout: l.Timeout + grace,
		Transport: &http.Transport{
			// Prometheus is local: never route through $HTTP_PROXY.
			Proxy:               nil,
			MaxIdleConnsPerHost: l.MaxConcurrent,
			IdleConnTimeout:     time.Minute,
			// Compressed answers are passed on as they are (see forward).
			DisableCompression: true,
		},
		// A redirect could lead anywhere; Prometheus's query API does not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// Enabled reports whether there is a Prometheus to query.
func (p *QueryProxy) Enabled() bool { return p.upstream != nil }

// Limits returns the proxy's limits.
func (p *QueryProxy) Limits() QueryLimits { return p.limits }

// instant serves /api/v1/query.
func (p *QueryProxy) instant() http.Handler { return p.handler("api/v1/query", p.instantParams) }

// rangeQuery serves /api/v1/query_range.
func (p *QueryProxy) rangeQuery() http.Handler { return p.handler("api/v1/query_range", p.rangeParams) }

// apiError is an error answered in Prometheus's format.
type apiError struct {
	status int
	typ    string // Prometheus's errorType: bad_data, unavailable, timeout
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badData(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_data", fmt.Sprintf(format, a...)}
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", e.typ, e.msg})
	writeJSON(w, e.status, b)
}

func (p *QueryProxy) handler(path string, params func(url.Values) (url.Values, *apiError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.upstream == nil {
			writeAPIError(w, &apiError{http.StatusServiceUnavailable, "unavailable", "history is off: edge-sensord runs without --prometheus.url"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, p.limits.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
				writeAPIError(w, &apiError{http.StatusRequestEntityTooLarge, "bad_data", fmt.Sprintf("request body over %d bytes", mb.Limit)})
				return
			}
			writeAPIError(w, badData("invalid form: %v", err))
			return
		}
		q, e := params(r.Form)
		if e != nil {
			writeAPIError(w, e)
			return
		}
		// Only queries that will be sent take a slot: a bad one is told so even when all are busy.
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			writeAPIError(w, &apiError{http.StatusServiceUnavailable, "unavailable",
				fmt.Sprintf("too many dashboard queries in flight (limit %d)", p.limits.MaxConcurrent)})
			return
		}
		p.forward(w, r, path, q)
	})
}

// timeout reads the optional timeout parameter, capped at the limit.
func (p *QueryProxy) timeout(form url.Values) (time.Duration, *apiError) {
	t := p.limits.Timeout
	if s := form.Get("timeout"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d <= 0 {
			return 0, badData("invalid parameter \"timeout\": %q is not a positive duration", s)
		}
		t = min(t, d)
	}
	// Prometheus reads the timeout in milliseconds at best.
	return max(t.Truncate(time.Millisecond), time.Millisecond), nil
}

func (p *QueryProxy) instantParams(form url.Values) (url.Values, *apiError) {
	q := form.Get("query")
	if strings.TrimSpace(q) == "" {
		return nil, badData("missing parameter \"query\"")
	}
	out := url.Values{"query": {q}}
	if s := form.Get("time"); s != "" {
		if _, err := parseTime(s); err != nil {
			return nil, badData("invalid parameter \"time\": %v", err)
		}
		out.Set("time", s)
	}
	t, e := p.timeout(form)
	if e != nil {
		return nil, e
	}
	out.Set("timeout", model.Duration(t).String())
	return out, nil
}

func (p *QueryProxy) rangeParams(form url.Values) (url.Values, *apiError) {
	out, e := p.instantParams(url.Values{"query": form["query"], "timeout": form["timeout"]})
	if e != nil {
		return nil, e
	}
	var t [2]float64
	for i, name := range []string{"start", "end"} {
		s := form.Get(name)
		if s == "" {
			return nil, badData("missing parameter %q", name)
		}
		v, err := parseTime(s)
		if err != nil {
			return nil, badData("invalid parameter %q: %v", name, err)
		}
		t[i] = v
		out.Set(name, s)
	}
	start, end := t[0], t[1]
	if end < start {
		return nil, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	if span := time.Duration((end - start) * float64(time.Second)); span > p.limits.MaxRange {
		return nil, badData("range %s is longer than the maximum of %s", model.Duration(span), model.Duration(p.limits.MaxRange))
	}
	s := form.Get("step")
	step, err := parseDuration(s)
	if s == "" || err != nil || step <= 0 {
		return nil, badData("invalid parameter \"step\": %q is not a positive duration", s)
	}
	if points := (end-start)/step.Seconds() + 1; points > float64(p.limits.MaxPoints) {
		return nil, badData("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", p.limits.MaxPoints)
	}
	out.Set("step", s)
	return out, nil
}

// parseTime reads a time as Prometheus's API does: Unix seconds, or RFC 3339.
func parseTime(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q is not a time", s)
		}
		return v, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	return float64(t.UnixNano()) / 1e9, nil
}

// parseDuration reads a duration as Prometheus's API does: seconds, or a
// Prometheus duration ("15s", "1m30s").
func parseDuration(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxInt64/1e9 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(v * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// forward sends the checked parameters to Prometheus and streams the answer
// back, so a large result never sits in the daemon's memory.
func (p *QueryProxy) forward(w http.ResponseWriter, r *http.Request, path string, q url.Values) {
	timeout, _ := parseDuration(q.Get("timeout"))
	ctx, cancel := context.WithTimeout(r.Context(), timeout+grace)
	defer cancel()
	// The server's write timeout must not cut a query that is still allowed to run.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + 2*grace))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.upstream.JoinPath(path).String(), strings.NewReader(q.Encode()))
	if err != nil {
		writeAPIError(w, &apiError{http.StatusInternalServerError, "internal", err.Error()})
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	gzipOK := httpgzip.Accepts(r.Header.Get("Accept-Encoding"))
	if gzipOK {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		switch {
		case r.Context().Err() != nil:
			// The client went away; nobody reads an answer.
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			writeAPIError(w, &apiError{http.StatusGatewayTimeout, "timeout", fmt.Sprintf("Prometheus did not answer within %s", timeout+grace)})
		default:
			writeAPIError(w, &apiError{http.StatusBadGateway, "unavailable", fmt.Sprintf("Prometheus at %s unreachable: %v", p.upstream.Redacted(), unwrapURLError(err))})
		}
		return
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	enc := resp.Header.Get("Content-Encoding")
	if !strings.HasPrefix(ct, "application/json") || (enc != "" && !(gzipOK && enc == "gzip")) {
		writeAPIError(w, &apiError{http.StatusBadGateway, "unavailable",
			fmt.Sprintf("%s at %s answered %s with %q, not Prometheus's JSON", path, p.upstream.Redacted(), resp.Status, ct)})
		return
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
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// unwrapURLError drops url.Error's "Post URL:" prefix, which repeats the URL.
func unwrapURLError(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
