// Package amconfig renders the local Alertmanager's configuration: the
// user's alertmanager.yml with the receiver "edge-notify" built from the
// alert settings, and the route's timing from them where the user's file
// sets none. Everything else in the user's file is kept as written, as
// package promconfig does for prometheus.yml.
package amconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/atomicfile"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
	"github.com/edgeobs/edge-observability-stack/internal/yamledit"
)

// ReceiverName names the receiver this package owns. One of this name in
// the user's file is replaced.
const ReceiverName = "edge-notify"

// TestAlertName is the alert of "edgectl alerts test". A route of its own,
// first under the root, sends it to ReceiverName at once and alone: grouped
// by all its labels (one group per test), without the group_wait of real
// alerts, and its resolution soon after.
const TestAlertName = "EdgeAlertTest"

type testRoute struct {
	Matchers       []string `yaml:"matchers,flow"`
	Receiver       string   `yaml:"receiver"`
	GroupBy        []string `yaml:"group_by,flow"`
	GroupWait      string   `yaml:"group_wait"`
	GroupInterval  string   `yaml:"group_interval"`
	RepeatInterval string   `yaml:"repeat_interval"`
}

// Names of the secrets, as systemd credentials (LoadCredential=).
const (
	SecretSMTPPassword  = "smtp-auth-password"
	SecretTelegramToken = "telegram-bot-token"
)

// Secrets maps the name of each secret the receivers use to the file the
// settings name.
func Secrets(r settings.Receivers) map[string]string {
	out := map[string]string{}
	if r.SMTPAuthPasswordFile != "" {
		out[SecretSMTPPassword] = r.SMTPAuthPasswordFile
	}
	if r.TelegramBotTokenFile != "" {
		out[SecretTelegramToken] = r.TelegramBotTokenFile
	}
	return out
}

// RenderInput gathers what Render needs.
type RenderInput struct {
	// ConfigName names the user's alertmanager.yml in errors.
	ConfigName string
	Config     []byte
	Alerting   settings.Alerting
	// SecretPath is where Alertmanager reads the secret of that name: the
	// settings' file, or its copy in systemd's credentials directory.
	SecretPath func(name string) string
	// ReadSecret reads a secret that must be written into the
	// configuration itself: Alertmanager 0.25 (Debian 12) has no
	// bot_token_file for Telegram (it came in 0.26). The rendered file is
	// then readable by Alertmanager's user alone, on a tmpfs.
	ReadSecret func(name string) (string, error)
}

// Render merges the alert settings into the user's Alertmanager
// configuration.
func Render(in RenderInput) ([]byte, error) {
	doc, root, err := yamledit.Parse(in.ConfigName, in.Config)
	if err != nil {
		return nil, err
	}
	if err := setRoute(in.ConfigName, root, in.Alerting); err != nil {
		return nil, err
	}
	r, err := receiver(in)
	if err != nil {
		return nil, err
	}
	list, err := yamledit.Sequence(in.ConfigName, root, "receivers")
	if err != nil {
		return nil, err
	}
	yamledit.DropNamed(list, ReceiverName)
	if err := yamledit.Append(list, r); err != nil {
		return nil, err
	}
	return yamledit.Encode("Rendered by edgectl from "+in.ConfigName+" and the alert settings; edit those, not this file.", doc)
}

// setRoute makes sure there is a root route, sending to edge-notify unless
// the user chose a receiver, with the settings' timing where the user's
// file sets none.
func setRoute(name string, root *yaml.Node, a settings.Alerting) error {
	route, err := yamledit.Mapping(name, root, "route")
	if err != nil {
		return err
	}
	add := func(key string, v *yaml.Node) {
		if yamledit.Lookup(route, key) == nil {
			route.Content = append(route.Content, yamledit.Scalar(key), v)
		}
	}
	add("receiver", yamledit.Scalar(ReceiverName))
	add("group_by", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle,
		Content: []*yaml.Node{yamledit.Scalar("alertname"), yamledit.Scalar("device")}})
	add("group_wait", yamledit.Scalar(a.GroupWait))
	add("group_interval", yamledit.Scalar(a.GroupInterval))
	add("repeat_interval", yamledit.Scalar(a.RepeatInterval))
	routes, err := yamledit.Sequence(name, route, "routes")
	if err != nil {
		return err
	}
	rest := routes.Content
	routes.Content = nil
	if err := yamledit.Append(routes, testRoute{Matchers: []string{`alertname="` + TestAlertName + `"`}, Receiver: ReceiverName,
		GroupBy: []string{"..."}, GroupWait: "0s", GroupInterval: "10s", RepeatInterval: "1h"}); err != nil {
		return err
	}
	routes.Content = append(routes.Content, rest...)
	return nil
}

type webhookConfig struct {
	SendResolved bool   `yaml:"send_resolved"`
	URL          string `yaml:"url"`
}

