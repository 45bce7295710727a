package amconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/golden"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// input renders with secrets in a credentials directory /run/creds and the
// Telegram token "123:tok".
func input(name string, cfg []byte, a settings.Alerting) RenderInput {
	return RenderInput{ConfigName: name, Config: cfg, Alerting: a,
		SecretPath: func(n string) string { return "/run/creds/" + n },
		ReadSecret: func(n string) (string, error) {
			if n != SecretTelegramToken {
				return "", errors.New("unexpected secret " + n)
			}
			return "123:tok", nil
		}}
}

func TestRenderGolden(t *testing.T) {
	for _, c := range []struct{ golden, config, env string }{
		{"shipped-all", "../../etc/alertmanager/alertmanager.yml", "testdata/all.env"},
		{"shipped-none", "../../etc/alertmanager/alertmanager.yml", "testdata/none.env"},
		{"empty-all", "/dev/null", "testdata/all.env"},
	} {
		t.Run(c.golden, func(t *testing.T) {
			cfg, err := os.ReadFile(c.config)
			if err != nil {
				t.Fatal(err)
			}
			s, err := settings.Load(c.env)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Render(input(filepath.Base(c.config), cfg, s.Alerting))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, c.golden+".golden.yml", string(got))
		})
	}
}

func renderMap(t *testing.T, cfg string, a settings.Alerting) map[string]any {
	t.Helper()
	out, err := Render(input("am.yml", []byte(cfg), a))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

func TestRenderKeepsTheUsersChoices(t *testing.T) {
	a := settings.Defaults().Alerting
	a.WebhookURL = "http://hook/"
	user := `route:
  receiver: mine
  group_wait: 1m
  routes: [{receiver: edge-notify, matchers: ['severity="critical"']}]
receivers:
  - name: mine
    webhook_configs: [{url: 'http://mine/'}]
  - name: edge-notify # stale, replaced
    email_configs: [{to: a@b.c}]
`
	m := renderMap(t, user, a)
	route := m["route"].(map[string]any)
	if route["receiver"] != "mine" || route["group_wait"] != "1m" || route["group_interval"] != "5m" || route["repeat_interval"] != "24h" {
		t.Fatalf("route %v: want the user's receiver and group_wait, the settings' other timing", route)
	}
	routes := route["routes"].([]any)
	if len(routes) != 2 || routes[0].(map[string]any)["matchers"].([]any)[0] != `alertname="EdgeAlertTest"` ||
		routes[1].(map[string]any)["receiver"] != "edge-notify" {
		t.Fatalf("routes %v: want the test alert's route first, then the user's", routes)
	}
	rs := m["receivers"].([]any)
	want := []any{
		map[string]any{"name": "mine", "webhook_configs": []any{map[string]any{"url": "http://mine/"}}},
		map[string]any{"name": "edge-notify", "webhook_configs": []any{map[string]any{"url": "http://hook/", "send_resolved": true}}},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("receivers\n%v\nwant\n%v", rs, want)
	}
}

func TestRenderErrors(t *testing.T) {
	a := settings.Defaults().Alerting
	for _, c := range []struct{ cfg, want string }{
		{"route: [1]\n", "am.yml:1: route must be a mapping"},
		{"receivers: {a: 1}\n", "am.yml:1: receivers must be a list"},
		{"- a\n", "am.yml:1: top level must be a mapping"},
		{"a: [\n", "am.yml: yaml:"},
	} {
		_, err := Render(input("am.yml", []byte(c.cfg), a))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want prefix %q", c.cfg, err, c.want)
		}
	}
	a.TelegramBotTokenFile, a.TelegramChatID = "/tok", 1
	in := input("am.yml", nil, a)
	in.ReadSecret = func(string) (string, error) { return "", errors.New("/tok: permission denied") }
	if _, err := Render(in); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("unreadable token: %v", err)
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ content, want, err string }{
		{"123:abc\n", "123:abc", ""},
		{"  123:abc  \n\n", "123:abc", ""},
		{"\n", "", "want the secret alone on one line"},
		{"123 abc\n", "", "want the secret alone on one line"},
	} {
		p := filepath.Join(dir, "tok")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadToken(p)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: %q %v, want %q %q", c.content, got, err, c.want, c.err)
		}
	}
}

func TestCredentialsDropIn(t *testing.T) {
	if CredentialsDropIn(nil) != nil {
		t.Fatal("a drop-in without secrets")
	}
	r := settings.Receivers{SMTPAuthPasswordFile: "/root/smtp%.pw", TelegramBotTokenFile: "/root/tg"}
	got := string(CredentialsDropIn(Secrets(r)))
	want := "[Service]\nLoadCredential=smtp-auth-password:/root/smtp%%.pw\nLoadCredential=telegram-bot-token:/root/tg\n"
	if !strings.HasSuffix(got, want) {
		t.Fatalf("drop-in:\n%s\nwant it to end with\n%s", got, want)
	}
}
