package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edgeobs/edge-observability-stack/internal/alerts"
	"github.com/edgeobs/edge-observability-stack/internal/amconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// Paths of the installed layout.
const (
	defaultAMConfigOut = "/run/edge-observability-alertmanager/alertmanager.yml"
	defaultAmtool      = "/usr/bin/amtool"
)

// amRender are the inputs of the rendered Alertmanager configuration.
type amRender struct {
	configIn, settings string
	// secretsDir, when set, holds the secrets by name instead of
	// $CREDENTIALS_DIRECTORY (see runAlertmanagerConfig).
	secretsDir string
}

func (r *amRender) register(c *cmdLine) {
	c.StringVar(&r.configIn, "config.in", alerts.DefaultConfigIn, "user Alertmanager configuration")
	c.StringVar(&r.settings, "defaults", defaultSettings, "settings (KEY=value)")
}

// render renders the configuration with the secrets where systemd hands
// them to the unit ($CREDENTIALS_DIRECTORY), or else where the settings
// name them; with copyDir, their trimmed copies go there (see
// amconfig.SecretFiles).
func (r *amRender) render(copyDir string) ([]byte, *settings.Settings, error) {
	s, err := settings.Load(r.settings)
	if err != nil {
		return nil, nil, err
	}
	dir := r.secretsDir
	if dir == "" {
		dir = os.Getenv("CREDENTIALS_DIRECTORY")
	}
	data, err := amconfig.RenderFile(r.configIn, s.Alerting, amconfig.SecretFiles{CredentialsDir: dir, CopyDir: copyDir})
	if err != nil && r.secretsDir != "" && errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w (a secret the unit did not have at its start needs a restart, not a reload)", err)
	}
	return data, s, err
}

func runAlertmanagerConfig(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("alertmanager-config", stdout, stderr)
	var in amRender
	in.register(c)
	out := c.String("config.out", "-", `write the rendered config here ("-" = stdout)`)
	check := c.Bool("check", false, "check the rendered config with amtool check-config (exit 1 when refused)")
	amtool := c.String("amtool", defaultAmtool, "amtool binary for --check")
	// ExecReload= gets neither the unit's credentials nor $CREDENTIALS_DIRECTORY
	// when the unit has its own mount namespace (systemd 257): the reload
	// reads the copies the start made in the runtime directory. Credentials
	// change only at a restart anyway.
	c.StringVar(&in.secretsDir, "secrets.dir", "", "read the secrets here by name (default $CREDENTIALS_DIRECTORY, else the settings' paths)")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	copyDir := ""
	if *out != "-" {
		copyDir = filepath.Dir(*out)
	}
	data, _, err := in.render(copyDir)
	if err != nil {
		return c.fail(err)
	}
	if *check {
		if err := alerts.CheckConfig(hostAmtool{*amtool}, data); err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(stderr, "amtool check-config: the rendered configuration is valid")
	}
	return c.writeOut(*out, data, 0o600)
}
