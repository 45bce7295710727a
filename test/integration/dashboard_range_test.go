//go:build integration && browser

package integration

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// TestBrowserDashboardStartsOnStoredHistory: a fresh start holds minutes of
// history, which the hour would leave in the right-most pixels of every
// chart; the page starts on the smallest range that holds them, as the
// daemon suggests from what Prometheus stores, unless the person chose one.
// With half an hour stored, the suggestion is the usual hour.
func TestBrowserDashboardStartsOnStoredHistory(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	prom := startPrometheus(t, fmt.Sprintf(`
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
`, addr))
	base := "http://" + startDaemon(t, "--web.listen-address="+addr, "--prometheus.url="+prom)
	waitDefaultRange(t, base, "15m")

	b := newBrowser(t, base)
	b.viewport(1280, 900, false)
	b.run(chromedp.Navigate(base + "/"))
	// Every chart spans the suggested 15 minutes.
	poll[bool](b, `(() => { const c = Object.values(edgeDashboard.charts);
		return document.querySelector('#ranges [aria-pressed="true"]')?.dataset.range === '15m' && c.length > 0 &&
			c.every(u => u.scales.x.max - u.scales.x.min > 800 && u.scales.x.max - u.scales.x.min <= 900) })()`)
	// A range in the URL is the person's choice: the suggestion does not replace it.
	b.run(chromedp.Navigate(base + "/#range=6h"))
	b.run(chromedp.Reload())
	poll[bool](b, `edgeDashboard.refreshes > 1 && document.querySelector('#ranges [aria-pressed="true"]')?.dataset.range === '6h'`)
	b.assertClean(false)

	// Half an hour stored: the hour holds it.
	addr = fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	data := t.TempDir()
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	backfill(t, "http://"+startDaemon(t, "--prometheus.url="), addr, data, end.Add(-30*time.Minute), end)
	prom, _, _ = startPrometheusData(t, fmt.Sprintf(`
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
`, addr), data)
	waitDefaultRange(t, "http://"+startDaemon(t, "--web.listen-address="+addr, "--prometheus.url="+prom), "1h")
}

// waitDefaultRange waits until /api/dashboard suggests want: the daemon asks
// Prometheus at start, and again every few seconds until it answers.
func waitDefaultRange(t *testing.T, base, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		_, b := httpDo(t, "GET", base+"/api/dashboard", "")
		var doc struct {
			DefaultRange string `json:"default_range"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if got = doc.DefaultRange; got == want {
			return
		}
	}
	t.Fatalf("/api/dashboard suggests %q, want %q", got, want)
}
