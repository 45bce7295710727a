package dashboard

// The Grafana dashboard is generated from Panels() with Grafana's foundation
// SDK. It is used here only, in a test, so that it never ends up in the
// shipped binaries: `go test ./internal/dashboard -run TestGrafanaDashboard
// -update` (or `go generate ./internal/dashboard`) rewrites the JSON, and
// without -update the test fails when the committed file differs.

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	grafana "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/edgeobs/edge-observability-stack/internal/golden"
)

const (
	grafanaFile = "../../etc/grafana/dashboards/edge-device.json"
	// datasourceUID is the uid etc/grafana/provisioning/datasources gives
	// the device's Prometheus.
	datasourceUID = "edge-prometheus"
)

func ref(s string) *string { return &s }

var datasource = common.DataSourceRef{Type: ref("prometheus"), Uid: ref(datasourceUID)}

// grafanaPanel turns one panel into Grafana's: 8 columns of 24 wide, ratios
// on a 0..1 axis, every query a range query with its legend.
func grafanaPanel(p Panel, id uint32) cog.Builder[grafana.Panel] {
	var targets []cog.Builder[variants.Dataquery]
	for i, q := range p.Queries {
		targets = append(targets, prometheus.NewDataqueryBuilder().Datasource(datasource).
			RefId(string(rune('A'+i))).Expr(q.Expr).LegendFormat(q.Legend).Range())
	}
	if p.Kind == KindStat {
		b := stat.NewPanelBuilder().Id(id).Title(p.Title).Datasource(datasource).Unit(p.Unit).
			Height(8).Span(8).Targets(targets).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
			ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).TextMode(common.BigValueTextModeAuto)
		if p.Description != "" {
			b.Description(p.Description)
		}
		return b
	}
	b := timeseries.NewPanelBuilder().Id(id).Title(p.Title).Datasource(datasource).Unit(p.Unit).
		Height(8).Span(8).Targets(targets).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
	switch p.Unit {
	case "percentunit":
		b.Min(0).Max(1)
	case "bool_yes_no": // states: a step from one to the other
		b.Min(0).Max(1).LineInterpolation(common.LineInterpolationStepAfter)
	}
	if p.Description != "" {
		b.Description(p.Description)
	}
	return b
}

// grafanaDashboard is the Grafana dashboard of Panels(), one row per section.
func grafanaDashboard(t *testing.T) []byte {
	t.Helper()
	d := grafana.NewDashboardBuilder("Edge device").Uid("edge-device").
		Description("Sensors, scrape health and resource budget of one edge device.").
		Tags([]string{"edge-observability"}).Timezone(common.TimeZoneBrowser).Readonly().
		Tooltip(grafana.DashboardCursorSyncCrosshair).Refresh("30s").Time("now-3h", "now")
	id, section := uint32(0), ""
	for _, p := range Panels() {
		if p.Section != section {
			section = p.Section
			id++
			d.WithRow(grafana.NewRowBuilder(section).Id(id))
		}
		id++
		d.WithPanel(grafanaPanel(p, id))
	}
	built, err := d.Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(built, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGrafanaDashboard(t *testing.T) {
	got := grafanaDashboard(t)
	golden.File(t, grafanaFile, string(got))
	// What provisioning relies on: the uid and title, and every query on the
	// provisioned datasource.
	var d struct {
		UID, Title string
		Panels     []struct {
			Type       string
			Datasource *common.DataSourceRef
			Targets    []struct {
				Datasource common.DataSourceRef
				Expr       string
			}
		}
	}
	if err := json.Unmarshal(got, &d); err != nil {
		t.Fatal(err)
	}
	exprs := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource.Uid != datasourceUID {
			t.Errorf("panel without datasource %s", datasourceUID)
		}
		for _, tg := range p.Targets {
			exprs++
			if *tg.Datasource.Uid != datasourceUID {
				t.Errorf("query %q: datasource %v", tg.Expr, *tg.Datasource.Uid)
			}
		}
	}
	if d.UID != "edge-device" || d.Title != "Edge device" || exprs < 20 {
		t.Fatalf("uid %q, title %q, %d queries", d.UID, d.Title, exprs)
	}
}

// TestGrafanaSDKNotShipped: the SDK is for generating the JSON only.
func TestGrafanaSDKNotShipped(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "../../cmd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "grafana-foundation-sdk") {
		t.Fatal("a shipped binary links grafana-foundation-sdk")
	}
	if !strings.Contains(string(out), "internal/dashboard") {
		t.Fatal("go list -deps output does not list internal/dashboard: the check above proves nothing")
	}
}
