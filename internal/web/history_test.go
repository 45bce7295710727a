package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
)

// The page starts on the smallest range that holds the history Prometheus
// has of the daemon: the daemon asks with one fixed query, and suggests
// nothing (the page's usual hour) until Prometheus has answered.
func TestDashboardDefaultRangeFollowsStoredHistory(t *testing.T) {
	up := newUpstream(t)
	q, err := NewQueryProxy(up.URL, DefaultQueryLimits())
	if err != nil {
		t.Fatal(err)
	}
	hist := NewHistory(q, time.Hour)
	h, _ := setupWith(t, true, Options{Queries: q, History: hist})
	defaultRange := func() string {
		t.Helper()
		var doc struct {
			DefaultRange *string `json:"default_range"`
		}
		if err := json.Unmarshal(testhttp.Serve(h, "GET", "/api/dashboard").Body.Bytes(), &doc); err != nil || doc.DefaultRange == nil {
			t.Fatalf("/api/dashboard without default_range: %v", err)
		}
		return *doc.DefaultRange
	}
	if got := defaultRange(); got != "" {
		t.Fatalf("before Prometheus answered: %q, want none", got)
	}
	answer := func(result string) {
		up.mu.Lock()
		defer up.mu.Unlock()
		up.answer = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":`+result+`}}`)
		}
	}
	for _, c := range []struct{ result, want string }{
		{`[]`, "15m"}, // nothing stored yet: a fresh start
		{`[{"metric":{},"value":[1700000000,"283.5"]}]`, "15m"},
		{`[{"metric":{},"value":[1700000000,"1800"]}]`, "1h"},
	} {
		answer(c.result)
		if err := hist.Update(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := defaultRange(); got != c.want {
			t.Errorf("Prometheus answering %s: default_range %q, want %q", c.result, got, c.want)
		}
	}
	_, forms := up.requests()
	want := "time() - min(min_over_time(edge_sensor_poll_last_success_timestamp_seconds[1h]))"
	if got := forms[len(forms)-1].Get("query"); got != want {
		t.Errorf("query %q, want %q", got, want)
	}

	// Prometheus gone: not known, no suggestion.
	up.Close()
	if err := hist.Update(context.Background()); err == nil {
		t.Fatal("no error from a Prometheus that is gone")
	}
	if got := defaultRange(); got != "" {
		t.Errorf("Prometheus gone: %q, want none", got)
	}
}

// The daemon's own query takes none of the page's query slots: a page
// whose queries hold them all must not be answered 503 because of it.
func TestHistoryLeavesTheQuerySlotsToThePage(t *testing.T) {
	up := newUpstream(t)
	l := DefaultQueryLimits()
	l.MaxConcurrent, l.MaxPerClient = 1, 1
	q, err := NewQueryProxy(up.URL, l)
	if err != nil {
		t.Fatal(err)
	}
	release, e := q.slots.acquire("page") // a page's query in flight
	if e != nil {
		t.Fatal(e)
	}
	defer release()
	if err := NewHistory(q, time.Hour).Update(context.Background()); err != nil {
		t.Fatalf("with the page's queries in flight: %v", err)
	}
	q.slots.mu.Lock()
	used := q.slots.used
	q.slots.mu.Unlock()
	if used != 1 {
		t.Fatalf("%d slots taken after the daemon's query, want the page's 1", used)
	}
}
