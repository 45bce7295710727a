package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/amconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// Journal reads a unit's log since a time; tests fake it.
type Journal interface {
	Since(unit string, since time.Time) (string, error)
}

// TestInput is what Test needs.
type TestInput struct {
	Settings *settings.Settings
	Device   string
	HTTP     *http.Client
	// Timeout is how long to wait for every receiver to accept the alert.
	Timeout time.Duration
	Poll    time.Duration // between looks at Alertmanager's metrics (1s)
	Journal Journal
	Out     io.Writer
}

// deliveries are Alertmanager's counters of notification requests (each
// try of each notification) per integration. Its counter of notifications
// is no use here: it counts one when the first try starts, and its failure
// only once every retry within the group interval has failed.
type deliveries struct{ reqs, failedReqs map[string]float64 }

func (am client) deliveries(ctx context.Context) (deliveries, error) {
	fams, err := am.metrics(ctx)
	if err != nil {
		return deliveries{}, err
	}
	return deliveries{counters(fams, "alertmanager_notification_requests_total", "integration"),
		counters(fams, "alertmanager_notification_requests_failed_total", "integration")}, nil
}

// accepted: a request of integration n succeeded since base.
func (d deliveries) accepted(base deliveries, n string) bool {
	return d.reqs[n]-d.failedReqs[n] > base.reqs[n]-base.failedReqs[n]
}

// Test sends a test alert through the local Alertmanager and waits until
// every integration of the receivers has delivered a notification, judged
// from Alertmanager's counters; then it resolves the alert (a resolved
// notification follows). The error says which integrations did not accept
// it and why, from Alertmanager's log when it can be read.
func Test(ctx context.Context, in TestInput) error {
	a := in.Settings.Alerting
	names := integrationsOf(a.Receivers)
	switch {
	case !a.Local:
		return errors.New("local alerting is off: edgectl alerts enable")
	case len(names) == 0:
		return errors.New("no receiver configured: edgectl alerts enable --webhook/--email/--telegram-...")
	}
	am := newClient("http://"+a.Listen, in.HTTP)
	if _, err := am.amStatus(ctx); err != nil {
		return fmt.Errorf("Alertmanager at %s does not answer: %w (systemctl status %s)", a.Listen, err, Unit)
	}
	base, err := am.deliveries(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	alert := testAlert(in.Settings, in.Device, start, start.Add(in.Timeout+time.Minute))
	if err := am.postAlerts(ctx, []postableAlert{alert}); err != nil {
		return fmt.Errorf("sending the test alert: %w", err)
	}
	fmt.Fprintf(in.Out, "test alert %s sent to Alertmanager at %s; waiting up to %s for %s\n",
		amconfig.TestAlertName, a.Listen, in.Timeout, strings.Join(names, ", "))
	pending, cur, err := waitDelivered(ctx, am, base, names, start.Add(in.Timeout), in.Poll)
	// Resolved either way, so that no test alert is left firing.
	alert.EndsAt = time.Now()
	rerr := am.postAlerts(ctx, []postableAlert{alert})
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("not accepted within %s by %s", in.Timeout, failureReasons(in.Journal, pending, base, cur, start))
	}
	fmt.Fprintf(in.Out, "delivered by %s in %s; a resolved notification follows\n", strings.Join(names, ", "),
		time.Since(start).Round(100*time.Millisecond))
	if rerr != nil {
		return fmt.Errorf("resolving the test alert: %w", rerr)
	}
	return nil
}

func testAlert(s *settings.Settings, device string, start, end time.Time) postableAlert {
	labels := map[string]string{"alertname": amconfig.TestAlertName, "severity": "info", "device": device,
		// One group per test run (its route groups by every label).
		"test": strconv.FormatInt(start.UnixNano(), 36)}
	if s.Site != "" {
		labels["site"] = s.Site
	}
	if s.Role != "" {
		labels["role"] = s.Role
	}
	return postableAlert{Labels: labels, StartsAt: start, EndsAt: end, Annotations: map[string]string{
		"summary":     "Test alert from " + device + " (edgectl alerts test)",
		"description": "Sent by `edgectl alerts test` to check that alerts of this device reach you. Nothing is wrong; it resolves at once.",
	}}
}

// waitDelivered polls until every integration accepted a notification or
// the deadline passes; pending are the ones that did not.
func waitDelivered(ctx context.Context, am client, base deliveries, names []string, deadline time.Time, poll time.Duration) (pending []string, cur deliveries, err error) {
	for {
		cur, err = am.deliveries(ctx)
		if err != nil {
			return nil, cur, err
		}
		pending = pending[:0]
		for _, n := range names {
			if !cur.accepted(base, n) {
				pending = append(pending, n)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			return pending, cur, nil
		}
		select {
		case <-ctx.Done():
			return nil, cur, ctx.Err()
		case <-time.After(poll):
		}
	}
}

var errField = regexp.MustCompile(`err="((?:[^"\\]|\\.)*)"`)

// failureReasons says, per pending integration, what the counters and the
// last "Notify ... failed" line of Alertmanager's log say.
func failureReasons(j Journal, pending []string, base, cur deliveries, since time.Time) string {
	log, jerr := "", errors.New("no journal")
	if j != nil {
		log, jerr = j.Since(Unit, since)
	}
	var out []string
	for _, n := range pending {
		s := fmt.Sprintf("%s (%.0f failed requests", n, cur.failedReqs[n]-base.failedReqs[n])
		if reason := lastNotifyError(log, n); reason != "" {
			s += "; Alertmanager: " + reason
		} else if jerr != nil {
			s += "; see Alertmanager's log: journalctl -u " + Unit
		} else {
			s += "; Alertmanager logged no error: is the route to edge-notify changed in alertmanager.yml?"
		}
		out = append(out, s+")")
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// lastNotifyError is the err of the last notification failure of
// integration n in Alertmanager's log (0.25's and 0.28's formats).
func lastNotifyError(log, n string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !strings.Contains(l, "Notify") || !strings.Contains(l, n) {
			continue
		}
		if m := errField.FindStringSubmatch(l); m != nil {
			return strings.ReplaceAll(m[1], `\"`, `"`)
		}
	}
	return ""
}
