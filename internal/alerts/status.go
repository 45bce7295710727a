package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// StatusInput is what Status asks.
type StatusInput struct {
	Settings      *settings.Settings
	PrometheusURL string // "" skips Prometheus's side
	HTTP          *http.Client
}

// Report is the state of alert delivery.
type Report struct {
	Local     bool     `json:"local"`
	Listen    string   `json:"listen"`
	Receivers []string `json:"receivers"`
	// GroupWait, GroupInterval, RepeatInterval are the settings' timing
	// (the user's alertmanager.yml may set its own).
	GroupWait      string        `json:"group_wait"`
	GroupInterval  string        `json:"group_interval"`
	RepeatInterval string        `json:"repeat_interval"`
	Central        string        `json:"central,omitempty"`
	Alertmanager   *AMState      `json:"alertmanager,omitempty"`
	Integrations   []Integration `json:"integrations"`
	// Senders are Prometheus's Alertmanagers and what it sent them.
	Senders  []Sender `json:"prometheus_alertmanagers"`
	Problems []string `json:"problems"`
	ExitCode int      `json:"exit_code"`
}

// AMState is the local Alertmanager as it answers.
type AMState struct {
	Up           bool       `json:"up"`
	Error        string     `json:"error,omitempty"`
	Version      string     `json:"version,omitempty"`
	Since        *time.Time `json:"since,omitempty"`
	Cluster      string     `json:"cluster,omitempty"`
	ActiveAlerts float64    `json:"active_alerts"`
}

// Integration is one kind of receiver (webhook, email, telegram) as
// Alertmanager counts its notifications since it started; the last
// delivery and failure come from Prometheus's history of those counters
// (nil when it holds none).
type Integration struct {
	Name         string     `json:"name"`
	Notified     float64    `json:"notifications"`
	Failed       float64    `json:"failed"`
	Requests     float64    `json:"requests"`
	FailedReqs   float64    `json:"failed_requests"`
	LastDelivery *time.Time `json:"last_delivery,omitempty"`
	LastFailure  *time.Time `json:"last_failure,omitempty"`
}

// Sender is one Alertmanager Prometheus sends to.
type Sender struct {
	URL    string  `json:"url"`
	Sent   float64 `json:"sent"`
	Errors float64 `json:"errors"`
}

// integrationsOf are the integrations the settings' receivers use.
func integrationsOf(r settings.Receivers) []string {
	var out []string
	if r.EmailTo != "" {
		out = append(out, "email")
	}
	if r.TelegramBotTokenFile != "" {
		out = append(out, "telegram")
	}
	if r.WebhookURL != "" {
		out = append(out, "webhook")
	}
	return out
}

// Status gathers the report. Exit code 1 when local alerting is on but
// Alertmanager does not answer or Prometheus cannot reach it, or when an
// integration's last try of a notification failed.
func Status(ctx context.Context, in StatusInput) Report {
	a := in.Settings.Alerting
	r := Report{Local: a.Local, Listen: a.Listen, Receivers: describeReceivers(a.Receivers), GroupWait: a.GroupWait,
		GroupInterval: a.GroupInterval, RepeatInterval: a.RepeatInterval, Central: redactURL(a.Central.URL),
		Integrations: []Integration{}, Senders: []Sender{}, Problems: []string{}}
	if a.Local {
		r.readAlertmanager(ctx, newClient("http://"+a.Listen, in.HTTP), integrationsOf(a.Receivers))
	}
	if in.PrometheusURL != "" && (a.Local || a.Central.URL != "") {
		prom := newClient(in.PrometheusURL, in.HTTP)
		r.readSenders(ctx, prom)
		r.readHistory(ctx, prom)
	}
	for _, i := range r.Integrations {
		if i.LastFailure != nil && (i.LastDelivery == nil || i.LastFailure.After(*i.LastDelivery)) {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: the last try of a notification failed (%s); see journalctl -u %s",
				i.Name, i.LastFailure.Format(time.RFC3339), Unit))
		}
	}
	if len(r.Problems) > 0 {
		r.ExitCode = exitcode.Failure
	}
	return r
}

func (r *Report) readAlertmanager(ctx context.Context, am client, names []string) {
	st := &AMState{}
	r.Alertmanager = st
	s, err := am.amStatus(ctx)
	if err != nil {
		st.Error = err.Error()
		r.Problems = append(r.Problems, fmt.Sprintf("local alerting is on but Alertmanager at %s does not answer: %v (systemctl status %s)", r.Listen, err, Unit))
		return
	}
	st.Up, st.Version, st.Cluster = true, s.VersionInfo.Version, s.Cluster.Status
	if !s.Uptime.IsZero() {
		st.Since = &s.Uptime
	}
	fams, err := am.metrics(ctx)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
		return
	}
	st.ActiveAlerts = counters(fams, "alertmanager_alerts", "state")["active"]
	total := counters(fams, "alertmanager_notifications_total", "integration")
	failed := counters(fams, "alertmanager_notifications_failed_total", "integration")
	reqs := counters(fams, "alertmanager_notification_requests_total", "integration")
	failedReqs := counters(fams, "alertmanager_notification_requests_failed_total", "integration")
	for _, n := range names {
		r.Integrations = append(r.Integrations, Integration{Name: n, Notified: total[n], Failed: failed[n],
			Requests: reqs[n], FailedReqs: failedReqs[n]})
	}
}

