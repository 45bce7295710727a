package promconfig

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/golden"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

func TestRenderGolden(t *testing.T) {
	for _, c := range []struct{ golden, config, env string }{
		{"off", "user.yml", "off.env"},
		{"basic", "user.yml", "basic.env"},
		{"lean", "user.yml", "lean.env"},
		{"empty-config", "empty.yml", "basic.env"},
		{"alerts", "user.yml", "alerts.env"},
	} {
		t.Run(c.golden, func(t *testing.T) {
			cfg := filepath.Join("testdata", c.config)
			s, err := settings.Load(filepath.Join("testdata", c.env))
			if err != nil {
				t.Fatal(err)
			}
			got, err := RenderFile(cfg, s, filepath.Join("testdata", "machine-id"))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, c.golden+".golden.yml", string(got))
		})
	}
}

// renderMap renders with testdata/machine-id and decodes the result for
// structural assertions.
func renderMap(t *testing.T, cfg string, s *settings.Settings) map[string]any {
	t.Helper()
	device, _, err := s.Device(filepath.Join("testdata", "machine-id"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(RenderInput{ConfigName: "p.yml", Config: []byte(cfg), Settings: s, Device: device})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

func TestRenderExternalLabels(t *testing.T) {
	s := &settings.Settings{Site: "s1", Role: "r1", ExternalLabels: []settings.KV{{Key: "env", Value: "prod"}}, Profile: settings.ProfileFull}
	m := renderMap(t, "global:\n  external_labels:\n    role: mine\n", s)
	got := m["global"].(map[string]any)["external_labels"]
	want := map[string]any{"device": "0123456789abcdef0123456789abcdef", "site": "s1", "role": "mine", "env": "prod"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("external_labels %v, want %v (machine id as device, user's role wins)", got, want)
	}
	if _, ok := m["remote_write"]; ok {
		t.Fatalf("remote_write rendered with fleet off: %v", m["remote_write"])
	}
	s.DeviceID = "dev-9"
	m = renderMap(t, "global: ~\n", s)
	if d := m["global"].(map[string]any)["external_labels"].(map[string]any)["device"]; d != "dev-9" {
		t.Fatalf("device %v, want EDGE_DEVICE_ID", d)
	}
}

func TestRenderRemoteWriteEntry(t *testing.T) {
	s := &settings.Settings{URL: "https://c/w", BearerTokenFile: "/t", CAFile: "/ca", Profile: settings.ProfileFull,
		Headers: []settings.KV{{Key: "X-Scope-OrgID", Value: "t1"}}}
	user := "remote_write:\n  - name: edge-fleet\n    url: http://old/\n  - url: http://keep/\n"
	rws := renderMap(t, user, s)["remote_write"].([]any)
	if len(rws) != 2 {
		t.Fatalf("want the user's entry plus one edge-fleet entry, got %v", rws)
	}
	if rws[0].(map[string]any)["url"] != "http://keep/" {
		t.Fatalf("user entry not kept first: %v", rws[0])
	}
	e := rws[1].(map[string]any)
	if e["name"] != RemoteWriteName || e["url"] != "https://c/w" {
		t.Fatalf("entry %v", e)
	}
	if a := e["authorization"].(map[string]any); a["credentials_file"] != "/t" || a["type"] != "Bearer" {
		t.Fatalf("authorization %v", a)
	}
	if _, ok := e["basic_auth"]; ok {
		t.Fatal("basic_auth with a bearer token")
	}
	if tc := e["tls_config"].(map[string]any); tc["ca_file"] != "/ca" {
		t.Fatalf("tls_config %v", tc)
	}
	if h := e["headers"].(map[string]any); h["X-Scope-OrgID"] != "t1" {
		t.Fatalf("headers %v", h)
	}
	if q := e["queue_config"].(map[string]any); q["max_shards"] != 2 || q["capacity"] != 2500 {
		t.Fatalf("queue_config %v", q)
	}

	// Fleet off removes a stale edge-fleet entry and an emptied list.
	m := renderMap(t, "remote_write:\n  - name: edge-fleet\n    url: http://old/\n", &settings.Settings{Profile: settings.ProfileFull})
	if _, ok := m["remote_write"]; ok {
		t.Fatalf("stale edge-fleet entry kept: %v", m["remote_write"])
	}
}

func TestRenderLeanDropsServerOnlySections(t *testing.T) {
	s := &settings.Settings{URL: "http://c/w", Profile: settings.ProfileLean}
	m := renderMap(t, "rule_files: [/r.yml]\nalerting: {}\nremote_read: [{url: 'http://r/'}]\nscrape_configs: []\n", s)
	for _, k := range []string{"rule_files", "alerting", "remote_read"} {
		if _, ok := m[k]; ok {
			t.Fatalf("%s kept in lean profile", k)
		}
	}
	if _, ok := m["scrape_configs"]; !ok {
		t.Fatal("scrape_configs dropped")
	}
	m = renderMap(t, "rule_files: [/r.yml]\n", &settings.Settings{URL: "http://c/w", Profile: settings.ProfileFull})
	if _, ok := m["rule_files"]; !ok {
		t.Fatal("rule_files dropped in full profile")
	}
}

func TestRenderErrors(t *testing.T) {
	for _, c := range []struct{ cfg, want string }{
		{"global: [1]\n", "p.yml:1: global must be a mapping"},
		{"- a\n", "p.yml:1: top level must be a mapping"},
		{"x: 1\nremote_write: {a: 1}\n", "p.yml:2: remote_write must be a list"},
		{"global:\n  external_labels: 3\n", "p.yml:2: external_labels must be a mapping"},
		{"a: [\n", "p.yml: yaml:"},
	} {
		_, err := Render(RenderInput{ConfigName: "p.yml", Config: []byte(c.cfg), Settings: &settings.Settings{URL: "http://c/", Profile: settings.ProfileFull}, Device: "m"})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want prefix %q", c.cfg, err, c.want)
		}
	}
	_, err := Render(RenderInput{ConfigName: "p.yml", Config: nil, Settings: &settings.Settings{Profile: settings.ProfileFull}})
	if err == nil || !strings.Contains(err.Error(), "no device id") {
		t.Errorf("missing device id: %v", err)
	}
}

func TestRenderAlerting(t *testing.T) {
	s := settings.Defaults()
	s.Alerting.Local = true
	s.Alerting.Central = settings.Central{URL: "https://am.example:9443/fleet/", Username: "pump-17", PasswordFile: "/etc/am.pw", CAFile: "/etc/ca.pem"}
	user := "alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['10.0.0.5:9093']}]\nscrape_configs:\n  - job_name: edge-sensord\n"
	m := renderMap(t, user, s)
	ams := m["alerting"].(map[string]any)["alertmanagers"].([]any)
	if len(ams) != 3 {
		t.Fatalf("want the user's Alertmanager, the local one and the central one: %v", ams)
	}
	if got := ams[0].(map[string]any)["static_configs"].([]any)[0].(map[string]any)["targets"].([]any)[0]; got != "10.0.0.5:9093" {
		t.Fatalf("user's entry not kept first: %v", ams[0])
	}
	local := ams[1].(map[string]any)
	if got := local["static_configs"].([]any)[0].(map[string]any)["targets"].([]any)[0]; got != "127.0.0.1:9093" || local["api_version"] != "v2" {
		t.Fatalf("local entry %v", local)
	}
	c := ams[2].(map[string]any)
	want := map[string]any{"scheme": "https", "path_prefix": "/fleet", "timeout": "10s", "api_version": "v2",
		"basic_auth":     map[string]any{"username": "pump-17", "password_file": "/etc/am.pw"},
		"tls_config":     map[string]any{"ca_file": "/etc/ca.pem"},
		"static_configs": []any{map[string]any{"targets": []any{"am.example:9443"}}}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("central entry\n%v\nwant\n%v", c, want)
	}
	jobs := m["scrape_configs"].([]any)
	if len(jobs) != 2 || jobs[1].(map[string]any)["job_name"] != AlertmanagerJob {
		t.Fatalf("want a scrape job of the local Alertmanager after the user's: %v", jobs)
	}

	// The user's own alertmanager job is kept as it is; without local alerting there is none.
	m = renderMap(t, "scrape_configs:\n  - job_name: alertmanager\n    static_configs: [{targets: ['127.0.0.1:19093']}]\n", s)
	if jobs := m["scrape_configs"].([]any); len(jobs) != 1 {
		t.Fatalf("user's alertmanager job duplicated: %v", jobs)
	}
	s.Alerting.Local, s.Alerting.Central.URL = false, ""
	if m = renderMap(t, "scrape_configs: []\n", s); m["alerting"] != nil || len(m["scrape_configs"].([]any)) != 0 {
		t.Fatalf("alerting off rendered %v %v", m["alerting"], m["scrape_configs"])
	}
}

func TestRenderAlertingErrors(t *testing.T) {
	s := settings.Defaults()
	s.Alerting.Local = true
	for _, c := range []struct{ cfg, want string }{
		{"alerting: [1]\n", "p.yml:1: alerting must be a mapping"},
		{"alerting:\n  alertmanagers: {a: 1}\n", "p.yml:2: alertmanagers must be a list"},
		{"scrape_configs: 3\n", "p.yml:1: scrape_configs must be a list"},
	} {
		_, err := Render(RenderInput{ConfigName: "p.yml", Config: []byte(c.cfg), Settings: s, Device: "m"})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want prefix %q", c.cfg, err, c.want)
		}
	}
}
