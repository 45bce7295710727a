package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrorsNameFileLineKey(t *testing.T) {
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
		{"alerts yes", "EDGE_ALERTS=yes\n", "f.env:1: EDGE_ALERTS: want on or off"},
		{"listen on the LAN", "EDGE_ALERTS_LISTEN=0.0.0.0:9093\n", `f.env:1: EDGE_ALERTS_LISTEN: "0.0.0.0" is not a loopback address`},
		{"listen without port", "EDGE_ALERTS_LISTEN=127.0.0.1\n", "f.env:1: EDGE_ALERTS_LISTEN: want a loopback address"},
		{"webhook not http", "EDGE_ALERT_WEBHOOK_URL=hooks.example/x\n", "f.env:1: EDGE_ALERT_WEBHOOK_URL: URL must be http"},
		{"bad address", "EDGE_ALERT_EMAIL_TO=ops@\n", "f.env:1: EDGE_ALERT_EMAIL_TO: invalid e-mail address list"},
		{"named address", "EDGE_ALERT_EMAIL_TO='Ops <ops@x.org>'\n", "f.env:1: EDGE_ALERT_EMAIL_TO: want plain addresses"},
		{"email without smtp", "EDGE_ALERT_EMAIL_TO=ops@x.org\n", "f.env:1: EDGE_ALERT_EMAIL_TO: needs EDGE_ALERT_SMTP_SMARTHOST and EDGE_ALERT_SMTP_FROM"},
		{"smarthost without port", "EDGE_ALERT_SMTP_SMARTHOST=mail.x.org\n", "f.env:1: EDGE_ALERT_SMTP_SMARTHOST: want HOST:PORT"},
		{"smtp user without password", "EDGE_ALERT_SMTP_AUTH_USERNAME=u\n", "f.env:1: EDGE_ALERT_SMTP_AUTH_USERNAME: needs EDGE_ALERT_SMTP_AUTH_PASSWORD_FILE"},
		{"relative secret", "EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=tok\n", "f.env:1: EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE: must be an absolute path"},
		{"token without chat", "EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=/tok\n", "f.env:1: EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE: needs EDGE_ALERT_TELEGRAM_CHAT_ID"},
		{"chat id name", "EDGE_ALERT_TELEGRAM_CHAT_ID=@ops\n", "f.env:1: EDGE_ALERT_TELEGRAM_CHAT_ID: want the chat's numeric id"},
		{"bad duration", "EDGE_ALERT_GROUP_WAIT=soon\n", "f.env:1: EDGE_ALERT_GROUP_WAIT: want a positive duration"},
		{"repeat past retention", "EDGE_ALERT_REPEAT_INTERVAL=6d\n", "f.env:1: EDGE_ALERT_REPEAT_INTERVAL: must not exceed 120h"},
		{"central without scheme", "EDGE_ALERTMANAGER_URL=am.example:9093\n", "f.env:1: EDGE_ALERTMANAGER_URL: URL must be http"},
		{"lean with local alerts", "EDGE_REMOTE_WRITE_URL=http://c/w\nEDGE_PROFILE=lean\nEDGE_ALERTS=on\n", "f.env:3: EDGE_ALERTS: profile lean runs Prometheus in agent mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("f.env", []byte(c.in))
			if err == nil {
				t.Fatalf("no error, got %+v", s)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %q, want prefix %q", err, c.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
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
	s, err := Parse("f", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		URL: "https://mimir.example/api/v1/push", Username: "dev 1", PasswordFile: "/etc/pw file",
		InsecureSkipVerify: true, Headers: []KV{{"X-Scope-OrgID", "t1"}, {"X-Other", "v"}},
		Site: "plant-a", Profile: ProfileLean, Alerting: Defaults().Alerting,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
}

func TestParseAlerting(t *testing.T) {
	in := `EDGE_ALERTS=on
EDGE_ALERTS_LISTEN=[::1]:19093
EDGE_ALERT_WEBHOOK_URL=https://user:tok@hooks.example/edge?x=1
EDGE_ALERT_EMAIL_TO="ops@x.org, oncall@x.org"
EDGE_ALERT_SMTP_SMARTHOST=mail.x.org:587
EDGE_ALERT_SMTP_FROM=pump-17@x.org
EDGE_ALERT_SMTP_AUTH_USERNAME=pump-17
EDGE_ALERT_SMTP_AUTH_PASSWORD_FILE=/etc/edge-observability/smtp.pw
EDGE_ALERT_SMTP_REQUIRE_TLS=false
EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=/root/tg.token
EDGE_ALERT_TELEGRAM_CHAT_ID=-1001234
EDGE_ALERT_GROUP_WAIT=10s
EDGE_ALERT_REPEAT_INTERVAL=12h
EDGE_ALERTMANAGER_URL=https://am.example/prefix
EDGE_ALERTMANAGER_USERNAME=pump-17
EDGE_ALERTMANAGER_PASSWORD_FILE=/etc/am.pw
EDGE_ALERTMANAGER_CA_FILE=/etc/ca.pem
`
	s, err := Parse("f", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Alerting{Local: true, Listen: "[::1]:19093", Receivers: Receivers{
		WebhookURL: "https://user:tok@hooks.example/edge?x=1", EmailTo: "ops@x.org, oncall@x.org",
		SMTPSmarthost: "mail.x.org:587", SMTPFrom: "pump-17@x.org", SMTPAuthUsername: "pump-17",
		SMTPAuthPasswordFile: "/etc/edge-observability/smtp.pw", TelegramBotTokenFile: "/root/tg.token", TelegramChatID: -1001234},
		GroupWait: "10s", GroupInterval: DefaultGroupInterval, RepeatInterval: "12h",
		Central: Central{URL: "https://am.example/prefix", Username: "pump-17", PasswordFile: "/etc/am.pw", CAFile: "/etc/ca.pem"}}
	if !reflect.DeepEqual(s.Alerting, want) {
		t.Fatalf("got  %+v\nwant %+v", s.Alerting, want)
	}
	if !s.Alerting.Any() || (Receivers{}).Any() {
		t.Fatal("Any")
	}
}

func TestShippedDefaultsFileIsFleetOff(t *testing.T) {
	s, err := Load("../../etc/default/edge-observability")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, Defaults()) || s.Profile != ProfileFull || s.URL != "" || s.Alerting.Local {
		t.Fatalf("shipped defaults: %+v, want fleet and alerting off, profile full", s)
	}
}

func TestLoadMissingFileIsFleetOff(t *testing.T) {
	s, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err != nil || s.URL != "" || s.Profile != ProfileFull {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestEditKeepsComments(t *testing.T) {
	in := "# head\nEDGE_REMOTE_WRITE_URL=\n\n# site\nEDGE_SITE=a\nEDGE_SITE=dup\nEDGE_ROLE=r"
	got := string(Edit([]byte(in), map[string]string{
		KeyURL: "http://c/w", KeySite: "b c", KeyProfile: "lean", KeyDeviceID: "",
	}))
	want := "# head\nEDGE_REMOTE_WRITE_URL=http://c/w\n\n# site\nEDGE_SITE='b c'\nEDGE_ROLE=r\nEDGE_DEVICE_ID=\nEDGE_PROFILE=lean\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse("x", []byte(got)); err != nil {
		t.Fatal(err)
	}
}

// The device is EDGE_DEVICE_ID, else the machine id, trimmed.
func TestDevice(t *testing.T) {
	mid := filepath.Join(t.TempDir(), "machine-id")
	if err := os.WriteFile(mid, []byte("abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, fromMID, err := (&Settings{}).Device(mid); id != "abc" || !fromMID || err != nil {
		t.Fatalf("from machine id: %q %v %v", id, fromMID, err)
	}
	if id, fromMID, err := (&Settings{DeviceID: "dev-9"}).Device(mid); id != "dev-9" || fromMID || err != nil {
		t.Fatalf("EDGE_DEVICE_ID: %q %v %v", id, fromMID, err)
	}
	if _, _, err := (&Settings{}).Device(mid + ".missing"); err == nil || !strings.Contains(err.Error(), "no EDGE_DEVICE_ID and cannot read machine id") {
		t.Fatalf("missing machine id: %v", err)
	}
	if err := os.WriteFile(mid, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&Settings{}).Device(mid); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty machine id: %v", err)
	}
}