// readSenders reads Prometheus's notifier counters per Alertmanager.
func (r *Report) readSenders(ctx context.Context, prom client) {
	fams, err := prom.metrics(ctx)
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("Prometheus: %v", err))
		return
	}
	sent := counters(fams, "prometheus_notifications_sent_total", "alertmanager")
	errs := counters(fams, "prometheus_notifications_errors_total", "alertmanager")
	urls := make([]string, 0, len(sent))
	for u := range sent {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		r.Senders = append(r.Senders, Sender{URL: u, Sent: sent[u], Errors: errs[u]})
	}
	if len(urls) == 0 {
		r.Problems = append(r.Problems, "Prometheus sends its alerts to no Alertmanager (not restarted since alerts were enabled?)")
	}
}

// historyQuery is the last time, within 12h, that a notification request
// of an integration succeeded (or, with failed, failed), to within a
// minute: from Prometheus's samples of the local Alertmanager's counters.
func historyQuery(failed bool) string {
	sel := func(m string) string {
		return fmt.Sprintf(`sum by (integration) (increase(%s{job=%q}[2m]))`, m, promconfig.AlertmanagerJob)
	}
	expr := sel("alertmanager_notification_requests_failed_total")
	if !failed {
		expr = sel("alertmanager_notification_requests_total") + " - " + expr
	}
	return fmt.Sprintf(`max by (integration) (max_over_time(timestamp((%s) > 0.5)[12h:1m]))`, expr)
}

func (r *Report) readHistory(ctx context.Context, prom client) {
	for i := range r.Integrations {
		in := &r.Integrations[i]
		for _, failed := range []bool{false, true} {
			t, err := queryTime(ctx, prom, historyQuery(failed), in.Name)
			if err != nil {
				r.Problems = append(r.Problems, fmt.Sprintf("Prometheus: %v", err))
				return
			}
			if failed {
				in.LastFailure = t
			} else {
				in.LastDelivery = t
			}
		}
	}
}

// queryTime runs an instant query whose values are Unix times and returns
// that of the series with integration="name", nil when there is none.
func queryTime(ctx context.Context, prom client, q, name string) (*time.Time, error) {
	b, err := prom.do(ctx, http.MethodGet, "/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	for _, s := range resp.Data.Result {
		if s.Metric["integration"] != name {
			continue
		}
		v, _ := s.Value[1].(string)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q, err)
		}
		t := time.Unix(int64(f), 0)
		return &t, nil
	}
	return nil, nil
}

// WriteText writes the report for people.
func WriteText(w io.Writer, r Report, now time.Time) error {
	state := "off (edgectl alerts enable turns it on)"
	if r.Local {
		state = "on, Alertmanager on " + r.Listen
	}
	fmt.Fprintf(w, "local alerting: %s\n", state)
	fmt.Fprintf(w, "receivers:      %s\n", strings.Join(r.Receivers, "; "))
	fmt.Fprintf(w, "timing:         group_wait %s, group_interval %s, repeat_interval %s\n", r.GroupWait, r.GroupInterval, r.RepeatInterval)
	if r.Central != "" {
		fmt.Fprintf(w, "central:        %s\n", r.Central)
	}
	if am := r.Alertmanager; am != nil && am.Up {
		since := ""
		if am.Since != nil {
			since = ", up since " + am.Since.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "alertmanager:   %s%s, cluster %s, %.0f active alerts\n", am.Version, since, am.Cluster, am.ActiveAlerts)
	}
	if len(r.Integrations) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nINTEGRATION\tNOTIFICATIONS\tFAILED\tREQUESTS FAILED\tLAST DELIVERY\tLAST FAILURE")
		for _, i := range r.Integrations {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f/%.0f\t%s\t%s\n", i.Name, i.Notified, i.Failed, i.FailedReqs, i.Requests,
				ago(i.LastDelivery, now), ago(i.LastFailure, now))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, s := range r.Senders {
		fmt.Fprintf(w, "prometheus -> %s: %.0f alerts sent, %.0f errors\n", s.URL, s.Sent, s.Errors)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	return nil
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "within the last minute"
	case d < time.Hour:
		return fmt.Sprintf("about %d min ago", int(d.Minutes()))
	}
	return fmt.Sprintf("about %dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
}
