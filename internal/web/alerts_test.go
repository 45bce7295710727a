package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// promAlertsBody is Prometheus's /api/v1/alerts answer for alerts, each
// {labels, annotations, state, activeAt}.
func promAlertsBody(alerts ...map[string]any) string {
	for _, a := range alerts {
		a["value"] = "1e+00"
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"alerts": alerts}})
	return string(b)
}

func alertOf(name, state, severity, at string, extra ...string) map[string]any {
	labels := map[string]string{"alertname": name, "job": "edge-sensord", "instance": "127.0.0.1:8000"}
	if severity != "" {
		labels["severity"] = severity
	}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return map[string]any{"labels": labels, "state": state, "activeAt": at,
		"annotations": map[string]string{"summary": name + " summary", "description": name + " description"}}
}

func decodeAlerts(t *testing.T, b []byte) AlertsAnswer {
	t.Helper()
	var a AlertsAnswer
	if err := json.Unmarshal(b, &a); err != nil || a.Status != "success" || a.Data.Alerts == nil {
		t.Fatalf("not an alerts answer: %s (%v)", b, err)
	}
	return a
}

func TestAlertsListsPendingAndFiring(t *testing.T) {
	up := newUpstream(t)
	long := strings.Repeat("é", 2000) // 4000 bytes
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, promAlertsBody(
			alertOf("EdgeSensorStale", "pending", "warning", "2026-01-01T10:00:00Z", "sensor", "w1_28"),
			alertOf("EdgeClockNotSynchronised", "firing", "warning", "2026-01-01T09:00:00Z"),
			alertOf("EdgeTargetDown", "firing", "critical", "2026-01-01T11:00:00Z"),
			alertOf("EdgeOld", "inactive", "critical", "2026-01-01T08:00:00Z"),
			alertOf("EdgeNoSeverity", "firing", "", "2026-01-01T08:00:00Z", "huge", long),
		))
	}
	h := proxyHandler(t, up.URL+"/prefix", DefaultQueryLimits())
	w := send(h, "GET", "/api/alerts", "Authorization", "Basic dXNlcjpwYXNz")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	a := decodeAlerts(t, w.Body.Bytes())
	var order []string
	for _, al := range a.Data.Alerts {
		order = append(order, al.State+" "+al.Severity+" "+al.Name)
	}
	// Firing first, then by severity, then the oldest; inactive ones left out.
	want := "firing critical EdgeTargetDown,firing warning EdgeClockNotSynchronised,firing  EdgeNoSeverity,pending warning EdgeSensorStale"
	if got := strings.Join(order, ","); got != want {
		t.Fatalf("alerts %s\nwant %s", got, want)
	}
	stale := a.Data.Alerts[3]
	if stale.Summary != "EdgeSensorStale summary" || stale.Description != "EdgeSensorStale description" ||
		!stale.ActiveAt.Equal(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) || stale.Labels["sensor"] != "w1_28" ||
		stale.Labels["alertname"] != "EdgeSensorStale" || len(stale.Labels) != 5 {
		t.Fatalf("%+v", stale)
	}
	if v := a.Data.Alerts[2].Labels["huge"]; len(v) > maxLabelBytes || !strings.HasSuffix(v, "é…") {
		t.Fatalf("long label value kept as %d bytes: %q", len(v), v)
	}
	reqs, _ := up.requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].URL.Path != "/prefix/api/v1/alerts" || reqs[0].URL.RawQuery != "" ||
		reqs[0].Header.Get("Authorization") != "" {
		t.Fatalf("upstream requests: %v", reqs)
	}
}

func TestAlertsAreBounded(t *testing.T) {
	up := newUpstream(t)
	var many []map[string]any
	// Many alerts; the first few with too many labels, too long.
	for i := range maxAlerts + 7 {
		extra := []string{}
		for j := range 40 * min(1, 3-min(i, 3)) {
			extra = append(extra, fmt.Sprintf("l%02d", j), strings.Repeat("v", 300))
		}
		a := alertOf(fmt.Sprintf("A%03d", i), "firing", "warning", "2026-01-01T10:00:00Z", extra...)
		if i < 3 {
			a["annotations"] = map[string]string{"summary": strings.Repeat("s", 1000), "description": strings.Repeat("d", 5000)}
		}
		many = append(many, a)
	}
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, promAlertsBody(many...))
	}
	w := send(proxyHandler(t, up.URL, DefaultQueryLimits()), "GET", "/api/alerts")
	a := decodeAlerts(t, w.Body.Bytes())
	if len(a.Data.Alerts) != maxAlerts || a.Data.Omitted != 7 {
		t.Fatalf("%d alerts, %d omitted", len(a.Data.Alerts), a.Data.Omitted)
	}
	for i, al := range a.Data.Alerts {
		if i < 3 && len(al.Labels) != maxAlertLabels || len(al.Labels) > maxAlertLabels || len(al.Summary) > maxSummaryBytes || len(al.Description) > maxDescBytes {
			t.Fatalf("%s: %d labels, summary %d, description %d bytes", al.Name, len(al.Labels), len(al.Summary), len(al.Description))
		}
		for k, v := range al.Labels {
			if len(k) > maxLabelBytes || len(v) > maxLabelBytes {
				t.Fatalf("label %s: %d bytes", k, len(v))
			}
		}
	}
	if len(w.Body.Bytes()) > 64*maxAlerts<<10 {
		t.Fatalf("answer of %d bytes", w.Body.Len())
	}
}

