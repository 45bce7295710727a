package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestAlertmanagerExec(t *testing.T) {
	e := newAlertsEnv(t)
	out := filepath.Join(e.dir, "run", "alertmanager.yml")
	if err := os.Mkdir(filepath.Dir(out), 0o700); err != nil {
		t.Fatal(err)
	}
	base := []string{"--config.in", e.amCfg, "--defaults", e.defaults, "--config.out", out, "--alertmanager", "/bin/am"}
	defer func(f func(string, []string, []string) error) { execFunc = f }(execFunc)
	execFunc = func(string, []string, []string) error { t.Fatal("exec while alerting is off"); return nil }

	// Off: ExecCondition= skips the start (exit 1), and says why.
	var stdout bytes.Buffer
	if code := runAlertmanagerExec(append(base, "--condition"), &stdout, io.Discard); code != 1 || !strings.Contains(stdout.String(), "local alerting is off") {
		t.Fatalf("--condition with alerting off: %d %q", code, stdout.String())
	}

	// On, with the token in systemd's credentials directory (not readable at the settings' path).
	settingsOn := "EDGE_ALERTS=on\nEDGE_ALERTS_LISTEN=127.0.0.1:19093\nEDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=/root/absent.token\nEDGE_ALERT_TELEGRAM_CHAT_ID=42\n" +
		"EDGE_ALERT_EMAIL_TO=ops@example.org\nEDGE_ALERT_SMTP_SMARTHOST=mail:25\nEDGE_ALERT_SMTP_FROM=d@example.org\n" +
		"EDGE_ALERT_SMTP_AUTH_USERNAME=u\nEDGE_ALERT_SMTP_AUTH_PASSWORD_FILE=/root/absent.pw\n"
	if err := os.WriteFile(e.defaults, []byte(settingsOn), 0o640); err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "telegram-bot-token"), []byte("123:fromcreds\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	// A password file as `echo pw >file` writes it: Alertmanager 0.25 would send the newline.
	if err := os.WriteFile(filepath.Join(creds, "smtp-auth-password"), []byte("pw\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	if code := runAlertmanagerExec(append(base, "--condition"), io.Discard, io.Discard); code != 0 {
		t.Fatalf("--condition with alerting on: %d", code)
	}
	var gotArgv []string
	execFunc = func(_ string, argv []string, _ []string) error { gotArgv = argv; return syscall.ENOENT }
	var errb bytes.Buffer
	if code := runAlertmanagerExec(append(base, "--", "--cluster.listen-address="), io.Discard, &errb); code == 0 || !strings.Contains(errb.String(), "exec /bin/am") {
		t.Fatalf("failed exec not reported: %d %s", code, errb.String())
	}
	want := []string{"/bin/am", "--config.file=" + out, "--web.listen-address=127.0.0.1:19093", "--cluster.listen-address="}
	if !reflect.DeepEqual(gotArgv, want) {
		t.Fatalf("exec %q, want %q", gotArgv, want)
	}
	fi, err := os.Stat(out)
	rendered, _ := os.ReadFile(out)
	copied := filepath.Join(filepath.Dir(out), "smtp-auth-password")
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(string(rendered), "bot_token: 123:fromcreds") ||
		!strings.Contains(string(rendered), "auth_password_file: "+copied) {
		t.Fatalf("rendered config (%v, %v):\n%s", fi.Mode(), err, rendered)
	}
	if pw, err := os.ReadFile(copied); err != nil || string(pw) != "pw" {
		t.Fatalf("password handed to Alertmanager: %q %v, want it without its newline", pw, err)
	}

	// A reload gets no credentials (systemd 257 with a mount namespace): it
	// renders again from the copies the start made, and names what it lacks.
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	reload := []string{"--config.in", e.amCfg, "--defaults", e.defaults, "--config.out", out, "--secrets.dir", filepath.Dir(out)}
	os.Remove(out)
	if code := runAlertmanagerConfig(reload, io.Discard, &errb); code != 0 {
		t.Fatalf("reload from the copies: %d %s", code, errb.String())
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, rendered) {
		t.Fatalf("reload rendered\n%s\nwant\n%s", again, rendered)
	}
	os.Remove(copied)
	errb.Reset()
	if code := runAlertmanagerConfig(reload, io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "secret smtp-auth-password") ||
		!strings.Contains(errb.String(), "needs a restart") {
		t.Fatalf("reload without the copy: %d %s", code, errb.String())
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)

	// Alertmanager's listen address and config file are the settings'.
	errb.Reset()
	if code := runAlertmanagerExec(append(base, "--", "--web.listen-address=:9093"), io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "EDGE_ALERTS_LISTEN") {
		t.Fatalf("--web.listen-address accepted: %d %s", code, errb.String())
	}
	// A secret that cannot be read stops the start with its name.
	os.Remove(filepath.Join(creds, "telegram-bot-token"))
	errb.Reset()
	if code := runAlertmanagerExec(base, io.Discard, &errb); code == 0 || !strings.Contains(errb.String(), "secret telegram-bot-token") {
		t.Fatalf("missing credential: %d %s", code, errb.String())
	}
}
