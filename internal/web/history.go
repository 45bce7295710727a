package web

// The page starts on the smallest range that holds the stored history
// (dashboard.DefaultRange), so the daemon asks Prometheus how far back that
// history reaches: one fixed, cheap query, through the proxy's connection,
// once a minute. It takes none of the page's query slots, which would
// answer a page's query 503 for it; Prometheus's own --query.max-concurrency
// queues it behind the page's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// historyQuery is how long ago, within window, the oldest stored sample of
// the daemon's poll-time gauge was taken: its value is the time of the poll
// it was scraped after, so the oldest value says how far back the history
// goes. One series, a range selector, no subquery: cheap for Prometheus.
func historyQuery(window time.Duration) string {
	return fmt.Sprintf("time() - min(min_over_time(edge_sensor_poll_last_success_timestamp_seconds[%s]))", model.Duration(window))
}

// History is how far back, within a window, Prometheus holds the daemon's
// history, as of the last time it was asked.
type History struct {
	proxy  *QueryProxy
	window time.Duration

	mu    sync.Mutex
	span  time.Duration
	known bool
}

// NewHistory asks through proxy how much of window is stored.
func NewHistory(proxy *QueryProxy, window time.Duration) *History {
	return &History{proxy: proxy, window: window}
}

// Span is the stored history's length; known is false before Prometheus
// first answered and while it does not. A nil History knows nothing.
func (h *History) Span() (span time.Duration, known bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.span, h.known
}

// Run asks every interval until ctx ends, every few seconds while the
// answer is not known (Prometheus starting with the daemon at boot).
func (h *History) Run(ctx context.Context, interval time.Duration) {
	for {
		next := interval
		if h.Update(ctx) != nil {
			next = min(interval, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// Update asks Prometheus once.
func (h *History) Update(ctx context.Context) error {
	span, err := h.proxy.storedSpan(ctx, h.window)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.span, h.known = span, err == nil
	return err
}

// storedSpan runs historyQuery: a length of history, 0 when nothing is
// stored within window.
func (p *QueryProxy) storedSpan(ctx context.Context, window time.Duration) (time.Duration, error) {
	if p.upstream == nil {
		return 0, errors.New("no Prometheus to ask (--prometheus.url is empty)")
	}
	ctx, cancel := context.WithTimeout(ctx, p.limits.Timeout+grace)
	defer cancel()
	form := url.Values{"query": {historyQuery(window)}, "timeout": {model.Duration(p.limits.Timeout).String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.upstream.JoinPath("api/v1/query").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, unwrapURLError(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil {
		return 0, fmt.Errorf("Prometheus answered %s, not its JSON: %w", resp.Status, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("Prometheus answered %s: %s", resp.Status, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("Prometheus answered %q, not a number of seconds", s)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
