//go:build integration

package integration

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestShippedScrapeKeepsWhatIsUsed: the keep list of the shipped prometheus
// job keeps every metric of Prometheus's own that a panel, a shipped rule
// or a fleet centre's rule selects, and drops most of the rest. What
// Prometheus exports is read from a real one.
func TestShippedScrapeKeepsWhatIsUsed(t *testing.T) {
	keep := shippedKeep(t, "prometheus")
	// An Alertmanager and a remote-write queue (nothing listens on port 1), so
	// that their per-target metrics exist, as on a device that sends alerts
	// to one and ships to a fleet's centre.
	prom := startPrometheus(t, `global: {scrape_interval: 1s}
alerting: {alertmanagers: [{static_configs: [{targets: ['127.0.0.1:1']}]}]}
remote_write: [{url: 'http://127.0.0.1:1/api/v1/write'}]
`)
	exported := exportedNames(t, prom+"/metrics")
	for end := time.Now().Add(30 * time.Second); !exported["prometheus_notifications_errors_total"] && time.Now().Before(end); {
		time.Sleep(200 * time.Millisecond) // the notifier finds its Alertmanager
		exported = exportedNames(t, prom+"/metrics")
	}
	exprs := append(rulesExprs(t, append(shippedRuleFiles(t), repoPath(t, "etc/central/edge-fleet.yml"))...), panelExprs()...)
	used := map[string]string{}
	for _, e := range exprs {
		names, _ := metricNames(e.expr)
		for _, n := range names {
			used[n] = e.where
		}
	}
	checked := 0
	for n, where := range used {
		if !exported[n] {
			continue
		}
		checked++
		if !keep.MatchString(n) {
			t.Errorf("%s selects %s, which the keep list of job prometheus drops", where, n)
		}
	}
	if checked == 0 {
		t.Error("no metric of Prometheus's own is used: the check checks nothing (the fleet rules use prometheus_notifications_errors_total)")
	}
	var kept []string
	for n := range exported {
		if keep.MatchString(n) {
			kept = append(kept, n)
		}
	}
	slices.Sort(kept)
	if len(kept) == 0 || len(kept)*4 > len(exported) {
		t.Errorf("the keep list keeps %d of the %d metric names Prometheus exports; want some, and under a quarter", len(kept), len(exported))
	}
	t.Logf("kept %d of %d metric names: %s", len(kept), len(exported), strings.Join(kept, " "))
}

// shippedKeep is the keep regex of a job of the shipped prometheus.yml,
// anchored as Prometheus anchors it.
func shippedKeep(t *testing.T, job string) *regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "etc/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
			Relabel []struct {
				SourceLabels []string `yaml:"source_labels"`
				Regex        string   `yaml:"regex"`
				Action       string   `yaml:"action"`
			} `yaml:"metric_relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, sc := range cfg.ScrapeConfigs {
		for _, r := range sc.Relabel {
			if sc.JobName == job && r.Action == "keep" && slices.Equal(r.SourceLabels, []string{"__name__"}) {
				return regexp.MustCompile("^(?:" + r.Regex + ")$")
			}
		}
	}
	t.Fatalf("job %s of the shipped prometheus.yml has no keep list on __name__", job)
	return nil
}
