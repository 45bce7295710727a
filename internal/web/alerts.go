package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of GET /api/alerts: the answer stays small whatever the rules
// produce, and so does what the daemon reads to make it.
const (
	maxAlertsUpstream = 256 << 10 // bytes of Prometheus's answer read
	maxAlerts         = 64
	maxAlertLabels    = 24
	maxLabelBytes     = 256 // each label name and value
	maxSummaryBytes   = 512
	maxDescBytes      = 2048
)

// Alert is one pending or firing alert as GET /api/alerts lists it.
type Alert struct {
	Name        string            `json:"name"`
	State       string            `json:"state"` // pending or firing
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	ActiveAt    time.Time         `json:"activeAt"`
	Labels      map[string]string `json:"labels"`
}

// AlertsAnswer is the body of GET /api/alerts, in Prometheus's envelope.
type AlertsAnswer struct {
	Status string `json:"status"` // success
	Data   struct {
		Alerts []Alert `json:"alerts"`
		// Omitted counts the active alerts beyond the first maxAlerts.
		Omitted int `json:"omitted"`
	} `json:"data"`
}

// promAlerts is what is read of Prometheus's /api/v1/alerts.
type promAlerts struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
			ActiveAt    time.Time         `json:"activeAt"`
		} `json:"alerts"`
	} `json:"data"`
}

// alerts serves GET /api/alerts: Prometheus's pending and firing alerts,
// firing first, then by severity and age. It takes no parameters, and asks
// Prometheus one fixed path.
func (p *QueryProxy) alerts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.refuseBody(w, r) {
			return
		}
		if e := only(r.URL.Query()); e != nil {
			writeAPIError(w, e)
			return
		}
		p.serve(w, r, func(ctx context.Context) *apiError {
			list, e := p.fetchAlerts(ctx)
			if e != nil {
				return e
			}
			b, _ := json.Marshal(summarise(list))
			writeJSON(w, http.StatusOK, b)
			return nil
		})
	})
}

func (p *QueryProxy) fetchAlerts(ctx context.Context) (*promAlerts, *apiError) {
	const path = "api/v1/alerts"
	req, err := http.NewRequest(http.MethodGet, p.upstream.JoinPath(path).String(), nil)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "internal", err.Error()}
	}
	resp, e := p.send(ctx, req)
	if e != nil {
		return nil, e
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil, notPrometheus(p.upstream, path, resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAlertsUpstream+1))
	var a promAlerts
	switch {
	case err != nil:
		return nil, p.readError(ctx, err)
	case len(b) > maxAlertsUpstream:
		return nil, unavailable("Prometheus's list of alerts is over %d KiB; edge-sensord does not read it", maxAlertsUpstream>>10)
	case json.Unmarshal(b, &a) != nil || a.Status != "success":
		return nil, unavailable("%s at %s answered %s: %q", path, p.upstream.Redacted(), resp.Status, truncate(string(b), 200))
	}
	return &a, nil
}

// readError is the answer to an answer cut short.
func (p *QueryProxy) readError(ctx context.Context, err error) *apiError {
	if ctx.Err() != nil {
		return &apiError{http.StatusServiceUnavailable, "timeout", fmt.Sprintf("Prometheus did not answer within %s (--dashboard.query-timeout)", p.limits.Timeout)}
	}
	return unavailable("reading Prometheus's answer: %v", err)
}

// summarise keeps the pending and firing alerts, in order, within bounds.
func summarise(a *promAlerts) AlertsAnswer {
	var out AlertsAnswer
	out.Status = "success"
	out.Data.Alerts = []Alert{}
	for _, pa := range a.Data.Alerts {
		if pa.State != "firing" && pa.State != "pending" {
			continue
		}
		out.Data.Alerts = append(out.Data.Alerts, Alert{
			Name: truncate(pa.Labels["alertname"], maxLabelBytes), State: pa.State,
			Severity: truncate(pa.Labels["severity"], maxLabelBytes),
			Summary:  truncate(pa.Annotations["summary"], maxSummaryBytes), Description: truncate(pa.Annotations["description"], maxDescBytes),
			ActiveAt: pa.ActiveAt, Labels: boundLabels(pa.Labels),
		})
	}
	slices.SortStableFunc(out.Data.Alerts, func(x, y Alert) int {
		return cmp.Or(cmp.Compare(stateRank(x.State), stateRank(y.State)), cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)),
			x.ActiveAt.Compare(y.ActiveAt), cmp.Compare(x.Name, y.Name))
	})
	if n := len(out.Data.Alerts); n > maxAlerts {
		out.Data.Omitted = n - maxAlerts
		out.Data.Alerts = out.Data.Alerts[:maxAlerts]
	}
	return out
}

func stateRank(s string) int {
	if s == "firing" {
		return 0
	}
	return 1
}

func severityRank(s string) int {
	if i := slices.Index([]string{"critical", "warning", "info"}, s); i >= 0 {
		return i
	}
	return 3
}

// boundLabels keeps the first maxAlertLabels labels by name, each cut to
// maxLabelBytes.
func boundLabels(l map[string]string) map[string]string {
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	slices.Sort(names)
	out := map[string]string{}
	for _, k := range names[:min(len(names), maxAlertLabels)] {
		out[truncate(k, maxLabelBytes)] = truncate(l[k], maxLabelBytes)
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// AlertCount is how many alerts Prometheus holds active, for the daemon's
// status line.
type AlertCount struct{ Firing, Critical, Pending int }

func (c AlertCount) String() string {
	s := fmt.Sprintf("%d alerts firing", c.Firing)
	if c.Firing == 1 {
		s = "1 alert firing"
	}
	if c.Critical > 0 {
		s += fmt.Sprintf(" (%d critical)", c.Critical)
	}
	if c.Pending > 0 {
		s += fmt.Sprintf(", %d pending", c.Pending)
	}
	return s
}

// CountAlerts asks Prometheus for its alerts, within the dashboard's query
// timeout. It must only be called when Enabled.
func (p *QueryProxy) CountAlerts(ctx context.Context) (AlertCount, error) {
	ctx, cancel := context.WithTimeout(ctx, p.limits.Timeout)
	defer cancel()
	var c AlertCount
	a, e := p.fetchAlerts(ctx)
	if e != nil {
		return c, e
	}
	for _, pa := range a.Data.Alerts {
		switch {
		case pa.State == "pending":
			c.Pending++
		case pa.State != "firing":
		case pa.Labels["severity"] == "critical":
			c.Critical++
			fallthrough
		default:
			c.Firing++
		}
	}
	return c, nil
}
