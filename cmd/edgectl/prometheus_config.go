package main

import (
	"io"

	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// Paths of the installed layout.
const (
	defaultConfigIn  = "/etc/edge-observability/prometheus.yml"
	defaultSettings  = "/etc/default/edge-observability"
	defaultMachineID = "/etc/machine-id"
	defaultConfigOut = "/run/edge-observability/prometheus.yml"
)

// renderFiles are the inputs of the rendered Prometheus configuration.
type renderFiles struct {
	configIn, settings, machineID string
}

func (r *renderFiles) register(c *cmdLine) {
	c.StringVar(&r.configIn, "config.in", defaultConfigIn, "user Prometheus configuration")
	c.StringVar(&r.settings, "defaults", defaultSettings, "fleet settings (KEY=value)")
	c.StringVar(&r.machineID, "machine-id", defaultMachineID, "file holding the default device id")
}

// applyTo points a's inputs at these files.
func (r *renderFiles) applyTo(a *apply.Applier) {
	a.Settings, a.ConfigIn, a.MachineID = r.settings, r.configIn, r.machineID
}

// render loads the settings and renders the configuration with them.
func (r *renderFiles) render() ([]byte, *settings.Settings, error) {
	s, err := settings.Load(r.settings)
	if err != nil {
		return nil, nil, err
	}
	data, err := promconfig.RenderFile(r.configIn, s, r.machineID)
	return data, s, err
}

func runPrometheusConfig(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("prometheus-config", stdout, stderr)
	var in renderFiles
	in.register(c)
	out := c.String("config.out", "-", `write the rendered config here ("-" = stdout)`)
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	data, _, err := in.render()
	if err != nil {
		return c.fail(err)
	}
	return c.writeOut(*out, data, 0o640)
}
