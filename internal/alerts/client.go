package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// client talks to an Alertmanager's or Prometheus's HTTP API.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, hc *http.Client) client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return client{base: strings.TrimRight(base, "/"), http: hc}
}

func (c client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %d: %.200s", method, c.base+path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// metrics reads the /metrics of the server as families by name.
func (c client) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	b, err := c.do(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s/metrics: %w", c.base, err)
	}
	return fams, nil
}

// amStatus is the part of Alertmanager's /api/v2/status that matters here.
type amStatus struct {
	Uptime      time.Time `json:"uptime"`
	VersionInfo struct {
		Version string `json:"version"`
	} `json:"versionInfo"`
	Cluster struct {
		Status string `json:"status"`
	} `json:"cluster"`
}

func (c client) amStatus(ctx context.Context) (amStatus, error) {
	var s amStatus
	b, err := c.do(ctx, http.MethodGet, "/api/v2/status", nil)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	return s, err
}

// postableAlert is an alert of Alertmanager's API v2.
type postableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func (c client) postAlerts(ctx context.Context, alerts []postableAlert) error {
	b, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, "/api/v2/alerts", b)
	return err
}

// counters sums the counter family name by the label by (e.g. integration).
func counters(fams map[string]*dto.MetricFamily, name, by string) map[string]float64 {
	out := map[string]float64{}
	f, ok := fams[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		key := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == by {
				key = l.GetValue()
			}
		}
		switch {
		case m.GetCounter() != nil:
			out[key] += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			out[key] += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			out[key] += m.GetUntyped().GetValue()
		}
	}
	return out
}
