package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/alerts"
	"github.com/edgeobs/edge-observability-stack/internal/atomicfile"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// runAlertmanagerExec is prometheus-alertmanager.service's ExecStart: render,
// then exec Alertmanager in this process so that systemd supervises it.
// With --condition it is the unit's ExecCondition= instead: exit 1 (the
// start is skipped, not failed) while local alerting is off.
func runAlertmanagerExec(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("alertmanager-exec", stdout, stderr)
	var in amRender
	in.register(c)
	out := c.String("config.out", defaultAMConfigOut, "where to write the rendered config")
	bin := c.String("alertmanager", alerts.DefaultBinary, "Alertmanager binary to exec")
	condition := c.Bool("condition", false, "only tell whether Alertmanager should run: exit 0 when local alerting is on ("+
		settings.KeyAlerts+"=on), 1 when off (ExecCondition= of the unit)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *condition {
		return alertingOn(c, in.settings)
	}
	for _, a := range c.Args() {
		for _, own := range []string{"--config.file", "--web.listen-address"} {
			if a == own || strings.HasPrefix(a, own+"=") {
				return c.usageError("%s is set by alertmanager-exec (the listen address is %s)", own, settings.KeyAlertsListen)
			}
		}
	}
	data, s, err := in.render(filepath.Dir(*out))
	if err != nil {
		return c.fail(err)
	}
	if err := atomicfile.Write(*out, data, 0o600); err != nil {
		return c.fail(err)
	}
	argv := append([]string{*bin, "--config.file=" + *out, "--web.listen-address=" + s.Alerting.Listen}, c.Args()...)
	err = execFunc(*bin, argv, os.Environ())
	return c.fail(fmt.Errorf("exec %s: %w", *bin, err))
}

func alertingOn(c *cmdLine, path string) int {
	s, err := settings.Load(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
		return exitcode.Failure
	}
	if !s.Alerting.Local {
		fmt.Fprintf(c.stdout, "local alerting is off (%s): Alertmanager is not started; edgectl alerts enable turns it on\n", settings.KeyAlerts)
		return exitcode.Failure
	}
	return exitcode.OK
}