type emailConfig struct {
	SendResolved     bool   `yaml:"send_resolved"`
	To               string `yaml:"to"`
	From             string `yaml:"from"`
	Smarthost        string `yaml:"smarthost"`
	AuthUsername     string `yaml:"auth_username,omitempty"`
	AuthPasswordFile string `yaml:"auth_password_file,omitempty"`
	RequireTLS       bool   `yaml:"require_tls"`
}

type telegramConfig struct {
	SendResolved bool   `yaml:"send_resolved"`
	BotToken     string `yaml:"bot_token"`
	ChatID       int64  `yaml:"chat_id"`
}

type receiverConfig struct {
	Name            string           `yaml:"name"`
	WebhookConfigs  []webhookConfig  `yaml:"webhook_configs,omitempty"`
	EmailConfigs    []emailConfig    `yaml:"email_configs,omitempty"`
	TelegramConfigs []telegramConfig `yaml:"telegram_configs,omitempty"`
}

// receiver is edge-notify from the settings; every integration also sends
// a notification when its alerts resolve: on an unattended device the
// person who got "firing" needs to know when to stop worrying.
func receiver(in RenderInput) (receiverConfig, error) {
	r := in.Alerting.Receivers
	out := receiverConfig{Name: ReceiverName}
	if r.WebhookURL != "" {
		out.WebhookConfigs = []webhookConfig{{SendResolved: true, URL: r.WebhookURL}}
	}
	if r.EmailTo != "" {
		e := emailConfig{SendResolved: true, To: r.EmailTo, From: r.SMTPFrom, Smarthost: r.SMTPSmarthost,
			RequireTLS: r.SMTPRequireTLS, AuthUsername: r.SMTPAuthUsername}
		if r.SMTPAuthPasswordFile != "" {
			e.AuthPasswordFile = in.SecretPath(SecretSMTPPassword)
		}
		out.EmailConfigs = []emailConfig{e}
	}
	if r.TelegramBotTokenFile != "" {
		token, err := in.ReadSecret(SecretTelegramToken)
		if err != nil {
			return out, err
		}
		out.TelegramConfigs = []telegramConfig{{SendResolved: true, BotToken: token, ChatID: r.TelegramChatID}}
	}
	return out, nil
}

// ReadToken reads a one-line secret (a token, a password) from path,
// without the white space around it.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("%s: want the secret alone on one line", path)
	}
	return t, nil
}

// CredentialsDropIn is the drop-in of prometheus-alertmanager.service that
// hands the secret files to Alertmanager as systemd credentials: the files
// stay readable by root alone, and systemd copies them where Alertmanager's
// user can read them ($CREDENTIALS_DIRECTORY) at each start. nil when there
// are no secrets.
func CredentialsDropIn(secrets map[string]string) []byte {
	if len(secrets) == 0 {
		return nil
	}
	names := make([]string, 0, len(secrets))
	for n := range secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Written by \"edgectl alerts enable\" (removed when no receiver needs a secret): the receivers'\n" +
		"# secret files, handed to Alertmanager as credentials. Edit them with edgectl, not here.\n[Service]\n")
	for _, n := range names {
		// % starts a specifier in unit files.
		fmt.Fprintf(&b, "LoadCredential=%s:%s\n", n, strings.ReplaceAll(secrets[n], "%", "%%"))
	}
	return []byte(b.String())
}

// SecretFiles are where RenderFile finds the secret files and where it puts
// the copies Alertmanager reads.
type SecretFiles struct {
	// CredentialsDir is systemd's $CREDENTIALS_DIRECTORY, where
	// CredentialsDropIn hands the files to the unit; "" reads them at the
	// paths the settings name.
	CredentialsDir string
	// CopyDir, when set, receives a copy of each secret trimmed of
	// surrounding white space (mode 0600), which the configuration names:
	// Alertmanager 0.25 sends a password file's trailing newline as part of
	// the password (0.28 trims it), and `echo pw >file` writes one.
	CopyDir string
}

// RenderFile renders the user's configuration at configIn with the alert
// settings a and the secrets found as sf says. A secret that cannot be read
// is an error now rather than a failed notification later.
func RenderFile(configIn string, a settings.Alerting, sf SecretFiles) ([]byte, error) {
	cfg, err := os.ReadFile(configIn)
	if err != nil {
		return nil, err
	}
	secrets := Secrets(a.Receivers)
	src := func(name string) string {
		if sf.CredentialsDir != "" {
			return filepath.Join(sf.CredentialsDir, name)
		}
		return secrets[name]
	}
	paths := map[string]string{}
	for name := range secrets {
		token, err := ReadToken(src(name))
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		paths[name] = src(name)
		if sf.CopyDir != "" {
			paths[name] = filepath.Join(sf.CopyDir, name)
			if err := atomicfile.Write(paths[name], []byte(token), 0o600); err != nil {
				return nil, err
			}
		}
	}
	return Render(RenderInput{ConfigName: configIn, Config: cfg, Alerting: a,
		SecretPath: func(name string) string { return paths[name] },
		ReadSecret: func(name string) (string, error) { return ReadToken(src(name)) }})
}
