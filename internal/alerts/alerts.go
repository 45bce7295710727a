// Package alerts turns the delivery of the device's alerts on and off: the
// local Alertmanager (Debian's prometheus-alertmanager, in the stack's
// slice) with the receivers of the settings, its configuration checked by
// amtool before anything is written, the secrets handed to it by systemd;
// and it reports and tests the delivery from Alertmanager's own metrics.
package alerts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/amconfig"
	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// Installed layout.
const (
	Unit             = "prometheus-alertmanager.service"
	DefaultBinary    = "/usr/bin/prometheus-alertmanager"
	DefaultConfigIn  = "/etc/edge-observability/alertmanager.yml"
	DefaultDropInDir = "/etc/systemd/system/prometheus-alertmanager.service.d"
	// SecretsDropInName is the drop-in of CredentialsDropIn in DefaultDropInDir.
	SecretsDropInName = "edge-observability-secrets.conf"
)

// Amtool checks an Alertmanager configuration file with Alertmanager's own
// loader (amtool check-config); output says why it is refused.
type Amtool interface {
	CheckConfig(path string) (output string, err error)
}

// Alerts applies alert settings.
type Alerts struct {
	apply.Applier
	// ConfigIn is the user's alertmanager.yml.
	ConfigIn string
	// DropInDir is prometheus-alertmanager.service's local drop-in
	// directory, where the secrets' drop-in goes.
	DropInDir string
	// Binary is Alertmanager's program, which must be installed.
	Binary string
	Amtool Amtool
}

// Enable turns local alerting on with the settings in set (receivers,
// timing), after checking that the secret files exist with mode 0600 and
// that amtool accepts the resulting configuration; then it hands the
// secrets to Alertmanager and (re)starts it, and has Prometheus send to it.
func (a *Alerts) Enable(set map[string]string) error {
	if _, err := os.Stat(a.Binary); err != nil {
		return fmt.Errorf("Alertmanager is not installed (%v): apt install prometheus-alertmanager", err)
	}
	set[settings.KeyAlerts] = "on"
	s, err := a.WriteSettings(set, checkSecrets, a.checkConfig, needReceiver)
	if err != nil {
		return err
	}
	changed, err := apply.SyncFile(filepath.Join(a.DropInDir, SecretsDropInName), amconfig.CredentialsDropIn(amconfig.Secrets(s.Alerting.Receivers)))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "alerts enabled: %s\n", strings.Join(describeReceivers(s.Alerting.Receivers), "; "))
	var cmds [][]string
	if changed {
		cmds = append(cmds, []string{"daemon-reload"})
	}
	// enable: it must come back after a reboot, whatever was chosen before.
	cmds = append(cmds, []string{"enable", "--quiet", Unit}, []string{"restart", Unit},
		[]string{"try-reload-or-restart", "prometheus.service"})
	if err := a.Systemctl("Alertmanager and Prometheus", cmds...); err != nil {
		return err
	}
	fmt.Fprintln(a.Stdout, "send a test alert with: edgectl alerts test")
	return nil
}

// Disable turns local alerting off: Prometheus stops sending to the local
// Alertmanager, which stops (its drop-in's ExecCondition= keeps it from
// starting at boot). The receivers stay in the settings for the next Enable.
func (a *Alerts) Disable() error {
	if _, err := a.WriteSettings(map[string]string{settings.KeyAlerts: "off"}); err != nil {
		return err
	}
	fmt.Fprintln(a.Stdout, "alerts disabled: no local Alertmanager (the receivers are kept for \"edgectl alerts enable\")")
	return a.Systemctl("Alertmanager and Prometheus", []string{"stop", Unit}, []string{"try-reload-or-restart", "prometheus.service"})
}

func needReceiver(s *settings.Settings) error {
	if !s.Alerting.Any() {
		return errors.New("no receiver: give --webhook, --email or --telegram-bot-token-file with --telegram-chat-id")
	}
	return nil
}

// checkSecrets: every secret file exists, is a regular file and is readable
// by its owner alone.
func checkSecrets(s *settings.Settings) error {
	for _, path := range amconfig.Secrets(s.Alerting.Receivers) {
		if err := CheckSecretFile(path); err != nil {
			return err
		}
	}
	return nil
}

// CheckSecretFile says what is wrong with a secret file, or nil.
func CheckSecretFile(path string) error {
	if strings.ContainsAny(path, " \t\n") {
		return fmt.Errorf("secret file %q: the path must not contain whitespace", path)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("secret file %s does not exist", path)
	case err != nil:
		return fmt.Errorf("secret file: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("secret file %s is not a regular file", path)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("secret file %s has mode %04o: others may read it; chmod 0600 %s", path, fi.Mode().Perm(), path)
	case fi.Size() == 0:
		return fmt.Errorf("secret file %s is empty", path)
	}
	return nil
}

// checkConfig renders the Alertmanager configuration with the settings and
// has amtool check it.
func (a *Alerts) checkConfig(s *settings.Settings) error {
	data, err := amconfig.RenderFile(a.ConfigIn, s.Alerting, amconfig.SecretFiles{})
	if err != nil {
		return err
	}
	if err := CheckConfig(a.Amtool, data); err != nil {
		return fmt.Errorf("the configuration rendered from %s: %w", a.ConfigIn, err)
	}
	return nil
}

// CheckConfig has amtool check an Alertmanager configuration, written to a
// file only its owner reads (it may hold a token).
func CheckConfig(t Amtool, data []byte) error {
	f, err := os.CreateTemp("", "edge-alertmanager-*.yml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if out, err := t.CheckConfig(f.Name()); err != nil {
		return fmt.Errorf("amtool check-config refused it: %v\n%s", err, strings.TrimSpace(out))
	}
	return nil
}

// describeReceivers lists the receivers for people.
func describeReceivers(r settings.Receivers) []string {
	var out []string
	if r.WebhookURL != "" {
		out = append(out, "webhook "+redactURL(r.WebhookURL))
	}
	if r.EmailTo != "" {
		auth := ""
		if r.SMTPAuthUsername != "" {
			auth = ", user " + r.SMTPAuthUsername
		}
		tls := ""
		if !r.SMTPRequireTLS {
			tls = ", no TLS"
		}
		out = append(out, fmt.Sprintf("email to %s via %s (from %s%s%s)", r.EmailTo, r.SMTPSmarthost, r.SMTPFrom, auth, tls))
	}
	if r.TelegramBotTokenFile != "" {
		out = append(out, fmt.Sprintf("telegram chat %d", r.TelegramChatID))
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}

// redactURL hides a URL's credentials and query, where webhook services
// put their tokens.
func redactURL(s string) string {
	i := strings.IndexAny(s, "?#")
	if i < 0 {
		i = len(s)
	}
	base, rest := s[:i], s[i:]
	if at := strings.LastIndex(base, "@"); at >= 0 {
		if scheme := strings.Index(base, "://"); scheme >= 0 && scheme < at {
			base = base[:scheme+3] + "***@" + base[at+1:]
		}
	}
	if rest != "" {
		rest = "?***"
	}
	return base + rest
}
