package main

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/edgeobs/edge-observability-stack/internal/promargs"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

const defaultPromBin = "/usr/bin/prometheus"

// execFunc replaces the process; a variable so tests can observe the call.
var execFunc = syscall.Exec

// runPrometheusExec is prometheus.service's ExecStart: render, then exec
// Prometheus in this process so that systemd supervises Prometheus itself.
func runPrometheusExec(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("prometheus-exec", stdout, stderr)
	var in renderFiles
	in.register(c)
	out := c.String("config.out", defaultConfigOut, "where to write the rendered config")
	bin := c.String("prometheus", defaultPromBin, "Prometheus binary to exec")
	if code, ok := c.parse(args); !ok {
		return code
	}
	data, s, err := in.render()
	if err != nil {
		return c.fail(err)
	}
	if err := writeFileAtomic(*out, data, 0o640); err != nil {
		return c.fail(err)
	}
	promArgs, note := promargs.CapRetentionSize(promargs.Build(s.Profile == settings.ProfileLean, *out, c.Args()))
	if note != "" {
		fmt.Fprintf(stderr, "%s: %s\n", c.name, note)
	}
	err = execFunc(*bin, append([]string{*bin}, promArgs...), os.Environ())
	return c.fail(fmt.Errorf("exec %s: %w", *bin, err))
}
