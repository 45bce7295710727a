package web

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
)

func TestDashboardDocument(t *testing.T) {
	q, err := NewQueryProxy("http://127.0.0.1:9090", DefaultQueryLimits())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := setupWith(t, true, Options{Version: "1.2.3", Queries: q,
		Warnings: func() []string { return []string{"memory controller disabled: budget not enforced"} }})
	w := testhttp.Serve(h, "GET", "/api/dashboard")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	// The page depends on these names exactly.
	var doc struct {
		Version        string   `json:"version"`
		History        *bool    `json:"history"`
		RefreshSeconds int      `json:"refresh_seconds"`
		Ranges         []string `json:"ranges"`
		DefaultRange   string   `json:"default_range"`
		MaxPoints      int      `json:"max_points"`
		Warnings       []string `json:"warnings"`
		Panels         []struct {
			ID, Title, Section, Unit, Kind, Description string
			Queries                                     []struct{ Expr, Legend string }
		} `json:"panels"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "1.2.3" || doc.History == nil || !*doc.History || doc.RefreshSeconds != 15 || doc.MaxPoints != 1000 ||
		!reflect.DeepEqual(doc.Ranges, []string{"15m", "1h", "6h", "12h"}) || doc.DefaultRange != "" ||
		!reflect.DeepEqual(doc.Warnings, []string{"memory controller disabled: budget not enforced"}) {
		t.Fatalf("%s", w.Body)
	}
	want := dashboard.Panels()
	if len(doc.Panels) != len(want) {
		t.Fatalf("%d panels, want %d", len(doc.Panels), len(want))
	}
	for i, p := range doc.Panels {
		if p.ID != want[i].ID || p.Kind != want[i].Kind || p.Unit != want[i].Unit || len(p.Queries) != len(want[i].Queries) ||
			p.Queries[0].Expr != want[i].Queries[0].Expr || p.Queries[0].Legend != want[i].Queries[0].Legend {
			t.Errorf("panel %d: %+v, want %+v", i, p, want[i])
		}
	}
	var raw map[string]any
	json.Unmarshal(w.Body.Bytes(), &raw)
	if len(raw) != 8 {
		t.Errorf("keys: %v", raw)
	}
}

func TestDashboardWithoutHistory(t *testing.T) {
	l := DefaultQueryLimits()
	l.MaxRange, l.MaxPoints = 2*time.Hour, 300
	q, err := NewQueryProxy("", l)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := setupWith(t, true, Options{Queries: q})
	w := testhttp.Serve(h, "GET", "/api/dashboard")
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// No warnings is an empty list, not null; ranges beyond the limit are not offered.
	if doc["history"] != false || !reflect.DeepEqual(doc["warnings"], []any{}) ||
		!reflect.DeepEqual(doc["ranges"], []any{"15m", "1h"}) || doc["max_points"] != 300.0 {
		t.Fatalf("%s", w.Body)
	}
	if w := testhttp.Serve(h, "POST", "/api/dashboard"); w.Code != 405 {
		t.Fatalf("POST: %d", w.Code)
	}
}
