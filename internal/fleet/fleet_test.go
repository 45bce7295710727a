package fleet

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestParseSettingsErrorsNameFileLineKey(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"unknown key", "# c\nEDGE_SITE=a\nEDGE_SIET=b\n", "f.env:3: EDGE_SIET: unknown key"},
		{"bad bool", "EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=yes please\n", "f.env:1: EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY: unquoted value"},
		{"bad bool value", "EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=maybe\n", "f.env:1: EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY: want true or false"},
		{"bad profile", "\nEDGE_PROFILE=tiny\n", "f.env:2: EDGE_PROFILE: want"},
		{"bad url", "EDGE_REMOTE_WRITE_URL=ftp://x/y\n", "f.env:1: EDGE_REMOTE_WRITE_URL: URL must be http"},
		{"url creds", "EDGE_REMOTE_WRITE_URL=https://u:p@x/y\n", "f.env:1: EDGE_REMOTE_WRITE_URL: credentials in the URL"},
		{"relative path", "EDGE_REMOTE_WRITE_CA_FILE=ca.pem\n", "f.env:1: EDGE_REMOTE_WRITE_CA_FILE: must be an absolute path"},
		{"no equals", "EDGE_SITE\n", "f.env:1: expected KEY=value"},
		{"duplicate", "EDGE_SITE=a\nEDGE_SITE=b\n", "f.env:2: EDGE_SITE: set again (first set on line 1)"},
		{"bad label", "EDGE_EXTERNAL_LABELS=ok=1,9bad=2\n", `f.env:1: EDGE_EXTERNAL_LABELS: invalid label name "9bad"`},
		{"reserved label", "EDGE_EXTERNAL_LABELS=device=x\n", `f.env:1: EDGE_EXTERNAL_LABELS: label "device" is set by`},
		{"bad kv", "EDGE_REMOTE_WRITE_HEADERS=X-A\n", "f.env:1: EDGE_REMOTE_WRITE_HEADERS: want k=v"},
		{"reserved header", "EDGE_REMOTE_WRITE_HEADERS=authorization=x\n", `f.env:1: EDGE_REMOTE_WRITE_HEADERS: header "authorization" is reserved`},
		{"user without password", "EDGE_REMOTE_WRITE_URL=http://c/w\n\nEDGE_REMOTE_WRITE_USERNAME=u\n", "f.env:3: EDGE_REMOTE_WRITE_USERNAME: needs EDGE_REMOTE_WRITE_PASSWORD_FILE"},
		{"password without user", "EDGE_REMOTE_WRITE_PASSWORD_FILE=/p\n", "f.env:1: EDGE_REMOTE_WRITE_PASSWORD_FILE: needs EDGE_REMOTE_WRITE_USERNAME"},
		{"basic and bearer", "EDGE_REMOTE_WRITE_USERNAME=u\nEDGE_REMOTE_WRITE_PASSWORD_FILE=/p\nEDGE_REMOTE_WRITE_BEARER_TOKEN_FILE=/t\n", "f.env:3: EDGE_REMOTE_WRITE_BEARER_TOKEN_FILE: cannot be combined"},
		{"lean without url", "EDGE_PROFILE=lean\n", "f.env:1: EDGE_PROFILE: profile lean forwards everything"},
		{"unterminated quote", "EDGE_SITE=\"abc\n", "f.env:1: EDGE_SITE: unterminated double quote"},
		{"shell expansion", "EDGE_SITE=\"$HOST\"\n", "f.env:1: EDGE_SITE: characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSettings("f.env", []byte(c.in))
			if err == nil {
				t.Fatalf("no error, got %+v", s)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %q, want prefix %q", err, c.want)
			}
		})
	}
}

