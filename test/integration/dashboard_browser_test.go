//go:build integration && browser

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumBinary is Debian's chromium package.
const chromiumBinary = "/usr/bin/chromium"

// TestBrowserDashboard opens the daemon's page in headless Chromium, with the
// real daemon serving it and its query proxy in front of a real Prometheus
// that has scraped the daemon, and checks what a person would see: every
// panel drawn with data, no errors, nothing fetched from elsewhere, a page
// that fits a phone, no violation of WCAG 2.1 AA that axe-core finds at
// phone and laptop widths in light and dark, and current readings that
// survive Prometheus stopping.
// BROWSER_SCREENSHOTS=dir writes the screenshots there (docs/ in the repo).
func TestBrowserDashboard(t *testing.T) {
	// An hour of history (so the charts have a shape to look at), then
	// Prometheus scraping the daemon every second on top of it.
	daemonAddr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	data := t.TempDir()
	end := time.Now().Add(-time.Minute).Truncate(15 * time.Second)
	sysfs := "--path.sysfs=" + repoPath(t, "test/fixtures/host/sys")
	backfill(t, "http://"+startDaemon(t, sysfs, "--prometheus.url="), daemonAddr, data, end.Add(-time.Hour), end)
	prom, _, stopProm := startPrometheusData(t, fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
`, repoPath(t, "etc/prometheus/rules/edge-observability.yml"), daemonAddr), data)
	// The clock's status from a file the test rewrites (the daemon re-reads it
	// each poll), not from this machine's kernel.
	timex := filepath.Join(t.TempDir(), "timex")
	writeTimex(t, timex, true)
	base := "http://" + startDaemon(t, sysfs, "--web.listen-address="+daemonAddr, "--prometheus.url="+prom, "--clock.timex-file="+timex)
	doc := dashboardDoc(t, base)
	if !doc.History || len(doc.Panels) == 0 {
		t.Fatalf("/api/dashboard: history %v, %d panels", doc.History, len(doc.Panels))
	}
	waitForPanelData(t, base, doc)
	checkProxyRefusesWrites(t, base)

	b := newBrowser(t, base)
	b.viewport(1280, 900, false)
	b.run(chromedp.Navigate(base + "/"))
	b.waitAllPanels(doc)
	b.assertClean(false)
	b.checkAccessibility("1280 px, light")
	b.screenshot("dashboard-desktop.png")
	checkLegendKeyboard(t, b)

	// Under the pointer the legend shows that moment's time and values.
	hover := eval[[]string](b, `(() => { const u = Object.values(edgeDashboard.charts)[0];
		u.setCursor({left: u.over.clientWidth / 2, top: 10});
		const vals = [...u.root.querySelectorAll('.u-legend .u-value')].map(e => e.textContent);
		u.setCursor({left: -10, top: -10});
		return vals })()`)
	if len(hover) < 2 || !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).MatchString(hover[0]) || hover[1] == "" {
		t.Errorf("legend under the pointer: %q", hover)
	}

	// A range button redraws every chart over its range.
	b.run(chromedp.Click(chromedp.CSS(`#ranges button[data-range="15m"]`)))
	poll[map[string]float64](b, `(() => { const c = edgeDashboard.charts, o = {};
		for (const id in c) o[id] = c[id].data[0].at(-1) - c[id].data[0][0];
		return document.querySelector('#ranges [aria-pressed="true"]').dataset.range === '15m' &&
			Object.values(o).every(s => s > 800 && s <= 900) ? o : null })()`)

	// Hidden tabs do not refresh; becoming visible refreshes at once.
	checkVisibility(t, b, doc.RefreshSeconds)

	checkClockBanner(t, b, timex)

	// At phone width: one column, nothing wider than the screen, buttons
	// big enough to touch; in dark mode too.
	b.viewport(390, 844, true)
	b.waitAllPanels(doc)
	phone := eval[struct {
		Overflow  int
		MinButton float64
		Columns   string
	}](b, `({overflow: document.documentElement.scrollWidth - innerWidth,
		minButton: Math.min(...[...document.querySelectorAll('#ranges button')].map(e => e.getBoundingClientRect().height)),
		columns: getComputedStyle(document.querySelector('.panels')).gridTemplateColumns})`)
	if phone.Overflow > 0 || phone.MinButton < 40 || strings.Contains(strings.TrimSpace(phone.Columns), " ") {
		t.Errorf("phone width: %d px wider than the screen, smallest range button %.0f px, panel columns %q", phone.Overflow, phone.MinButton, phone.Columns)
	}
	b.checkAccessibility("390 px, light")
	b.screenshot("dashboard-phone.png")
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	poll[bool](b, `getComputedStyle(document.body).backgroundColor === 'rgb(17, 20, 24)' &&
		Object.values(edgeDashboard.charts).every(u => u.axes[1].stroke(u, 1) === '#9aa3ae')`)
	eval[bool](b, `(window.scrollTo(0, document.getElementById("sections").offsetTop - 8), true)`)
	b.screenshot("dashboard-phone-dark.png") // the charts
	eval[bool](b, `(window.scrollTo(0, 0), true)`)
	b.checkAccessibility("390 px, dark")
	b.viewport(1280, 900, false)
	b.waitAllPanels(doc)
	b.checkAccessibility("1280 px, dark")
	b.assertClean(false)

	// Prometheus stopped: readings stay, the page says why history is gone.
	stopProm()
	b.run(chromedp.Click(chromedp.CSS(`#ranges button[data-range="1h"]`)))
	down := poll[struct {
		Banner   string
		Sensors  int
		Readings string
	}](b, `edgeDashboard.history === false && !edgeDashboard.busy && ({banner: document.getElementById('banners').textContent,
		sensors: document.querySelectorAll('#sensors .row').length, readings: document.getElementById('readings-summary').textContent})`)
	if !strings.Contains(down.Banner, "History unavailable") || !strings.Contains(down.Banner, "Prometheus") {
		t.Errorf("banner with Prometheus stopped: %q", down.Banner)
	}
	if down.Sensors == 0 || !strings.Contains(down.Readings, "ok") {
		t.Errorf("current readings with Prometheus stopped: %d rows, %q", down.Sensors, down.Readings)
	}
	b.assertClean(true)
}

// TestBrowserDashboardWithoutHistory: a daemon without --prometheus.url
// shows current readings and says that there is no history.
func TestBrowserDashboardWithoutHistory(t *testing.T) {
	base := "http://" + startDaemon(t, "--prometheus.url=")
	b := newBrowser(t, base)
	b.viewport(1280, 900, false)
	b.run(chromedp.Navigate(base + "/"))
	got := poll[struct {
		Banner   string
		Sensors  int
		Sections bool
	}](b, `edgeDashboard.refreshes > 0 && ({banner: document.getElementById('banners').textContent,
		sensors: document.querySelectorAll('#sensors .row').length, sections: document.getElementById('sections').hidden})`)
	if !strings.Contains(got.Banner, "History unavailable") || got.Sensors == 0 || !got.Sections {
		t.Errorf("without history: banner %q, %d readings, charts hidden %v", got.Banner, got.Sensors, got.Sections)
	}
	b.checkAccessibility("without history, 1280 px, light")
	b.assertClean(false)
}

type dashboardPanel struct {
	ID      string
	Kind    string
	Queries []struct{ Expr string }
}

type dashboardDocument struct {
	History        bool
	RefreshSeconds int `json:"refresh_seconds"`
	Panels         []dashboardPanel
}

func dashboardDoc(t *testing.T, base string) dashboardDocument {
	t.Helper()
	resp, err := http.Get(base + "/api/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d dashboardDocument
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/api/dashboard: %d %v", resp.StatusCode, err)
	}
	return d
}

// noHardware holds the panels that the Raspberry Pi 4 of test/fixtures/host
// (the browser tests' sysfs, beside the simulated sensors) rightly leaves
// empty, and why: the page must say "No data" there, as on such a device.
var noHardware = map[string]string{
	"device-emmc": "it boots from a microSD card, which reports no wear",
}

// waitForPanelData waits until every query of every panel has a result
// through the daemon, so that the page has something to draw.
func waitForPanelData(t *testing.T, base string, doc dashboardDocument) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for _, p := range doc.Panels {
		if _, ok := noHardware[p.ID]; ok {
			continue
		}
		for i, q := range p.Queries {
			for {
				n, err := querySeries(base, p, i)
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("panel %s: no data for %q through the daemon (last error %v)", p.ID, q.Expr, err)
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
	}
}

// querySeries asks the daemon for query i of panel p, now for a stat panel
// and over the last hour (the page's default range) for a chart, and returns
// how many series answer.
func querySeries(base string, p dashboardPanel, i int) (int, error) {
	params := url.Values{}
	if p.Kind != "stat" {
		end := time.Now().Unix()
		params = url.Values{"start": {fmt.Sprint(end - 3600)}, "end": {fmt.Sprint(end)}, "step": {"15"}}
	}
	resp, err := http.Get(fmt.Sprintf("%s/api/panels/%s/%d?%s", base, p.ID, i, params.Encode()))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("panel %s/%d: %d %v", p.ID, i, resp.StatusCode, err)
	}
	return len(r.Data.Result), nil
}

// checkProxyRefusesWrites: the page's origin answers the panels' queries
// only, never Prometheus's query, admin, write or lifecycle endpoints,
// whatever the method.
func checkProxyRefusesWrites(t *testing.T, base string) {
	t.Helper()
	for _, p := range []string{"/api/v1/admin/tsdb/delete_series?match[]=up", "/api/v1/admin/tsdb/snapshot",
		"/api/v1/admin/tsdb/clean_tombstones", "/api/v1/write", "/api/v1/otlp/v1/metrics", "/-/quit", "/-/reload",
		"/api/v1/query/../admin/tsdb/snapshot", "/api/v1/query?query=up", "/api/v1/query_range?query=up"} {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			if code, _ := httpDo(t, m, base+p, ""); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 404 or 405", m, p, code)
			}
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if code, _ := httpDo(t, m, base+"/api/panels/temperature/0", ""); code != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/panels/temperature/0 = %d, want 405", m, code)
		}
	}
}

