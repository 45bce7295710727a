package promconfig

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/settings"
	"github.com/edgeobs/edge-observability-stack/internal/yamledit"
)

// AlertmanagerJob is the scrape job of the local Alertmanager: its
// notification counters are how edgectl alerts status tells when the last
// delivery succeeded or failed. A job of that name in the user's file is
// left as it is and none is added.
const AlertmanagerJob = "alertmanager"

// alertmanagerKept are the local Alertmanager's series Prometheus keeps:
// deliveries, failures and alert counts, not its Go runtime and HTTP
// histograms (a few hundred series nothing here reads).
const alertmanagerKept = "alertmanager_(alerts|alerts_received_total|notifications_total|notifications_failed_total|notification_requests_total|notification_requests_failed_total|silences|nflog_snapshot_size_bytes)|process_resident_memory_bytes|go_memstats_heap_inuse_bytes"

type staticConfig struct {
	Targets []string `yaml:"targets"`
}

type alertmanagerConfig struct {
	Scheme        string         `yaml:"scheme,omitempty"`
	PathPrefix    string         `yaml:"path_prefix,omitempty"`
	Timeout       string         `yaml:"timeout"`
	APIVersion    string         `yaml:"api_version"`
	BasicAuth     *basicAuth     `yaml:"basic_auth,omitempty"`
	TLSConfig     *tlsConfig     `yaml:"tls_config,omitempty"`
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type relabel struct {
	SourceLabels []string `yaml:"source_labels"`
	Regex        string   `yaml:"regex"`
	Action       string   `yaml:"action"`
}

type scrapeConfig struct {
	JobName              string         `yaml:"job_name"`
	StaticConfigs        []staticConfig `yaml:"static_configs"`
	MetricRelabelConfigs []relabel      `yaml:"metric_relabel_configs"`
}

// addAlerting appends the Alertmanagers of the settings to the user's
// alerting.alertmanagers (the user's own entries stay first), and the scrape
// job of the local one. Prometheus attaches the external labels (device,
// site, role) to every alert it sends.
func addAlerting(name string, root *yaml.Node, a settings.Alerting) error {
	var entries []alertmanagerConfig
	if a.Local {
		entries = append(entries, alertmanagerConfig{Timeout: "10s", APIVersion: "v2",
			StaticConfigs: []staticConfig{{Targets: []string{a.Listen}}}})
	}
	if a.Central.URL != "" {
		e, err := centralEntry(a.Central)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil
	}
	alerting, err := yamledit.Mapping(name, root, "alerting")
	if err != nil {
		return err
	}
	list, err := yamledit.Sequence(name, alerting, "alertmanagers")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := yamledit.Append(list, e); err != nil {
			return err
		}
	}
	if a.Local {
		return addAlertmanagerJob(name, root, a.Listen)
	}
	return nil
}

// centralEntry is the alertmanager_config of a central Alertmanager at
// c.URL: scheme, host and path prefix, basic auth and CA the Prometheus way.
func centralEntry(c settings.Central) (alertmanagerConfig, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return alertmanagerConfig{}, fmt.Errorf("%s: %w", settings.KeyAlertmanagerURL, err)
	}
	e := alertmanagerConfig{Scheme: u.Scheme, PathPrefix: strings.TrimRight(u.Path, "/"), Timeout: "10s", APIVersion: "v2",
		StaticConfigs: []staticConfig{{Targets: []string{u.Host}}}}
	if c.PasswordFile != "" {
		e.BasicAuth = &basicAuth{Username: c.Username, PasswordFile: c.PasswordFile}
	}
	if c.CAFile != "" {
		e.TLSConfig = &tlsConfig{CAFile: c.CAFile}
	}
	return e, nil
}

func addAlertmanagerJob(name string, root *yaml.Node, target string) error {
	jobs, err := yamledit.Sequence(name, root, "scrape_configs")
	if err != nil {
		return err
	}
	for _, j := range jobs.Content {
		if n := yamledit.Lookup(j, "job_name"); n != nil && n.Value == AlertmanagerJob {
			return nil
		}
	}
	return yamledit.Append(jobs, scrapeConfig{JobName: AlertmanagerJob, StaticConfigs: []staticConfig{{Targets: []string{target}}},
		MetricRelabelConfigs: []relabel{{SourceLabels: []string{"__name__"}, Regex: alertmanagerKept, Action: "keep"}}})
}
