package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// fakeAM answers like Alertmanager 0.25: /api/v2/status, /metrics with the
// notification counters, and /api/v2/alerts, on which deliver decides what
// the counters of the integration do.
type fakeAM struct {
	mu       sync.Mutex
	total    map[string]float64
	failed   map[string]float64
	reqFail  map[string]float64
	posted   [][]postableAlert
	deliver  func(a *fakeAM) // called (locked) on each POST
	unusable bool
}

func (f *fakeAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/api/v2/status":
		fmt.Fprint(w, `{"uptime":"2026-12-01T10:00:00Z","versionInfo":{"version":"0.25.0"},"cluster":{"status":"disabled"}}`)
	case "/metrics":
		for _, n := range []string{"email", "telegram", "webhook"} {
			fmt.Fprintf(w, "alertmanager_notifications_total{integration=%q} %g\n", n, f.total[n])
			fmt.Fprintf(w, "alertmanager_notifications_failed_total{integration=%q} %g\n", n, f.failed[n])
			fmt.Fprintf(w, "alertmanager_notification_requests_total{integration=%q} %g\n", n, f.total[n]+f.reqFail[n])
			fmt.Fprintf(w, "alertmanager_notification_requests_failed_total{integration=%q} %g\n", n, f.reqFail[n])
		}
		fmt.Fprint(w, "alertmanager_alerts{state=\"active\"} 2\nalertmanager_alerts{state=\"suppressed\"} 0\n")
	case "/api/v2/alerts":
		var as []postableAlert
		if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.posted = append(f.posted, as)
		if f.deliver != nil && as[0].EndsAt.After(time.Now()) {
			f.deliver(f)
		}
	default:
		http.NotFound(w, r)
	}
}

