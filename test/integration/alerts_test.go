//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/alerts"
	"github.com/edgeobs/edge-observability-stack/internal/health"
)

// Short timing for the tests, through the settings (edgectl alerts enable
// flags), not the shipped files: a group's first notification after 2s,
// the next after 10s, no reminder within the test.
var fastTiming = []string{"--group-wait", "2s", "--group-interval", "10s", "--repeat-interval", "1h"}

// TestAlertsReachAPerson: a real fault (edge-sensord stops) fires the
// shipped EdgeTargetDown in Debian's Prometheus; Debian's Alertmanager,
// configured by `edgectl alerts enable` and run by `edgectl
// alertmanager-exec`, delivers it with the device's labels and summary to a
// webhook and to a real SMTP server (with AUTH, the password from a 0600
// file); edgectl status lists it. Alertmanager restarted while it fires sends
// it neither again nor never; once the daemon is back, the resolved
// notification arrives once at both. edgectl alerts test and status agree.
func TestAlertsReachAPerson(t *testing.T) {
	requireAlertmanager(t)
	t.Parallel()
	hook := newWebhookSink(t)
	smtp := startSMTPSink(t)
	daemon, stopDaemon := startDaemonStoppable(t)
	f := newAlertFiles(t, "EDGE_DEVICE_ID=pump-17\nEDGE_SITE=plant-a\nEDGE_ROLE=gateway\n", rulesConfig(t, daemon))

	args := append([]string{"alerts", "enable", "--webhook", hook.url(), "--email", "ops@example.org", "--smtp", smtp.addr,
		"--smtp-from", "pump-17@example.org", "--smtp-auth-username", smtp.user, "--smtp-auth-password-file", smtp.passwordFile,
		"--smtp-require-tls=false"}, fastTiming...)
	if code, out := f.edgectl(t, args...); code != 0 || !strings.Contains(out, "systemd is not running") {
		t.Fatalf("edgectl alerts enable: exit %d\n%s", code, out)
	}
	am := f.startAlertmanager(t)
	prom := f.startPrometheus(t)
	waitUntil(t, "Prometheus to scrape the daemon and Alertmanager", 30*time.Second, func() bool {
		v, ok := promQuery(t, prom, `sum(up{job=~"edge-sensord|alertmanager"})`)
		return ok && v == 2
	})

	// The test alert reaches both receivers.
	if code, out := f.edgectl(t, "alerts", "test", "--timeout", "60s"); code != 0 || !strings.Contains(out, "delivered by email, webhook") {
		t.Fatalf("edgectl alerts test: exit %d\n%s", code, out)
	}
	if hook.count("EdgeAlertTest", "firing") != 1 || smtp.count(t, "EdgeAlertTest") != 1 {
		t.Fatalf("test alert: %d webhook notifications, %d mails", hook.count("EdgeAlertTest", "firing"), smtp.count(t, "EdgeAlertTest"))
	}

	// The fault: EdgeTargetDown fires after its 1m.
	stopDaemon()
	faultAt := time.Now()
	waitUntil(t, "EdgeTargetDown at the webhook", 2*time.Minute, func() bool { return hook.count("EdgeTargetDown", "firing") > 0 })
	waitUntil(t, "EdgeTargetDown by mail", 30*time.Second, func() bool { return smtp.count(t, "FIRING", "EdgeTargetDown") > 0 })
	t.Logf("EdgeTargetDown delivered %s after the daemon stopped", time.Since(faultAt).Round(time.Second))
	labels, ann, _ := hook.find("EdgeTargetDown", "firing")
	wantSummary := "Scrape target edge-sensord (" + daemon + ") is down"
	for k, v := range map[string]string{"device": "pump-17", "site": "plant-a", "role": "gateway", "job": "edge-sensord", "severity": "critical"} {
		if labels[k] != v {
			t.Errorf("webhook alert label %s=%q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}
	if ann["summary"] != wantSummary {
		t.Errorf("webhook summary %q, want %q", ann["summary"], wantSummary)
	}
	checkMail(t, smtp, "FIRING", []string{"EdgeTargetDown", "pump-17", "plant-a", wantSummary})

	// edgectl status lists it, and a critical alert firing is exit 1.
	st := edgectlStatus(t, f.bin, "--no-systemd", "--path.cgroupfs", repoPath(t, "test/fixtures/cgroup/v2"), "--prometheus.url", prom, "--window", "1m")
	if st.code != 1 || !firing(st.rep, "EdgeTargetDown", "critical") || !strings.Contains(strings.Join(st.rep.Problems, "\n"), "alert EdgeTargetDown is firing (critical)") {
		t.Errorf("edgectl status with EdgeTargetDown firing: exit %d, alerts %+v, problems %q", st.code, st.rep.Alerts, st.rep.Problems)
	}

	// Alertmanager restarted while the alert fires: Prometheus sends it again (within its 1m
	// resend delay); the notification log kept on disk says it was sent, so it is not sent again.
	am.stopGracefully(t)
	am = f.startAlertmanager(t)
	waitUntil(t, "Prometheus to send EdgeTargetDown to the restarted Alertmanager", 90*time.Second, func() bool { return amActive(am.base, "EdgeTargetDown") })
	time.Sleep(25 * time.Second) // group_wait and two group intervals
	if n, m := hook.count("EdgeTargetDown", "firing"), smtp.count(t, "FIRING", "EdgeTargetDown"); n != 1 || m != 1 {
		t.Fatalf("after Alertmanager's restart: %d webhook and %d mail notifications of EdgeTargetDown firing, want 1 each", n, m)
	}

	// The daemon back: the resolved notification, once at each.
	startDaemon(t, "--web.listen-address="+daemon)
	waitUntil(t, "EdgeTargetDown resolved at the webhook", 90*time.Second, func() bool { return hook.count("EdgeTargetDown", "resolved") > 0 })
	waitUntil(t, "EdgeTargetDown resolved by mail", 30*time.Second, func() bool { return smtp.count(t, "RESOLVED", "EdgeTargetDown") > 0 })
	checkMail(t, smtp, "RESOLVED", []string{"EdgeTargetDown", "pump-17", wantSummary})
	time.Sleep(25 * time.Second)
	if n, m := hook.count("EdgeTargetDown", "resolved"), smtp.count(t, "RESOLVED", "EdgeTargetDown"); n != 1 || m != 1 {
		t.Errorf("%d webhook and %d mail notifications of EdgeTargetDown resolved, want 1 each", n, m)
	}

	checkAlertsStatus(t, f, prom)
}

// firing: the report lists alert name firing with severity.
func firing(r health.Report, name, severity string) bool {
	for _, a := range r.Alerts {
		if a.Name == name && a.State == "firing" && a.Severity == severity {
			return true
		}
	}
	return false
}

// checkMail: a mail whose subject has status holds every word.
func checkMail(t *testing.T, smtp *smtpSink, status string, words []string) {
	t.Helper()
	for _, m := range smtp.messages(t) {
		if !strings.Contains(m.subject, status) || !strings.Contains(m.subject, words[0]) {
			continue
		}
		for _, w := range words {
			if !strings.Contains(m.subject+"\n"+m.text, w) {
				t.Errorf("%s mail %q lacks %q:\n%s", status, m.subject, w, m.text)
			}
		}
		return
	}
	t.Errorf("no %s mail about %s", status, words[0])
}

// checkAlertsStatus: edgectl alerts status counts the deliveries and, from
// Prometheus's samples of Alertmanager, knows when the last one was.
func checkAlertsStatus(t *testing.T, f alertFiles, prom string) {
	t.Helper()
	var r alerts.Report
	waitUntil(t, "edgectl alerts status to know the last delivery", 90*time.Second, func() bool {
		code, out := f.edgectl(t, "alerts", "status", "--json", "--prometheus.url", prom)
		r = alerts.Report{}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("edgectl alerts status --json: %v\n%s", err, out)
		}
		if code != 0 {
			t.Fatalf("edgectl alerts status: exit %d, problems %q", code, r.Problems)
		}
		return len(r.Integrations) == 2 && r.Integrations[0].LastDelivery != nil && r.Integrations[1].LastDelivery != nil
	})
	for _, i := range r.Integrations {
		// Alertmanager's counters start again at its restart: the resolved notification since.
		if i.Notified < 1 || i.Failed != 0 || i.FailedReqs != 0 || i.LastFailure != nil {
			t.Errorf("integration %+v: want the resolved notification since Alertmanager restarted, none failed", i)
		}
	}
	if r.Alertmanager == nil || !r.Alertmanager.Up || r.Alertmanager.Cluster != "disabled" || len(r.Senders) != 1 || r.Senders[0].Sent == 0 {
		t.Errorf("report %+v (alertmanager %+v)", r, r.Alertmanager)
	}
}

// TestAlertsReceiverUnreachable: the webhook receiver is gone (its port
// refuses connections) for 2 minutes while an alert fires; Alertmanager
// keeps trying, and once the receiver is back the notification arrives,
// once.
func TestAlertsReceiverUnreachable(t *testing.T) {
	requireAlertmanager(t)
	t.Parallel()
	hook := newWebhookSink(t)
	f := newAlertFiles(t, "EDGE_DEVICE_ID=pump-18\n", "scrape_configs: []\n")
	if code, out := f.edgectl(t, append([]string{"alerts", "enable", "--webhook", hook.url()}, fastTiming...)...); code != 0 {
		t.Fatalf("edgectl alerts enable: exit %d\n%s", code, out)
	}
	am := f.startAlertmanager(t)
	hook.stop()
	labels := map[string]string{"alertname": "EdgeSensorStale", "device": "pump-18", "severity": "warning", "sensor": "sim_temp"}
	outage := 2 * time.Minute
	end := time.Now().Add(outage + time.Minute)
	for t0 := time.Now(); time.Since(t0) < outage; time.Sleep(15 * time.Second) {
		postAlert(t, am.base, labels, end) // as Prometheus resends a firing alert
	}
	failed := amCounter(t, am.base, "alertmanager_notification_requests_failed_total", "webhook")
	if failed == 0 {
		t.Fatal("Alertmanager did not try the receiver during its outage")
	}
	hook.start()
	back := time.Now()
	postAlert(t, am.base, labels, end)
	waitUntil(t, "the notification once the receiver is back", time.Minute, func() bool { return hook.count("EdgeSensorStale", "firing") > 0 })
	t.Logf("%.0f failed requests during the %s outage; delivered %s after the receiver came back", failed, outage, time.Since(back).Round(time.Second))
	time.Sleep(25 * time.Second) // two more group intervals
	if n := hook.count("EdgeSensorStale", "firing"); n != 1 {
		t.Fatalf("%d notifications of the alert, want 1", n)
	}
}