// checkLegendKeyboard: a legend too long for its box, which hides series
// until scrolled, is reached by the keyboard: it is focusable by its own
// tabindex and named (Chromium focuses any scroller by itself, Safari does
// not), Tab from its panel's title focuses it, End scrolls it to its last
// series. Legends that fit take no focus.
func checkLegendKeyboard(t *testing.T, b *browser) {
	t.Helper()
	got := eval[struct {
		Scrolling, Unnamed, FocusableIdle []string
	}](b, `(() => { const all = [...document.querySelectorAll('.panel .u-legend')], id = l => l.closest('.panel').id;
		const s = all.filter(l => l.scrollHeight > l.clientHeight + 1);
		return {scrolling: s.map(id),
			unnamed: s.filter(l => l.tabIndex !== 0 || !l.getAttribute('aria-label')).map(id),
			focusableIdle: all.filter(l => !s.includes(l) && l.hasAttribute('tabindex')).map(id)} })()`)
	if len(got.Scrolling) == 0 {
		t.Fatal("no legend scrolls: nothing to reach by keyboard (the fixture trees have many sensors of a kind)")
	}
	if len(got.Unnamed) > 0 || len(got.FocusableIdle) > 0 {
		t.Errorf("legends that scroll but are not focusable with a name: %q; that fit but are focusable: %q", got.Unnamed, got.FocusableIdle)
	}
	panel := "#" + got.Scrolling[0]
	b.run(chromedp.Click(chromedp.CSS(panel+" h3")), chromedp.KeyEvent(kb.Tab))
	if !eval[bool](b, `document.activeElement.matches('`+panel+` .u-legend')`) {
		t.Fatalf("Tab from the title of %s focuses %s, not its legend", panel, eval[string](b, `document.activeElement.outerHTML.slice(0, 120)`))
	}
	b.run(chromedp.KeyEvent(kb.End))
	legend := `document.querySelector('` + panel + ` .u-legend')`
	for end := time.Now().Add(10 * time.Second); !eval[bool](b, `(l => l.scrollTop > 0 && l.scrollTop >= l.scrollHeight - l.clientHeight - 2)(`+legend+`)`); {
		if time.Now().After(end) {
			t.Fatalf("End on the focused legend of %s: %s", panel, eval[string](b, `(l => JSON.stringify({scrollTop: l.scrollTop,
				clientHeight: l.clientHeight, scrollHeight: l.scrollHeight, focused: document.activeElement === l}))(`+legend+`)`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	eval[bool](b, `(l => (l.scrollTop = 0, l.blur(), true))(`+legend+`)`)
}

func checkVisibility(t *testing.T, b *browser, refreshSeconds int) {
	t.Helper()
	setHidden := func(hidden bool) string {
		return fmt.Sprintf(`Object.defineProperty(document, 'hidden', {configurable: true, get: () => %v});
			document.dispatchEvent(new Event('visibilitychange')); edgeDashboard.refreshes`, hidden)
	}
	poll[bool](b, `!edgeDashboard.busy`)
	before := eval[int](b, setHidden(true))
	time.Sleep(time.Duration(refreshSeconds)*time.Second + 3*time.Second)
	if after := eval[int](b, `edgeDashboard.refreshes`); after != before {
		t.Errorf("hidden for %d s: %d refreshes, want none", refreshSeconds+3, after-before)
	}
	eval[int](b, setHidden(false))
	poll[bool](b, fmt.Sprintf(`edgeDashboard.refreshes > %d`, before))
}

// checkClockBanner: no clock banner while the clock is synchronised; once
// it is not, a warning banner and the clock panel at 0; gone again once
// it is synchronised again.
func checkClockBanner(t *testing.T, b *browser, timex string) {
	t.Helper()
	const clockWarning = "clock is not synchronised"
	state := func(synced int) string {
		return fmt.Sprintf(`(() => { const s = edgeDashboard.stats['clock-synchronized'];
			if (edgeDashboard.busy || !s || !s.length || s.some(v => v.value !== %d)) return null;
			const w = [...document.querySelectorAll('#banners .banner')].filter(e => e.textContent.includes(%q));
			return {banners: w.length, role: w.length ? w[0].getAttribute('role') : '', error: w.length ? w[0].classList.contains('error') : false} })()`,
			synced, clockWarning)
	}
	type banner struct {
		Banners int
		Role    string
		Error   bool
	}
	if got := poll[banner](b, state(1)); got.Banners != 0 {
		t.Errorf("clock synchronised: %d clock banners, want none", got.Banners)
	}
	writeTimex(t, timex, false)
	b.run(chromedp.Click(chromedp.CSS(`#ranges button[data-range="1h"]`)))
	got := poll[banner](b, `(() => { const s = `+state(0)+`; return s && s.banners ? s : null })()`)
	if got.Banners != 1 || got.Role != "status" || got.Error {
		t.Errorf("clock not synchronised: %d clock banners, role %q, error style %v; want one plain status banner", got.Banners, got.Role, got.Error)
	}
	checkClockAlertListed(t, b)
	writeTimex(t, timex, true)
	b.run(chromedp.Click(chromedp.CSS(`#ranges button[data-range="1h"]`)))
	poll[banner](b, `(() => { const s = `+state(1)+`; return s && !s.banners ? s : null })()`)
	// Prometheus resolves the alert at its next evaluation; the page drops it.
	poll[bool](b, `!edgeDashboard.busy && Array.isArray(edgeDashboard.alerts) &&
		!edgeDashboard.alerts.some(a => a.name === 'EdgeClockNotSynchronised') &&
		!document.getElementById('alert-list').textContent.includes('EdgeClockNotSynchronised')`)
	b.assertClean(false)
}

// checkClockAlertListed: Prometheus, evaluating the shipped rules, has
// EdgeClockNotSynchronised pending (it fires after 10 minutes), and the
// page's health summary lists it at the top in words, with its severity,
// state and what to do, from /api/alerts; the summary says "OK" exactly
// when no alert fires.
func checkClockAlertListed(t *testing.T, b *browser) {
	t.Helper()
	got := poll[string](b, `(() => { const a = (edgeDashboard.alerts || []).find(a => a.name === 'EdgeClockNotSynchronised');
		const li = [...document.querySelectorAll('#alert-list li')].find(e => e.textContent.includes('EdgeClockNotSynchronised'));
		const fix = li && li.querySelector('details p');
		return a && li && fix && !document.getElementById('alerts').hidden ?
			[a.state, a.severity, li.querySelector('strong').textContent, li.textContent, fix.textContent,
				document.getElementById('alerts-summary').textContent, edgeDashboard.alerts.some(a => a.state === 'firing')].join('|') : null })()`)
	f := strings.Split(got, "|")
	if len(f) != 7 || f[0] != "pending" || f[1] != "warning" || !strings.HasPrefix(f[2], "The system clock of ") ||
		!strings.Contains(f[3], "pending since") || !strings.Contains(f[4], "timedatectl") || !strings.Contains(f[5], "pending") {
		t.Errorf("EdgeClockNotSynchronised on the page: state, severity, words, item, what to do, summary, any firing = %q", f)
	}
	if len(f) == 7 && strings.HasPrefix(f[5], "OK") != (f[6] == "false") {
		t.Errorf("health summary %q with an alert firing: %s", f[5], f[6])
	}
	b.checkAccessibility("alerts listed")
}

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string // axe-core's source, once fetched

	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries
	netErrs  []string // failed requests Chromium logged, allowed when history is down
	foreign  []string // requests that left the origin
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumBinary); err != nil {
		t.Fatalf("%s is required (apt-get install chromium, or `make deps`): %v", chromiumBinary, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumBinary),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := d.Text
		if d.Exception != nil {
			desc += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, desc))
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e.Level != cdplog.EntryLevelError && e.Level != cdplog.EntryLevelWarning {
			return
		}
		msg := fmt.Sprintf("%s %s: %s %s", e.Source, e.Level, e.Text, e.URL)
		if e.Source == cdplog.EntrySourceNetwork && (strings.Contains(e.URL, "/api/panels/") || strings.HasSuffix(e.URL, "/api/alerts")) {
			b.netErrs = append(b.netErrs, msg)
		} else {
			b.problems = append(b.problems, msg)
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if u != b.base && !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") {
			b.foreign = append(b.foreign, u)
		}
	}
}

// assertClean fails the test for console errors, exceptions, requests that
// left the origin, and, unless history is down, failed queries.
func (b *browser) assertClean(historyDown bool) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser: %s", p)
	}
	if !historyDown {
		for _, p := range b.netErrs {
			b.t.Errorf("browser: %s", p)
		}
	}
	for _, u := range b.foreign {
		b.t.Errorf("request left the origin %s: %s", b.base, u)
	}
	b.problems, b.netErrs, b.foreign = nil, nil, nil
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