func TestAlertsFailures(t *testing.T) {
	short := DefaultQueryLimits()
	short.Timeout = 50 * time.Millisecond
	stop := make(chan struct{})
	defer close(stop)
	json := func(body string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}
	}
	for _, c := range []struct {
		name   string
		target string
		answer func(w http.ResponseWriter, r *http.Request)
		closed bool
		limits QueryLimits
		code   int
		typ    string
		msg    string
	}{
		{name: "history off", code: 503, typ: "unavailable", msg: "history is off"},
		{name: "down", closed: true, answer: json(""), code: 503, typ: "unavailable", msg: "is not answering"},
		{name: "not Prometheus", answer: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 404) },
			code: 503, typ: "unavailable", msg: "404"},
		{name: "error", answer: json(`{"status":"error","errorType":"internal","error":"boom"}`), code: 503, typ: "unavailable", msg: "boom"},
		{name: "garbage", answer: json(`{"status":`), code: 503, typ: "unavailable", msg: "api/v1/alerts"},
		{name: "too large", answer: json(`{"status":"success","data":{"alerts":[` + strings.Repeat(" ", maxAlertsUpstream) + `]}}`),
			code: 503, typ: "unavailable", msg: "over 256 KiB"},
		{name: "timeout", limits: short, code: 503, typ: "timeout", msg: "did not answer within 50ms",
			answer: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-stop:
				case <-r.Context().Done():
				}
			}},
		// Parameters are refused before anything is asked.
		{name: "parameters", target: "/api/alerts?match=x", answer: json(""), code: 400, typ: "bad_data", msg: `unknown parameter "match" (this takes none)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := ""
			if c.answer != nil {
				up := newUpstream(t)
				up.answer = c.answer
				target = up.URL
				if c.closed {
					up.Close()
				}
				if c.target != "" {
					defer func() {
						if reqs, _ := up.requests(); len(reqs) != 0 {
							t.Errorf("%d requests reached Prometheus", len(reqs))
						}
					}()
				}
			}
			if c.limits == (QueryLimits{}) {
				c.limits = DefaultQueryLimits()
			}
			if c.target == "" {
				c.target = "/api/alerts"
			}
			w := send(proxyHandler(t, target, c.limits), "GET", c.target)
			if typ, msg := promError(t, w); w.Code != c.code || typ != c.typ || !strings.Contains(msg, c.msg) {
				t.Fatalf("%d %s %q, want %d %s containing %q", w.Code, typ, msg, c.code, c.typ, c.msg)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"}, // not half a rune
	} {
		if got := truncate(c.in, c.n); got != c.want || len(got) > c.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestCountAlerts(t *testing.T) {
	up := newUpstream(t)
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, promAlertsBody(
			alertOf("EdgeSensorStale", "pending", "warning", "2026-01-01T10:00:00Z"),
			alertOf("EdgeClockNotSynchronised", "firing", "warning", "2026-01-01T09:00:00Z"),
			alertOf("EdgeTargetDown", "firing", "critical", "2026-01-01T11:00:00Z"),
			alertOf("EdgeOld", "inactive", "critical", "2026-01-01T08:00:00Z"),
		))
	}
	q, err := NewQueryProxy(up.URL, DefaultQueryLimits())
	if err != nil {
		t.Fatal(err)
	}
	c, err := q.CountAlerts(t.Context())
	if err != nil || c != (AlertCount{Firing: 2, Critical: 1, Pending: 1}) || c.String() != "2 alerts firing (1 critical), 1 pending" {
		t.Fatalf("%+v %q %v", c, c, err)
	}
	for c, want := range map[AlertCount]string{{}: "0 alerts firing", {Firing: 1}: "1 alert firing", {Pending: 3}: "0 alerts firing, 3 pending"} {
		if c.String() != want {
			t.Errorf("%+v: %q, want %q", c, c, want)
		}
	}
	up.Close()
	if _, err := q.CountAlerts(t.Context()); err == nil || !strings.Contains(err.Error(), "is not answering") {
		t.Fatalf("Prometheus gone: %v", err)
	}
}
