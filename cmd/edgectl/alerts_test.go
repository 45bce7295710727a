package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/alerts"
	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

type noJournal struct{}

func (noJournal) Since(string, time.Time) (string, error) { return "", os.ErrNotExist }

type alertsEnv struct {
	fleetEnv
	amCfg, dropins, pw, token string
}

// newAlertsEnv: the shipped settings and alertmanager.yml, and two secret
// files of mode 0600. amtool is /bin/true unless a test says otherwise:
// the real one checks the configuration in the integration tests.
func newAlertsEnv(t *testing.T) alertsEnv {
	t.Helper()
	e := alertsEnv{fleetEnv: newFleetEnv(t)}
	e.amCfg = filepath.Join(e.dir, "alertmanager.yml")
	e.dropins = filepath.Join(e.dir, "alertmanager.service.d")
	e.pw, e.token = filepath.Join(e.dir, "smtp.pw"), filepath.Join(e.dir, "tg.token")
	shipped, err := os.ReadFile("../../etc/alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{e.amCfg: string(shipped), e.pw: "s3cret\n", e.token: "123:abc\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e alertsEnv) run(t *testing.T, sys apply.ServiceManager, args ...string) (int, string, string) {
	t.Helper()
	args = append(args, "--defaults", e.defaults, "--config.in", e.cfg, "--machine-id", e.mid,
		"--alertmanager.config.in", e.amCfg)
	if args[0] == "enable" || args[0] == "disable" {
		args = append(args, "--dropin-dir", e.dropins, "--alertmanager", "/bin/true")
		if !strings.Contains(strings.Join(args, " "), "--amtool") {
			args = append(args, "--amtool", "/bin/true")
		}
	}
	var out, errb bytes.Buffer
	code := alertsCommand(args, &out, &errb, sys, noJournal{})
	return code, out.String(), errb.String()
}

func TestAlertsEnableDisable(t *testing.T) {
	e := newAlertsEnv(t)
	fs := &fakeSystem{booted: true}
	code, out, errs := e.run(t, fs, "enable", "--webhook", "https://hooks.example/edge",
		"--email", "ops@example.org", "--smtp", "mail.example.org:587", "--smtp-from", "pump@example.org",
		"--smtp-auth-username", "pump", "--smtp-auth-password-file", e.pw,
		"--telegram-bot-token-file", e.token, "--telegram-chat-id", "-100123", "--group-wait", "10s")
	if code != 0 {
		t.Fatalf("enable: %d %s %s", code, out, errs)
	}
	s, err := settings.Load(e.defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Receivers{WebhookURL: "https://hooks.example/edge", EmailTo: "ops@example.org",
		SMTPSmarthost: "mail.example.org:587", SMTPFrom: "pump@example.org", SMTPAuthUsername: "pump",
		SMTPAuthPasswordFile: e.pw, SMTPRequireTLS: true, TelegramBotTokenFile: e.token, TelegramChatID: -100123}
	if !s.Alerting.Local || s.Alerting.Receivers != want || s.Alerting.GroupWait != "10s" {
		t.Fatalf("settings after enable: %+v", s.Alerting)
	}
	dropIn, err := os.ReadFile(filepath.Join(e.dropins, alerts.SecretsDropInName))
	if err != nil || !strings.Contains(string(dropIn), "LoadCredential=smtp-auth-password:"+e.pw+"\n") ||
		!strings.Contains(string(dropIn), "LoadCredential=telegram-bot-token:"+e.token+"\n") {
		t.Fatalf("secrets drop-in: %v\n%s", err, dropIn)
	}
	wantCalls := []string{"systemctl daemon-reload", "systemctl enable --quiet prometheus-alertmanager.service",
		"systemctl restart prometheus-alertmanager.service", "systemctl try-reload-or-restart prometheus.service"}
	if !reflect.DeepEqual(fs.calls, wantCalls) {
		t.Fatalf("calls %q, want %q", fs.calls, wantCalls)
	}
	for _, w := range []string{"webhook https://hooks.example/edge", "email to ops@example.org via mail.example.org:587", "telegram chat -100123"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Prometheus's configuration now sends to the local Alertmanager.
	prom, err := promconfig.RenderFile(e.cfg, s, e.mid)
	if err != nil || !strings.Contains(string(prom), "127.0.0.1:9093") {
		t.Fatalf("rendered prometheus.yml: %v\n%s", err, prom)
	}

	// The receivers given replace the previous ones; no secret left, no drop-in.
	fs.calls = nil
	if code, out, errs := e.run(t, fs, "enable", "--webhook", "http://10.0.0.2:9000/hook"); code != 0 {
		t.Fatalf("re-enable: %d %s %s", code, out, errs)
	}
	s, _ = settings.Load(e.defaults)
	if s.Alerting.Receivers != (settings.Receivers{WebhookURL: "http://10.0.0.2:9000/hook", SMTPRequireTLS: true}) || s.Alerting.GroupWait != "10s" {
		t.Fatalf("settings after re-enable: %+v", s.Alerting)
	}
	if apply.Exists(filepath.Join(e.dropins, alerts.SecretsDropInName)) {
		t.Fatal("secrets drop-in kept without secrets")
	}
	if fs.calls[0] != "systemctl daemon-reload" {
		t.Fatalf("calls %q: the removed drop-in needs a daemon-reload", fs.calls)
	}

	// enable alone keeps the receivers; disable keeps them too.
	fs.calls = nil
	if code, out, errs := e.run(t, fs, "enable"); code != 0 || len(fs.calls) != 3 {
		t.Fatalf("enable without receivers: %d %s %s %q", code, out, errs, fs.calls)
	}
	fs.calls = nil
	if code, out, errs := e.run(t, fs, "disable"); code != 0 {
		t.Fatalf("disable: %d %s %s", code, out, errs)
	}
	s, _ = settings.Load(e.defaults)
	if s.Alerting.Local || s.Alerting.WebhookURL != "http://10.0.0.2:9000/hook" {
		t.Fatalf("settings after disable: %+v", s.Alerting)
	}
	if want := []string{"systemctl stop prometheus-alertmanager.service", "systemctl try-reload-or-restart prometheus.service"}; !reflect.DeepEqual(fs.calls, want) {
		t.Fatalf("calls %q, want %q", fs.calls, want)
	}
}

func TestAlertsEnableRejectsBadInput(t *testing.T) {
	e := newAlertsEnv(t)
	loose := filepath.Join(e.dir, "loose.pw")
	if err := os.WriteFile(loose, []byte("pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(e.defaults)
	fs := &fakeSystem{booted: true}
	smtp := []string{"--smtp", "mail.example.org:587", "--smtp-from", "pump@example.org"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--webhook", "hooks.example/x"}, "EDGE_ALERT_WEBHOOK_URL: URL must be http"},
		{append([]string{"--email", "ops@"}, smtp...), "invalid e-mail address list"},
		{[]string{"--email", "ops@example.org"}, "needs EDGE_ALERT_SMTP_SMARTHOST"},
		{append([]string{"--email", "ops@example.org", "--smtp-auth-username", "u", "--smtp-auth-password-file", e.pw + ".missing"}, smtp...), "does not exist"},
		{append([]string{"--email", "ops@example.org", "--smtp-auth-username", "u", "--smtp-auth-password-file", loose}, smtp...), "has mode 0644"},
		{[]string{"--telegram-bot-token-file", e.token}, "needs EDGE_ALERT_TELEGRAM_CHAT_ID"},
		{[]string{"--telegram-bot-token-file", e.token, "--telegram-chat-id", "@ops"}, "numeric id"},
		{nil, "no receiver"},
		{[]string{"--webhook", "http://h/", "--amtool", "/bin/false"}, "amtool check-config refused it"},
		{[]string{"--webhook", "http://h/", "--group-wait", "soon"}, "EDGE_ALERT_GROUP_WAIT"},
		{[]string{"--smtp", "mail:25"}, "belong to --email"},
	} {
		code, _, errs := e.run(t, fs, append([]string{"enable"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want it to contain %q", c.args, code, errs, c.want)
		}
		if after, _ := os.ReadFile(e.defaults); !bytes.Equal(before, after) {
			t.Fatalf("%q changed the settings", c.args)
		}
	}
	if len(fs.calls) != 0 || apply.Exists(e.dropins) {
		t.Fatalf("systemctl called or drop-in written after failures: %q", fs.calls)
	}
	// Alertmanager not installed.
	var errb bytes.Buffer
	code := alertsCommand([]string{"enable", "--webhook", "http://h/", "--defaults", e.defaults, "--config.in", e.cfg,
		"--machine-id", e.mid, "--alertmanager.config.in", e.amCfg, "--alertmanager", "/nonexistent/alertmanager"}, &bytes.Buffer{}, &errb, fs, noJournal{})
	if code == 0 || !strings.Contains(errb.String(), "apt install prometheus-alertmanager") {
		t.Fatalf("without Alertmanager: %d %s", code, errb.String())
	}
}