func (b *browser) viewport(width, height int64, mobile bool) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile}); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("chromium: evaluating %s: %v", js, err)
	}
	return v
}

// poll waits until js is truthy and returns its value.
func poll[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Poll[T](js, chromedp.WithPollingInterval(200*time.Millisecond),
		chromedp.WithPollingTimeout(90*time.Second)))
	if err != nil {
		b.assertClean(true)
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](
			`JSON.stringify({errors: edgeDashboard.errors, banners: document.getElementById('banners').textContent})`))
		b.t.Fatalf("waiting for %s: %v; page: %s", js, err, state)
	}
	return v
}

// waitAllPanels waits until every panel of the document holds data: for a
// chart, the series uPlot holds (not only the DOM); for a stat, its values.
func (b *browser) waitAllPanels(doc dashboardDocument) {
	b.t.Helper()
	got := b.drawnPanels(doc, false)
	for _, p := range doc.Panels {
		g := got[p.ID]
		if why, ok := noHardware[p.ID]; ok {
			msg := eval[string](b, `document.querySelector('#panel-`+p.ID+` .msg').textContent`)
			if g.Kind != p.Kind || g.points() != 0 || !strings.HasPrefix(msg, "No data") {
				b.t.Errorf("panel %s (empty on the fixture: %s): drawn as %q with %d values saying %q, want %s saying No data", p.ID, why, g.Kind, g.points(), msg, p.Kind)
			}
			continue
		}
		if g.Kind != p.Kind || len(g.Points) == 0 {
			b.t.Errorf("panel %s: drawn as %q with %d series, want %s with data", p.ID, g.Kind, len(g.Points), p.Kind)
		}
		for i, n := range g.Points {
			if n == 0 {
				b.t.Errorf("panel %s: series %d holds no points", p.ID, i)
			}
		}
	}
}

