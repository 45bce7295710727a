//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
	"github.com/edgeobs/edge-observability-stack/internal/web"
)

// TestDashboardAlertsAgainstPrometheus: with the shipped rules, a daemon whose kernel has the
// memory controller off and whose clock is not synchronised makes one alert fire at once
// (EdgeMemoryBudgetNotEnforced) and one pend (EdgeClockNotSynchronised waits 10 minutes).
// GET /api/alerts lists both as Prometheus's own /api/v1/alerts has them, firing first;
// with Prometheus stopped it answers 503 with a message.
func TestDashboardAlertsAgainstPrometheus(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	timex := filepath.Join(t.TempDir(), "timex")
	writeTimex(t, timex, false)
	prom, _, stopProm := startPrometheusStoppable(t, fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: edge-sensord
    static_configs: [{targets: [%q]}]
`, repoPath(t, "etc/prometheus/rules/edge-observability.yml"), addr))
	base := "http://" + startDaemon(t, "--web.listen-address="+addr, "--prometheus.url="+prom, "--clock.timex-file="+timex,
		"--path.cgroupfs="+repoPath(t, "test/fixtures/cgroup/v2-nomemory"), "--path.procfs="+repoPath(t, "test/fixtures/proc/pi-6.12"))

	var got web.AlertsAnswer
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, b := httpDo(t, "GET", base+"/api/alerts", "")
		if code != 200 || json.Unmarshal(b, &got) != nil || got.Status != "success" {
			t.Fatalf("/api/alerts: %d %s", code, b)
		}
		if states := alertStates(got); states["EdgeMemoryBudgetNotEnforced"] == "firing" && states["EdgeClockNotSynchronised"] == "pending" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts not firing and pending after 90s: %+v", got.Data.Alerts)
		}
		time.Sleep(time.Second)
	}
	// As Prometheus has them, read at about the same time.
	_, b := httpDo(t, "GET", prom+"/api/v1/alerts", "")
	var direct struct {
		Data struct {
			Alerts []struct {
				Labels, Annotations map[string]string
				State               string
				ActiveAt            time.Time
			}
		}
	}
	if err := json.Unmarshal(b, &direct); err != nil {
		t.Fatal(err)
	}
	byName := map[string]web.Alert{}
	for _, a := range got.Data.Alerts {
		byName[a.Name] = a
	}
	for _, d := range direct.Data.Alerts {
		a, ok := byName[d.Labels["alertname"]]
		if !ok || a.State != d.State || a.Severity != d.Labels["severity"] || a.Summary != d.Annotations["summary"] ||
			a.Description != d.Annotations["description"] || !a.ActiveAt.Equal(d.ActiveAt) || len(a.Labels) != len(d.Labels) {
			t.Errorf("alert %s: daemon %+v, Prometheus %+v", d.Labels["alertname"], a, d)
		}
		if a.Summary == "" || a.Severity == "" {
			t.Errorf("alert %s without summary or severity: %+v", a.Name, a)
		}
	}
	if len(direct.Data.Alerts) != len(got.Data.Alerts) || got.Data.Alerts[0].State != "firing" {
		t.Errorf("daemon lists %+v\nPrometheus %s", got.Data.Alerts, b)
	}

	stopProm()
	code, b := httpDo(t, "GET", base+"/api/alerts", "")
	if a := decodeAnswer(t, "alerts, Prometheus stopped", b); code != 503 || a.ErrorType != "unavailable" || !strings.Contains(a.Error, "not answering") {
		t.Fatalf("Prometheus stopped: %d %s", code, b)
	}
}

func alertStates(a web.AlertsAnswer) map[string]string {
	m := map[string]string{}
	for _, al := range a.Data.Alerts {
		m[al.Name] = al.State
	}
	return m
}