func TestParseSettingsValid(t *testing.T) {
	in := `# comment
  # indented comment

EDGE_REMOTE_WRITE_URL=https://mimir.example/api/v1/push
export EDGE_REMOTE_WRITE_USERNAME='dev 1'
EDGE_REMOTE_WRITE_PASSWORD_FILE="/etc/pw file"
EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=true
EDGE_REMOTE_WRITE_HEADERS="X-Scope-OrgID=t1, X-Other = v"
EDGE_EXTERNAL_LABELS=
EDGE_SITE=plant-a
EDGE_PROFILE=lean
`
	s, err := ParseSettings("f", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		URL: "https://mimir.example/api/v1/push", Username: "dev 1", PasswordFile: "/etc/pw file",
		InsecureSkipVerify: true, Headers: []KV{{"X-Scope-OrgID", "t1"}, {"X-Other", "v"}},
		Site: "plant-a", Profile: ProfileLean,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
}

func TestShippedDefaultsFileIsFleetOff(t *testing.T) {
	s, err := LoadSettings("../../etc/default/edge-observability")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, &Settings{Profile: ProfileFull}) {
		t.Fatalf("shipped defaults: %+v, want fleet off and profile full", s)
	}
}

func TestLoadSettingsMissingFileIsFleetOff(t *testing.T) {
	s, err := LoadSettings(filepath.Join(t.TempDir(), "nope"))
	if err != nil || s.URL != "" || s.Profile != ProfileFull {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, c := range []struct{ golden, config, env string }{
		{"off", "user.yml", "off.env"},
		{"basic", "user.yml", "basic.env"},
		{"lean", "user.yml", "lean.env"},
		{"empty-config", "empty.yml", "basic.env"},
	} {
		t.Run(c.golden, func(t *testing.T) {
			cfg := filepath.Join("testdata", c.config)
			got, _, err := RenderFiles(cfg, filepath.Join("testdata", c.env), filepath.Join("testdata", "machine-id"))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.golden+".golden.yml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("rendered output differs from %s (go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

// renderMap renders and decodes the result for structural assertions.
func renderMap(t *testing.T, cfg string, s *Settings) map[string]any {
	t.Helper()
	out, err := Render(RenderInput{ConfigName: "p.yml", Config: []byte(cfg), Settings: s, MachineID: "mid\n"})
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
	s := &Settings{Site: "s1", Role: "r1", ExternalLabels: []KV{{"env", "prod"}}, Profile: ProfileFull}
	m := renderMap(t, "global:\n  external_labels:\n    role: mine\n", s)
	got := m["global"].(map[string]any)["external_labels"]
	want := map[string]any{"device": "mid", "site": "s1", "role": "mine", "env": "prod"}
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
	s := &Settings{URL: "https://c/w", BearerTokenFile: "/t", CAFile: "/ca", Profile: ProfileFull,
		Headers: []KV{{"X-Scope-OrgID", "t1"}}}
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
	m := renderMap(t, "remote_write:\n  - name: edge-fleet\n    url: http://old/\n", &Settings{Profile: ProfileFull})
	if _, ok := m["remote_write"]; ok {
		t.Fatalf("stale edge-fleet entry kept: %v", m["remote_write"])
	}
}

func TestRenderLeanDropsServerOnlySections(t *testing.T) {
	s := &Settings{URL: "http://c/w", Profile: ProfileLean}
	m := renderMap(t, "rule_files: [/r.yml]\nalerting: {}\nremote_read: [{url: 'http://r/'}]\nscrape_configs: []\n", s)
	for _, k := range []string{"rule_files", "alerting", "remote_read"} {
		if _, ok := m[k]; ok {
			t.Fatalf("%s kept in lean profile", k)
		}
	}
	if _, ok := m["scrape_configs"]; !ok {
		t.Fatal("scrape_configs dropped")
	}
	m = renderMap(t, "rule_files: [/r.yml]\n", &Settings{URL: "http://c/w", Profile: ProfileFull})
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
		_, err := Render(RenderInput{ConfigName: "p.yml", Config: []byte(c.cfg), Settings: &Settings{URL: "http://c/", Profile: ProfileFull}, MachineID: "m"})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want prefix %q", c.cfg, err, c.want)
		}
	}
	_, err := Render(RenderInput{ConfigName: "p.yml", Config: nil, Settings: &Settings{Profile: ProfileFull}})
	if err == nil || !strings.Contains(err.Error(), "no device id") {
		t.Errorf("missing device id: %v", err)
	}
}

func TestPrometheusArgs(t *testing.T) {
	in := []string{
		"--config.file=/etc/prometheus/prometheus.yml",
		"--storage.tsdb.path=/var/lib/prometheus/metrics2/",
		"--storage.tsdb.retention.time", "12h",
		"--storage.tsdb.retention.size=256MB",
		"--storage.tsdb.wal-compression",
		"--no-storage.tsdb.use-lockfile",
		"--web.listen-address=127.0.0.1:9090",
		"--rules.alert.for-grace-period=5m",
		"--query.timeout", "1m",
		"--alertmanager.notification-queue-capacity=10",
		"--storage.remote.read-sample-limit=1",
		"--storage.remote.flush-deadline=1m",
		"--web.enable-lifecycle",
	}
	full := PrometheusArgs(ProfileFull, "/run/x.yml", in)
	wantFull := append([]string{"--config.file=/run/x.yml"}, in[1:]...)
	if !reflect.DeepEqual(full, wantFull) {
		t.Fatalf("full:\n got %q\nwant %q", full, wantFull)
	}
	lean := PrometheusArgs(ProfileLean, "/run/x.yml", in)
	wantLean := []string{
		"--config.file=/run/x.yml",
		"--web.listen-address=127.0.0.1:9090",
		"--storage.remote.flush-deadline=1m",
		"--web.enable-lifecycle",
		"--enable-feature=agent",
		"--storage.agent.path=" + AgentPath,
	}
	if !reflect.DeepEqual(lean, wantLean) {
		t.Fatalf("lean:\n got %q\nwant %q", lean, wantLean)
	}
	// Explicit agent flags are kept, a separate --config.file value is dropped.
	got := PrometheusArgs(ProfileLean, "/o.yml", []string{"--config.file", "/a.yml", "--storage.agent.path=/d", "--storage.agent.retention.max-time=8h"})
	want := []string{"--config.file=/o.yml", "--storage.agent.path=/d", "--storage.agent.retention.max-time=8h", "--enable-feature=agent"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEditSettingsKeepsComments(t *testing.T) {
	in := "# head\nEDGE_REMOTE_WRITE_URL=\n\n# site\nEDGE_SITE=a\nEDGE_SITE=dup\nEDGE_ROLE=r"
	got := string(EditSettings([]byte(in), map[string]string{
		KeyURL: "http://c/w", KeySite: "b c", KeyProfile: "lean", KeyDeviceID: "",
	}))
	want := "# head\nEDGE_REMOTE_WRITE_URL=http://c/w\n\n# site\nEDGE_SITE='b c'\nEDGE_ROLE=r\nEDGE_DEVICE_ID=\nEDGE_PROFILE=lean\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := ParseSettings("x", []byte(got)); err != nil {
		t.Fatal(err)
	}
}

// fakeSystem records systemctl calls.
type fakeSystem struct {
	booted bool
	calls  []string
}

func (f *fakeSystem) system() System {
	return System{
		Booted: func() bool { return f.booted },
		Run: func(_, _ io.Writer, name string, args ...string) error {
			f.calls = append(f.calls, name+" "+strings.Join(args, " "))
			return nil
		},
	}
}

type fleetEnv struct {
	dir, defaults, cfg, mid, dropins string
}

func newFleetEnv(t *testing.T) fleetEnv {
	t.Helper()
	dir := t.TempDir()
	e := fleetEnv{dir: dir, defaults: filepath.Join(dir, "edge-observability"), cfg: filepath.Join(dir, "prometheus.yml"),
		mid: filepath.Join(dir, "machine-id"), dropins: filepath.Join(dir, "slice.d")}
	shipped, err := os.ReadFile("../../etc/default/edge-observability")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.defaults, shipped, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfg, []byte("scrape_configs: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.mid, []byte("abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e fleetEnv) run(t *testing.T, sys System, args ...string) (int, string, string) {
	t.Helper()
	args = append(args, "--defaults", e.defaults, "--config.in", e.cfg, "--machine-id", e.mid, "--dropin-dir", e.dropins)
	var out, errb bytes.Buffer
	code := FleetWith(sys, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestFleetEnableDisable(t *testing.T) {
	e := newFleetEnv(t)
	fs := &fakeSystem{booted: true}
	code, out, errs := e.run(t, fs.system(), "enable", "https://mimir.example/api/v1/push",
		"--username", "dev", "--password-file", "/etc/pw", "--site", "plant-a", "--profile", "lean")
	if code != 0 {
		t.Fatalf("enable: %d %s %s", code, out, errs)
	}
	data, _ := os.ReadFile(e.defaults)
	s, err := ParseSettings(e.defaults, data)
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "https://mimir.example/api/v1/push" || s.Username != "dev" || s.PasswordFile != "/etc/pw" ||
		s.Site != "plant-a" || s.Profile != ProfileLean {
		t.Fatalf("settings after enable: %+v", s)
	}
	if !strings.Contains(string(data), "# Central engine accepting Prometheus remote write") {
		t.Fatal("comments lost")
	}
	if fi, _ := os.Stat(e.defaults); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
	}
	if b, err := os.ReadFile(filepath.Join(e.dropins, LeanDropInName)); err != nil || !strings.Contains(string(b), "MemoryMax=96M") {
		t.Fatalf("lean drop-in: %q %v", b, err)
	}
	if want := []string{"systemctl daemon-reload", "systemctl try-restart prometheus.service"}; !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls %q, want %q", fs.calls, want)
	}

	// Switching auth to a bearer token clears basic auth.
	fs.calls = nil
	if code, out, errs := e.run(t, fs.system(), "enable", "https://vm.example/w", "--bearer-token-file", "/etc/tok", "--profile", "full"); code != 0 {
		t.Fatalf("re-enable: %d %s %s", code, out, errs)
	}
	s, _ = LoadSettings(e.defaults)
	if s.Username != "" || s.PasswordFile != "" || s.BearerTokenFile != "/etc/tok" || s.Site != "plant-a" || s.Profile != ProfileFull {
		t.Fatalf("settings after re-enable: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(e.dropins, LeanDropInName)); !os.IsNotExist(err) {
		t.Fatalf("lean drop-in not removed for profile full: %v", err)
	}
	if want := []string{"systemctl daemon-reload", "systemctl try-restart prometheus.service"}; !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls %q, want %q", fs.calls, want)
	}

	// Status reports what is configured.
	var sout bytes.Buffer
	if code := FleetWith(fs.system(), []string{"status", "--defaults", e.defaults, "--machine-id", e.mid, "--dropin-dir", e.dropins}, &sout, io.Discard); code != 0 {
		t.Fatal("status failed")
	}
	for _, w := range []string{"on, remote_write to https://vm.example/w", "profile:      full", "device:       abc (machine id)", "bearer token file /etc/tok", "lean drop-in: absent"} {
		if !strings.Contains(sout.String(), w) {
			t.Fatalf("status lacks %q:\n%s", w, sout.String())
		}
	}

	// Disable without systemd: file updated, restart skipped with a note.
	nosd := &fakeSystem{}
	code, out, _ = e.run(t, nosd.system(), "disable")
	if code != 0 || !strings.Contains(out, "systemd is not running") || len(nosd.calls) != 0 {
		t.Fatalf("disable: %d %q %q", code, out, nosd.calls)
	}
	s, _ = LoadSettings(e.defaults)
	if s.URL != "" || s.Profile != ProfileFull {
		t.Fatalf("settings after disable: %+v", s)
	}
}

func TestFleetEnableRejectsInvalidAndLeavesFile(t *testing.T) {
	e := newFleetEnv(t)
	before, _ := os.ReadFile(e.defaults)
	fs := &fakeSystem{booted: true}
	for _, args := range [][]string{
		{"enable", "https://c/w", "--username", "u"},
		{"enable", "not a url"},
		{"enable", "https://c/w", "--profile", "tiny"},
		{"enable"},
	} {
		code, _, errs := e.run(t, fs.system(), args...)
		if code == 0 {
			t.Fatalf("%q succeeded", args)
		}
		if after, _ := os.ReadFile(e.defaults); !bytes.Equal(before, after) {
			t.Fatalf("%q changed the file", args)
		}
		t.Logf("%q: %s", args, strings.TrimSpace(errs))
	}
	// A prometheus.yml the renderer rejects also blocks the change.
	if err := os.WriteFile(e.cfg, []byte("global: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run(t, fs.system(), "enable", "https://c/w"); code == 0 || !strings.Contains(errs, e.cfg) {
		t.Fatalf("bad prometheus.yml accepted: %d %s", code, errs)
	}
	if len(fs.calls) != 0 {
		t.Fatalf("systemctl called after failures: %q", fs.calls)
	}
}

func TestPrometheusExec(t *testing.T) {
	e := newFleetEnv(t)
	out := filepath.Join(e.dir, "run", "prometheus.yml")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid, "--config.out", out, "--prometheus", "/bin/prom"}

	// A bad defaults file stops the start with file:line:key.
	if err := os.WriteFile(e.defaults, []byte("EDGE_SITE=a\nEDGE_PROFIL=lean\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	defer func(f func(string, []string, []string) error) { execFunc = f }(execFunc)
	execFunc = func(string, []string, []string) error { t.Fatal("exec after a render error"); return nil }
	if code := PrometheusExecCmd(append(base, "--", "--web.listen-address=:9090"), io.Discard, &errb); code == 0 {
		t.Fatal("exit 0 on a bad defaults file")
	}
	if want := e.defaults + ":2: EDGE_PROFIL: unknown key"; !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr %q lacks %q", errb.String(), want)
	}

	// Lean: renders, then execs Prometheus in agent mode.
	if err := os.WriteFile(e.defaults, []byte("EDGE_REMOTE_WRITE_URL=http://c/w\nEDGE_PROFILE=lean\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var gotPath string
	var gotArgv []string
	execFunc = func(p string, argv []string, _ []string) error {
		gotPath, gotArgv = p, argv
		return syscall.ENOENT
	}
	errb.Reset()
	code := PrometheusExecCmd(append(base, "--", "--storage.tsdb.path=/x", "--web.listen-address=:9090"), io.Discard, &errb)
	if code == 0 || !strings.Contains(errb.String(), "exec /bin/prom") {
		t.Fatalf("failed exec not reported: %d %q", code, errb.String())
	}
	want := []string{"/bin/prom", "--config.file=" + out, "--web.listen-address=:9090", "--enable-feature=agent",
		"--storage.agent.path=" + AgentPath}
	if gotPath != "/bin/prom" || !reflect.DeepEqual(gotArgv, want) {
		t.Fatalf("exec %s %q, want %q", gotPath, gotArgv, want)
	}
	rendered, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(rendered), "url: http://c/w") {
		t.Fatalf("rendered config: %v\n%s", err, rendered)
	}
}

func TestPrometheusConfigCmdStdout(t *testing.T) {
	e := newFleetEnv(t)
	var out, errb bytes.Buffer
	code := PrometheusConfigCmd([]string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid}, &out, &errb)
	if code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "device: abc") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestFleetEnableCreatesMissingDefaults(t *testing.T) {
	e := newFleetEnv(t)
	if err := os.Remove(e.defaults); err != nil {
		t.Fatal(err)
	}
	fs := &fakeSystem{}
	if code, out, errs := e.run(t, fs.system(), "enable", "http://c:9090/api/v1/write", "--role", "gw"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	fi, err := os.Stat(e.defaults)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("created file: %v %v", fi, err)
	}
	s, err := LoadSettings(e.defaults)
	if err != nil || s.URL != "http://c:9090/api/v1/write" || s.Role != "gw" {
		t.Fatalf("%+v %v", s, err)
	}
}