// drawnPanel is what the page holds for a panel: its kind and, per series,
// the points uPlot holds (a stat: 1 per value present).
type drawnPanel struct {
	Kind   string
	Points []int
}

func (d drawnPanel) points() (n int) {
	for _, p := range d.Points {
		n += p
	}
	return n
}

// drawnPanels waits until the page has drawn every panel of the document,
// after a refresh, and returns what each holds. With empty, a chart whose
// queries found no series (the page says "No data") counts as drawn, holding
// no series; without, the wait goes on through refreshes until it has some.
func (b *browser) drawnPanels(doc dashboardDocument, empty bool) map[string]drawnPanel {
	b.t.Helper()
	var ids []string
	for _, p := range doc.Panels {
		ids = append(ids, p.ID)
	}
	want, _ := json.Marshal(ids)
	return poll[map[string]drawnPanel](b, `(() => { const ids = `+string(want)+`, empty = `+strconv.FormatBool(empty)+`, out = {};
		if (edgeDashboard.busy) return null;
		for (const id of ids) {
			const u = edgeDashboard.charts[id], s = edgeDashboard.stats[id];
			if (u) out[id] = {kind: 'timeseries', points: u.data.slice(1).map(col => col.filter(v => v != null).length)};
			else if (s) out[id] = {kind: 'stat', points: s.map(v => v.value == null ? 0 : 1)};
			else if (empty && edgeDashboard.empty[id]) out[id] = {kind: 'timeseries', points: []};
			else return null;
		}
		return out })()`)
}

// settled waits until every chart fits the layout of the viewport: the
// page's resize handler has run since the viewport last changed.
func (b *browser) settled() {
	b.t.Helper()
	poll[bool](b, `Object.values(edgeDashboard.charts).every(u => Math.abs(u.width - u.root.parentNode.clientWidth) < 2)`)
}

// screenshot saves the viewport once the layout and every chart fit it.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.settled()
	time.Sleep(300 * time.Millisecond) // a frame or two after the last resize
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
	dir := os.Getenv("BROWSER_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
