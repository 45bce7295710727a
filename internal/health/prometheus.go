package health

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
	"time"

	"github.com/prometheus/common/model"
)

// Target is one active scrape target of Prometheus.
type Target struct {
	Job          string   `json:"job"`
	Instance     string   `json:"instance"`
	Health       string   `json:"health"` // up, down or unknown (not scraped yet)
	LastError    string   `json:"last_error,omitempty"`
	SuccessRatio *float64 `json:"success_ratio,omitempty"` // share of successful scrapes over the window; nil when Prometheus has no data
}

// promClient talks to Prometheus's HTTP API.
type promClient struct {
	base string
	http *http.Client
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (c promClient) get(ctx context.Context, path string, q url.Values, data any) error {
	u := strings.TrimRight(c.base, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Without url.Error's "Get <URL>:", which repeats what the report names.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("GET %s: HTTP %d, not a Prometheus API response: %.200q", u, resp.StatusCode, body)
	}
	if r.Status != "success" {
		return fmt.Errorf("GET %s: HTTP %d: %s: %s", u, resp.StatusCode, r.ErrorType, r.Error)
	}
	if err := json.Unmarshal(r.Data, data); err != nil {
		return fmt.Errorf("GET %s: decoding data: %w", u, err)
	}
	return nil
}

// targets returns the active targets, sorted as Prometheus lists them.
func (c promClient) targets(ctx context.Context) ([]Target, error) {
	var data struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := c.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(data.ActiveTargets))
	for _, t := range data.ActiveTargets {
		out = append(out, Target{
			Job:       t.Labels["job"],
			Instance:  t.Labels["instance"],
			Health:    t.Health,
			LastError: t.LastError,
		})
	}
	return out, nil
}

// headMaxTime returns the time of the newest sample in Prometheus's head
// block; ok is false when the head holds no series.
func (c promClient) headMaxTime(ctx context.Context) (newest time.Time, ok bool, err error) {
	var data struct {
		HeadStats struct {
			NumSeries uint64 `json:"numSeries"`
			MaxTime   int64  `json:"maxTime"` // milliseconds
		} `json:"headStats"`
	}
	if err := c.get(ctx, "/api/v1/status/tsdb", nil, &data); err != nil {
		return time.Time{}, false, err
	}
	if data.HeadStats.NumSeries == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(data.HeadStats.MaxTime), true, nil
}

// successRatios returns, per job and instance, the share of successful
// scrapes over the window (the mean of `up`).
func (c promClient) successRatios(ctx context.Context, window time.Duration) (map[[2]string]float64, error) {
	q := fmt.Sprintf("avg_over_time(up[%s])", model.Duration(window))
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := c.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %q, want vector", q, data.ResultType)
	}
	out := make(map[[2]string]float64, len(data.Result))
	for _, r := range data.Result {
		s, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %s: malformed sample value %v", q, r.Value[1])
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q, err)
		}
		out[[2]string{r.Metric["job"], r.Metric["instance"]}] = v
	}
	return out, nil
}
