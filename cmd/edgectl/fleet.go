package main

import (
	"fmt"
	"io"

	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/fleet"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

const fleetUsage = `usage: edgectl fleet enable URL [--username U --password-file F | --bearer-token-file F]
                          [--ca-file F] [--site S] [--role R] [--profile lean|full]
                          [--alertmanager AM_URL [--alertmanager-username U --alertmanager-password-file F]
                           [--alertmanager-ca-file F]]
                          (URL may be left out with --alertmanager: remote write stays as it is)
       edgectl fleet disable
       edgectl fleet status
common flags: --defaults F --config.in F --machine-id F --dropin-dir D

Edits the fleet settings, checks that Prometheus's configuration renders with
them, and restarts Prometheus. --alertmanager also sends the device's alerts to
a central Alertmanager, with the device, site and role labels. Exit status: 0 done, 1 failed (a bad setting
leaves the file unchanged), 2 usage error.`

// fleetCmd is one run of "edgectl fleet SUB".
type fleetCmd struct {
	*cmdLine
	in renderFiles
	fleet.Fleet
}

func runFleet(args []string, stdout, stderr io.Writer) int {
	return fleetCommand(args, stdout, stderr, hostSystemd{})
}

// fleetCommand is runFleet with the service manager to use.
func fleetCommand(args []string, stdout, stderr io.Writer, services apply.ServiceManager) int {
	sub, args, code, ok := subcommand("fleet", fleetUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	f := &fleetCmd{cmdLine: newCmdLine("fleet "+sub, stdout, stderr)}
	f.in.register(f.cmdLine)
	f.StringVar(&f.DropInDir, "dropin-dir", fleet.DefaultDropInDir, "systemd drop-in directory of edge-observability.slice")
	f.Applier = apply.Applier{Services: services, Stdout: stdout, Stderr: stderr}
	switch sub {
	case "enable":
		return f.enable(args)
	case "disable":
		return f.disable(args)
	}
	return f.status(args)
}

func (f *fleetCmd) enable(args []string) int {
	var username, passwordFile, bearerFile string
	f.StringVar(&username, "username", "", "basic auth user")
	f.StringVar(&passwordFile, "password-file", "", "basic auth password file")
	f.StringVar(&bearerFile, "bearer-token-file", "", "bearer token file")
	var amURL, amUser, amPassword string
	f.StringVar(&amURL, "alertmanager", "", "central Alertmanager (http(s)://host:port[/prefix]) that receives the device's alerts too")
	f.StringVar(&amUser, "alertmanager-username", "", "basic auth user at the central Alertmanager")
	f.StringVar(&amPassword, "alertmanager-password-file", "", "basic auth password file for the central Alertmanager")
	other := map[string]*string{
		settings.KeyAlertmanagerCAFile: f.String("alertmanager-ca-file", "", "CA bundle to verify the central Alertmanager"),
		settings.KeyCAFile:             f.String("ca-file", "", "CA bundle to verify the central"),
		settings.KeySite:               f.String("site", "", "site label"),
		settings.KeyRole:               f.String("role", "", "role label"),
		settings.KeyProfile:            f.String("profile", "", "full (local TSDB + Grafana) or lean (agent mode)"),
	}
	pos, code, ok := f.parseInterspersed(args)
	if !ok {
		return code
	}
	if len(pos) > 1 || (len(pos) == 0 && amURL == "") {
		return f.usageError("want one URL (and/or --alertmanager), got %d arguments", len(pos))
	}
	set := map[string]string{}
	if len(pos) == 1 {
		set[settings.KeyURL] = pos[0]
	}
	if amURL != "" {
		// A central Alertmanager given replaces the previous one and its auth.
		set[settings.KeyAlertmanagerURL], set[settings.KeyAlertmanagerUsername], set[settings.KeyAlertmanagerPassword] = amURL, amUser, amPassword
	}
	if username != "" || passwordFile != "" || bearerFile != "" {
		// Choosing an auth method replaces the previous one.
		set[settings.KeyUsername], set[settings.KeyPasswordFile], set[settings.KeyBearerTokenFile] = username, passwordFile, bearerFile
	}
	for k, v := range other {
		if *v != "" {
			set[k] = *v
		}
	}
	return f.apply(set)
}

func (f *fleetCmd) disable(args []string) int {
	if code, ok := f.parseNoArgs(args); !ok {
		return code
	}
	return f.apply(map[string]string{settings.KeyURL: "", settings.KeyProfile: settings.ProfileFull,
		settings.KeyAlertmanagerURL: "", settings.KeyAlertmanagerUsername: "", settings.KeyAlertmanagerPassword: "",
		settings.KeyAlertmanagerCAFile: ""})
}

func (f *fleetCmd) apply(set map[string]string) int {
	f.in.applyTo(&f.Applier)
	if err := f.Apply(set); err != nil {
		return f.fail(err)
	}
	return exitcode.OK
}

func (f *fleetCmd) status(args []string) int {
	if code, ok := f.parseNoArgs(args); !ok {
		return code
	}
	f.in.applyTo(&f.Applier)
	s, err := settings.Load(f.in.settings)
	if err != nil {
		return f.fail(err)
	}
	for _, r := range f.Describe(s) {
		fmt.Fprintf(f.stdout, "%-13s %s\n", r[0]+":", r[1])
	}
	return exitcode.OK
}
