package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/fleet"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// fakeSystem records systemctl calls.
type fakeSystem struct {
	booted bool
	calls  []string
}

func (f *fakeSystem) Booted() bool { return f.booted }

func (f *fakeSystem) Systemctl(_, _ io.Writer, args ...string) error {
	f.calls = append(f.calls, "systemctl "+strings.Join(args, " "))
	return nil
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

func (e fleetEnv) run(t *testing.T, sys apply.ServiceManager, args ...string) (int, string, string) {
	t.Helper()
	args = append(args, "--defaults", e.defaults, "--config.in", e.cfg, "--machine-id", e.mid, "--dropin-dir", e.dropins)
	var out, errb bytes.Buffer
	code := fleetCommand(args, &out, &errb, sys)
	return code, out.String(), errb.String()
}

func TestFleetEnableDisable(t *testing.T) {
	e := newFleetEnv(t)
	fs := &fakeSystem{booted: true}
	code, out, errs := e.run(t, fs, "enable", "https://mimir.example/api/v1/push",
		"--username", "dev", "--password-file", "/etc/pw", "--site", "plant-a", "--profile", "lean")
	if code != 0 {
		t.Fatalf("enable: %d %s %s", code, out, errs)
	}
	data, _ := os.ReadFile(e.defaults)
	s, err := settings.Parse(e.defaults, data)
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "https://mimir.example/api/v1/push" || s.Username != "dev" || s.PasswordFile != "/etc/pw" ||
		s.Site != "plant-a" || s.Profile != settings.ProfileLean {
		t.Fatalf("settings after enable: %+v", s)
	}
	if !strings.Contains(string(data), "# Central engine accepting Prometheus remote write") {
		t.Fatal("comments lost")
	}
	if fi, _ := os.Stat(e.defaults); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
	}
	if b, err := os.ReadFile(filepath.Join(e.dropins, fleet.LeanDropInName)); err != nil || !strings.Contains(string(b), "MemoryMax=104M") || strings.Contains(string(b), "\nMemoryHigh=") {
		t.Fatalf("lean drop-in: %q %v (want MemoryMax=104M and no MemoryHigh, which would throttle the whole slice)", b, err)
	}
	if want := []string{"systemctl daemon-reload", "systemctl try-restart prometheus.service"}; !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls %q, want %q", fs.calls, want)
	}

	// Switching auth to a bearer token clears basic auth.
	fs.calls = nil
	if code, out, errs := e.run(t, fs, "enable", "https://vm.example/w", "--bearer-token-file", "/etc/tok", "--profile", "full"); code != 0 {
		t.Fatalf("re-enable: %d %s %s", code, out, errs)
	}
	s, _ = settings.Load(e.defaults)
	if s.Username != "" || s.PasswordFile != "" || s.BearerTokenFile != "/etc/tok" || s.Site != "plant-a" || s.Profile != settings.ProfileFull {
		t.Fatalf("settings after re-enable: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(e.dropins, fleet.LeanDropInName)); !os.IsNotExist(err) {
		t.Fatalf("lean drop-in not removed for profile full: %v", err)
	}
	if want := []string{"systemctl daemon-reload", "systemctl try-restart prometheus.service"}; !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls %q, want %q", fs.calls, want)
	}

	// Status reports what is configured.
	var sout bytes.Buffer
	if code := runFleet([]string{"status", "--defaults", e.defaults, "--machine-id", e.mid, "--dropin-dir", e.dropins}, &sout, io.Discard); code != 0 {
		t.Fatal("status failed")
	}
	for _, w := range []string{"on, remote_write to https://vm.example/w", "profile:      full", "device:       abc (machine id)", "bearer token file /etc/tok", "lean drop-in: absent"} {
		if !strings.Contains(sout.String(), w) {
			t.Fatalf("status lacks %q:\n%s", w, sout.String())
		}
	}

	// A central Alertmanager without changing remote write; disable clears both.
	if code, out, errs := e.run(t, fs, "enable", "--alertmanager", "https://am.example:9093/fleet", "--alertmanager-username", "pump",
		"--alertmanager-password-file", "/etc/am.pw", "--alertmanager-ca-file", "/etc/ca.pem"); code != 0 || !strings.Contains(out, "central Alertmanager https://am.example:9093/fleet") {
		t.Fatalf("enable --alertmanager: %d %s %s", code, out, errs)
	}
	s, _ = settings.Load(e.defaults)
	if s.URL != "https://vm.example/w" || s.Alerting.Central != (settings.Central{URL: "https://am.example:9093/fleet", Username: "pump", PasswordFile: "/etc/am.pw", CAFile: "/etc/ca.pem"}) {
		t.Fatalf("settings after enable --alertmanager: %+v %+v", s, s.Alerting.Central)
	}

	// Disable without systemd: file updated, restart skipped with a note.
	nosd := &fakeSystem{}
	code, out, _ = e.run(t, nosd, "disable")
	if code != 0 || !strings.Contains(out, "systemd is not running") || len(nosd.calls) != 0 {
		t.Fatalf("disable: %d %q %q", code, out, nosd.calls)
	}
	s, _ = settings.Load(e.defaults)
	if s.URL != "" || s.Profile != settings.ProfileFull || s.Alerting.Central != (settings.Central{}) {
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
		{"enable", "--alertmanager", "am.example:9093"},
		{"enable", "--alertmanager", "https://am/", "--alertmanager-username", "u"},
		{"enable"},
	} {
		code, _, errs := e.run(t, fs, args...)
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
	if code, _, errs := e.run(t, fs, "enable", "https://c/w"); code == 0 || !strings.Contains(errs, e.cfg) {
		t.Fatalf("bad prometheus.yml accepted: %d %s", code, errs)
	}
	if len(fs.calls) != 0 {
		t.Fatalf("systemctl called after failures: %q", fs.calls)
	}
}

func TestFleetEnableCreatesMissingDefaults(t *testing.T) {
	e := newFleetEnv(t)
	if err := os.Remove(e.defaults); err != nil {
		t.Fatal(err)
	}
	fs := &fakeSystem{}
	if code, out, errs := e.run(t, fs, "enable", "http://c:9090/api/v1/write", "--role", "gw"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	fi, err := os.Stat(e.defaults)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("created file: %v %v", fi, err)
	}
	s, err := settings.Load(e.defaults)
	if err != nil || s.URL != "http://c:9090/api/v1/write" || s.Role != "gw" {
		t.Fatalf("%+v %v", s, err)
	}
}
