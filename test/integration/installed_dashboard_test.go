//go:build integration && browser

package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInstalledDashboard opens the page of an installed stack, as a
// person on another machine would: the booted-systemd e2e (check_dashboard
// in test/e2e) runs it with EDGE_DASHBOARD_URL set to the guest's
// edge-sensord. Every panel must be drawn, the charts a person looks at first
// (sensors, the units' memory) must hold data from the installed Prometheus,
// and the browser must see no error, no failed query and no request that
// leaves the origin. Panels that are rightly empty on a healthy device (OOM
// kills, read failures; writes per unit without the io controller) are not
// required to hold points; a chart drawn with no series must say so, and be
// right to.
func TestBrowserInstalledDashboard(t *testing.T) {
	base := strings.TrimSuffix(os.Getenv("EDGE_DASHBOARD_URL"), "/")
	if base == "" {
		t.Skip("EDGE_DASHBOARD_URL is not set: test/e2e/run.sh runs this against an installed package")
	}
	doc := dashboardDoc(t, base)
	if !doc.History || len(doc.Panels) == 0 {
		t.Fatalf("/api/dashboard: history %v, %d panels", doc.History, len(doc.Panels))
	}
	b := newBrowser(t, base)
	b.viewport(1280, 900, false)
	b.run(chromedp.Navigate(base + "/"))
	drawn := b.drawnPanels(doc, true)
	withData := 0
	for _, p := range doc.Panels {
		g, ok := drawn[p.ID]
		if !ok || g.Kind != p.Kind {
			t.Errorf("panel %s: drawn as %q, want %s", p.ID, g.Kind, p.Kind)
			continue
		}
		if g.points() > 0 {
			withData++
		}
		if g.Kind == "timeseries" && len(g.Points) == 0 {
			checkNoData(t, b, base, p)
		}
	}
	for _, id := range []string{"temperature", "unit-memory"} {
		if drawn[id].points() == 0 {
			t.Errorf("panel %s holds no points from the installed Prometheus", id)
		}
	}
	if firing := os.Getenv("EDGE_EXPECT_FIRING"); firing != "" {
		checkHealthLists(t, b, strings.Split(firing, ","))
	}
	b.assertClean(false)
	t.Logf("panels=%d with_data=%d", len(doc.Panels), withData)
}

// checkHealthLists: the page's health summary says there are problems and
// lists each alert of names firing, in words (its summary, not its name),
// with what to do. check_device_faults in test/e2e sets EDGE_EXPECT_FIRING.
func checkHealthLists(t *testing.T, b *browser, names []string) {
	t.Helper()
	want, _ := json.Marshal(names)
	got := poll[map[string]string](b, `(() => { const out = {}, head = document.getElementById('alerts-summary').textContent;
		if (edgeDashboard.busy || /^OK/.test(head)) return null;
		for (const n of `+string(want)+`) {
			const li = [...document.querySelectorAll('#alert-list li.firing')].find(e => e.querySelector('.since').textContent.startsWith(n + ','));
			if (!li) return null;
			out[n] = li.querySelector('strong').textContent + ' | ' + (li.querySelector('details p') || {}).textContent;
		}
		return out })()`)
	for _, n := range names {
		words, fix, _ := strings.Cut(got[n], " | ")
		if words == "" || strings.Contains(words, n) || len(fix) < 40 {
			t.Errorf("health summary for %s: %q, what to do %q; want its summary in words and its description", n, words, fix)
		}
	}
	t.Logf("health: %q", got)
	b.checkAccessibility("health summary with problems")
}

// checkNoData: a chart the page drew with no series says "No data", and none
// of its queries has an answer over the last hour (the stack has run for
// minutes, so a series the page missed would show here).
func checkNoData(t *testing.T, b *browser, base string, p dashboardPanel) {
	t.Helper()
	if msg := eval[string](b, `document.querySelector('#panel-`+p.ID+` .msg').textContent`); msg != "No data in this range." {
		t.Errorf("panel %s has no series and says %q, want \"No data in this range.\"", p.ID, msg)
	}
	for i, q := range p.Queries {
		if n, err := querySeries(base, p, i); n > 0 || err != nil {
			t.Errorf("panel %s drawn with no series, but %q answers %d series now (%v)", p.ID, q.Expr, n, err)
		}
	}
}