func newFakeAM(t *testing.T) (*fakeAM, *settings.Settings) {
	f := &fakeAM{total: map[string]float64{}, failed: map[string]float64{}, reqFail: map[string]float64{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s := settings.Defaults()
	s.Site = "plant-a"
	s.Alerting.Local = true
	s.Alerting.Listen = strings.TrimPrefix(srv.URL, "http://")
	s.Alerting.WebhookURL = "https://hooks.example/x?token=secret"
	s.Alerting.EmailTo, s.Alerting.SMTPSmarthost, s.Alerting.SMTPFrom = "ops@example.org", "mail:25", "d@example.org"
	return f, s
}

type fakeJournal struct{ log string }

func (j fakeJournal) Since(unit string, _ time.Time) (string, error) {
	if unit != Unit {
		return "", fmt.Errorf("unit %s", unit)
	}
	return j.log, nil
}

func TestTestDelivered(t *testing.T) {
	f, s := newFakeAM(t)
	f.total["webhook"], f.failed["webhook"] = 5, 2 // earlier notifications
	f.deliver = func(f *fakeAM) { f.total["webhook"]++; f.total["email"]++ }
	var out bytes.Buffer
	err := Test(context.Background(), TestInput{Settings: s, Device: "pump-17", Timeout: 5 * time.Second, Poll: 10 * time.Millisecond, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "delivered by email, webhook") {
		t.Errorf("output:\n%s", out.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posted) != 2 {
		t.Fatalf("posted %d times, want the alert and its resolution", len(f.posted))
	}
	a := f.posted[0][0]
	if a.Labels["alertname"] != "EdgeAlertTest" || a.Labels["device"] != "pump-17" || a.Labels["site"] != "plant-a" ||
		a.Labels["test"] == "" || !strings.Contains(a.Annotations["summary"], "pump-17") {
		t.Errorf("test alert %+v", a)
	}
	if end := f.posted[1][0].EndsAt; end.After(time.Now()) || f.posted[1][0].Labels["test"] != a.Labels["test"] {
		t.Errorf("second post does not resolve the same alert: %+v", f.posted[1][0])
	}
}

func TestTestNotAccepted(t *testing.T) {
	f, s := newFakeAM(t)
	// The webhook delivers; mail is refused (a failed request, the notification still retrying).
	f.deliver = func(f *fakeAM) { f.total["webhook"]++; f.reqFail["email"] += 2 }
	log := `level=warn ts=2026-12-01T10:00:01Z caller=notify.go:724 component=dispatcher receiver=edge-notify integration=email[0] msg="Notify attempt failed, will retry later" attempts=1 err="establish connection to server: dial tcp 127.0.0.1:25: connect: connection refused"
level=info ts=2026-12-01T10:00:02Z msg="something else"`
	err := Test(context.Background(), TestInput{Settings: s, Device: "pump-17", Timeout: 300 * time.Millisecond,
		Poll: 10 * time.Millisecond, Out: &bytes.Buffer{}, Journal: fakeJournal{log}})
	if err == nil {
		t.Fatal("accepted although mail was refused")
	}
	for _, w := range []string{"email (2 failed requests; Alertmanager: establish connection to server: dial tcp 127.0.0.1:25: connect: connection refused)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "webhook") {
		t.Errorf("error names the webhook, which accepted: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posted) != 2 || f.posted[1][0].EndsAt.After(time.Now()) {
		t.Fatal("the test alert was not resolved after the failure")
	}
}

func TestTestNeedsAlertmanager(t *testing.T) {
	_, s := newFakeAM(t)
	s.Alerting.Listen = "127.0.0.1:1" // nothing listens
	err := Test(context.Background(), TestInput{Settings: s, Device: "d", Timeout: time.Second, Poll: time.Millisecond, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("%v", err)
	}
	s.Alerting.Local = false
	if err := Test(context.Background(), TestInput{Settings: s, Timeout: time.Second}); err == nil || !strings.Contains(err.Error(), "local alerting is off") {
		t.Fatalf("%v", err)
	}
}

func TestStatus(t *testing.T) {
	f, s := newFakeAM(t)
	f.total["webhook"], f.failed["webhook"], f.reqFail["webhook"] = 7, 1, 3
	r := Status(context.Background(), StatusInput{Settings: s})
	if len(r.Problems) != 0 || r.ExitCode != 0 || r.Alertmanager == nil || !r.Alertmanager.Up || r.Alertmanager.Version != "0.25.0" || r.Alertmanager.ActiveAlerts != 2 {
		t.Fatalf("report %+v", r)
	}
	want := []Integration{{Name: "email"}, {Name: "webhook", Notified: 7, Failed: 1, Requests: 10, FailedReqs: 3}}
	if fmt.Sprint(r.Integrations) != fmt.Sprint(want) {
		t.Fatalf("integrations %+v, want %+v", r.Integrations, want)
	}
	var out bytes.Buffer
	if err := WriteText(&out, r, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"local alerting: on", "webhook https://hooks.example/x?***", "0.25.0", "webhook      7              1       3/10"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "secret") {
		t.Errorf("text shows the webhook's token:\n%s", out.String())
	}

	// A failure later than the last delivery (Prometheus's history) is a problem.
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics":
			fmt.Fprint(w, "prometheus_notifications_sent_total{alertmanager=\"http://"+s.Alerting.Listen+"/api/v2/alerts\"} 9\n")
		case strings.Contains(r.URL.Query().Get("query"), "requests_total"): // deliveries
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"integration":"webhook"},"value":[1,"1764590000"]}]}}`)
		default: // failures
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"integration":"webhook"},"value":[1,"1764590600"]}]}}`)
		}
	}))
	defer prom.Close()
	r = Status(context.Background(), StatusInput{Settings: s, PrometheusURL: prom.URL})
	if r.ExitCode != 1 || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "webhook: the last try of a notification failed") ||
		len(r.Senders) != 1 || r.Senders[0].Sent != 9 {
		t.Fatalf("report %+v", r)
	}
	// Alertmanager down while alerting is on.
	s.Alerting.Listen = "127.0.0.1:1"
	if r = Status(context.Background(), StatusInput{Settings: s}); r.ExitCode != 1 || !strings.Contains(r.Problems[0], "does not answer") {
		t.Fatalf("report %+v", r)
	}
}

func TestCheckSecretFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content string
		mode          uint32
		want          string
	}{
		{"ok", "pw", 0o600, ""},
		{"ro", "pw", 0o400, ""},
		{"group", "pw", 0o640, "has mode 0640"},
		{"empty", "", 0o600, "is empty"},
	} {
		p := dir + "/" + c.name
		writeFile(t, p, c.content, c.mode)
		err := CheckSecretFile(p)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for p, want := range map[string]string{dir + "/absent": "does not exist", dir: "not a regular file", dir + "/a b": "whitespace"} {
		if err := CheckSecretFile(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", p, err, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example/x":               "https://hooks.example/x",
		"https://u:p@hooks.example/x?token=t#f": "https://***@hooks.example/x?***",
		"http://10.0.0.2:9000/hook":             "http://10.0.0.2:9000/hook",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFile(t *testing.T, path, content string, mode uint32) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}
