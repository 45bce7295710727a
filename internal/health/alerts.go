package health

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Alert is one alert of Prometheus, firing or pending (its condition holds
// but not yet for the rule's "for:").
type Alert struct {
	Name     string            `json:"name"`
	State    string            `json:"state"` // firing or pending
	Severity string            `json:"severity,omitempty"`
	Summary  string            `json:"summary,omitempty"`
	ActiveAt *time.Time        `json:"active_at,omitempty"` // since when the condition holds
	Labels   map[string]string `json:"labels"`
}

// alerts returns Prometheus's firing and pending alerts: firing first, then
// by severity (critical first) and name.
func (c promClient) alerts(ctx context.Context) ([]Alert, error) {
	var data struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
			ActiveAt    *time.Time        `json:"activeAt"`
		} `json:"alerts"`
	}
	if err := c.get(ctx, "/api/v1/alerts", nil, &data); err != nil {
		return nil, err
	}
	out := make([]Alert, 0, len(data.Alerts))
	for _, a := range data.Alerts {
		out = append(out, Alert{Name: a.Labels["alertname"], State: a.State, Severity: a.Labels["severity"],
			Summary: a.Annotations["summary"], ActiveAt: a.ActiveAt, Labels: a.Labels})
	}
	rank := map[string]int{"critical": 0, "warning": 1}
	sevRank := func(s string) int {
		if r, ok := rank[s]; ok {
			return r
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.State == "firing") != (b.State == "firing") {
			return a.State == "firing"
		}
		if sevRank(a.Severity) != sevRank(b.Severity) {
			return sevRank(a.Severity) < sevRank(b.Severity)
		}
		return a.Name < b.Name
	})
	return out, nil
}

// checkAlerts lists what fires: a critical alert firing makes the stack
// unhealthy (the device needs someone now); others are listed only. Not
// being able to ask is a warning: the rest of the report stands.
func (r *Report) checkAlerts(ctx context.Context, c promClient, o Options) {
	alerts, err := c.alerts(ctx)
	if err != nil {
		r.warn("Prometheus at %s: cannot list its alerts: %v", o.PrometheusURL, err)
		return
	}
	r.Alerts = alerts
	for _, a := range alerts {
		if a.State != "firing" || a.Severity != "critical" {
			continue
		}
		msg := "alert " + a.Name + " is firing (critical)"
		if a.ActiveAt != nil {
			msg += " since " + a.ActiveAt.UTC().Format(time.RFC3339)
		}
		if a.Summary != "" {
			msg += ": " + strings.TrimSpace(a.Summary)
		}
		r.problem("%s", msg)
	}
}
