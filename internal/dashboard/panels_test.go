package dashboard

import (
	"regexp"
	"strings"
	"testing"
)

// units the panels may use: Grafana unit ids the page knows how to format.
var units = map[string]bool{"celsius": true, "volt": true, "amp": true, "watt": true, "rpm": true, "percentunit": true,
	"pressurepa": true, "lux": true, "bytes": true, "s": true, "short": true, "ops": true, "hertz": true, "Bps": true, "bool_yes_no": true}

// legendTemplate is Grafana's legend syntax: text and {{label}} references only.
var legendTemplate = regexp.MustCompile(`^([^{}]|\{\{\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\}\})*$`)

func TestPanelsAreWellFormed(t *testing.T) {
	ids := map[string]bool{}
	sections := []string{}
	for _, p := range Panels() {
		if p.ID == "" || p.Title == "" || ids[p.ID] {
			t.Errorf("panel %q (%s): empty or duplicate id", p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Kind != KindTimeseries && p.Kind != KindStat {
			t.Errorf("panel %s: kind %q", p.ID, p.Kind)
		}
		if !units[p.Unit] {
			t.Errorf("panel %s: unit %q", p.ID, p.Unit)
		}
		// Sections come in one block each, in display order.
		if n := len(sections); n == 0 || sections[n-1] != p.Section {
			sections = append(sections, p.Section)
		}
		if len(p.Queries) == 0 {
			t.Errorf("panel %s: no query", p.ID)
		}
		for _, q := range p.Queries {
			// Plain PromQL: the daemon runs it as it is.
			if strings.TrimSpace(q.Expr) == "" || strings.Contains(q.Expr, "$") {
				t.Errorf("panel %s: expression %q", p.ID, q.Expr)
			}
			if q.Legend == "" || !legendTemplate.MatchString(q.Legend) {
				t.Errorf("panel %s: legend %q", p.ID, q.Legend)
			}
		}
	}
	if want := []string{SectionDevice, SectionSensors, SectionFailures, SectionScrapes, SectionResources}; strings.Join(sections, ",") != strings.Join(want, ",") {
		t.Errorf("sections %v, want %v", sections, want)
	}
}
