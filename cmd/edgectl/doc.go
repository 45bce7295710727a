package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/cmddoc"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/version"
)

// commandDoc is what the flag definitions cannot say about a command: its
// summary, positional arguments and subcommands. The flags come from the
// command itself (cmddoc.Capture); doc_test.go fails when a command has no
// entry here.
type commandDoc struct {
	summary string
	args    string
	subs    map[string]commandDoc // subcommands, parsed by the command itself
}

var commandDocs = map[string]commandDoc{
	"status": {summary: "Reports memory, CPU and state of the units in the slice against the budget, and " +
		"Prometheus's scrape health. Exit status: 0 healthy, 1 unhealthy (including a memory budget the kernel " +
		"does not enforce), 2 usage error, 3 health could not be determined. Warnings (e.g. a clock not yet " +
		"synchronised) do not change it."},
	"sensord-reload": {summary: "Sends SIGHUP to edge-sensord and waits until it has re-read its configuration " +
		"(ExecReload= of edge-sensord.service). Exit status: 0 reloaded, 1 the daemon refused the new configuration " +
		"(it keeps running the old one) or did not answer, 2 usage error."},
	"prometheus-config": {summary: "Renders Prometheus's configuration from the user configuration and the fleet settings."},
	"prometheus-exec": {args: "[-- prometheus-flags]", summary: "Renders Prometheus's configuration, then executes Prometheus " +
		"in its place with the flags of the profile (ExecStart= of the prometheus.service drop-in); arguments after -- go to Prometheus. " +
		"The query limits (--query.max-samples, --query.max-concurrency, --query.timeout) those lack are added."},
	"fleet": {summary: "Ships the device's metrics and alerts to a central Prometheus-compatible endpoint and Alertmanager " +
		"(enable), stops (disable) or shows the settings in effect (status).", subs: map[string]commandDoc{
		"enable": {args: "[URL]", summary: "Ships the device's metrics to the central Prometheus-compatible endpoint at URL " +
			"(remote write), with the given authentication, labels and profile, and its alerts to a central Alertmanager " +
			"(--alertmanager, with basic auth and a CA as for remote write), and restarts Prometheus."},
		"disable": {summary: "Stops shipping metrics and alerts and returns to the full profile."},
		"status":  {summary: "Shows the fleet settings in effect."},
	}},
	"alerts": {summary: "Delivers the device's alerts to a person through the local Alertmanager (enable), stops (disable), " +
		"shows the delivery state (status) or sends a test alert (test).", subs: map[string]commandDoc{
		"enable": {summary: "Delivers the device's alerts through the local Alertmanager (package prometheus-alertmanager) to " +
			"the receivers given (webhook, e-mail, Telegram; several at once, replacing the previous ones; none given keeps them). " +
			"Checks the secret files (mode 0600) and the configuration (amtool check-config) before anything is written, then starts " +
			"Alertmanager and has Prometheus send to it."},
		"disable": {summary: "Stops the local Alertmanager and Prometheus's sending to it; the receivers are kept."},
		"status": {summary: "Shows the receivers, Alertmanager's state, its notifications and failures per integration " +
			"(from its own metrics), the last delivery and failure (from Prometheus's history of them), and what Prometheus sent. " +
			"Exit status 1 when Alertmanager does not answer or the last try of a notification of an integration failed."},
		"test": {summary: "Sends a test alert through the local Alertmanager and waits until every receiver accepted it " +
			"(judged from Alertmanager's notification counters), then resolves it. Exit status 1, with the reason, when one did not."},
	}},
	"alertmanager-config": {summary: "Renders the local Alertmanager's configuration from the user configuration and the alert settings; " +
		"--check has amtool check it."},
	"alertmanager-exec": {args: "[-- alertmanager-flags]", summary: "Renders the local Alertmanager's configuration, then executes " +
		"Alertmanager in its place, listening on EDGE_ALERTS_LISTEN (ExecStart= of the prometheus-alertmanager.service drop-in); " +
		"arguments after -- go to Alertmanager. --condition only tells whether local alerting is on (ExecCondition=)."},
}

// docOf is the entry of a command ("status") or of a subcommand of fleet
// ("fleet enable").
func docOf(name string) commandDoc {
	cmd, sub, _ := strings.Cut(name, " ")
	if sub != "" {
		return commandDocs[cmd].subs[sub]
	}
	return commandDocs[cmd]
}

// documented lists every command with its flags, as the command parses them.
func documented() ([]cmddoc.Command, error) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []cmddoc.Command
	for _, name := range names {
		doc, ok := commandDocs[name]
		if !ok {
			return nil, fmt.Errorf("command %q has no entry in commandDocs", name)
		}
		if len(doc.subs) == 0 {
			out = append(out, command(name, doc, cmddoc.Capture(commands[name])))
			continue
		}
		subs := make([]string, 0, len(doc.subs))
		for sub := range doc.subs {
			subs = append(subs, sub)
		}
		sort.Strings(subs)
		for _, sub := range subs {
			out = append(out, command(name+" "+sub, doc.subs[sub], cmddoc.Capture(commands[name], sub)))
		}
	}
	return out, nil
}

func command(name string, doc commandDoc, sets []*flag.FlagSet) cmddoc.Command {
	return cmddoc.Command{Name: name, Args: doc.args, Summary: doc.summary, Flags: cmddoc.Flags(sets)}
}

func writeMan(stdout, stderr io.Writer) int {
	cmds, err := documented()
	if err == nil {
		err = cmddoc.WriteMan(stdout, cmddoc.Page{
			Program: "edgectl",
			Summary: "inspect and drive the edge observability stack",
			Source:  "edge-observability " + version.Version,
			Description: "edgectl reports whether the stack in edge-observability.slice is within its memory budget " +
				"and healthy and what alerts fire, renders Prometheus's and Alertmanager's configurations for their drop-ins, " +
				"reloads edge-sensord synchronously, delivers the alerts through Alertmanager to mail, webhooks and Telegram, " +
				"and configures shipping of metrics and alerts to a fleet's centre.\n\n" +
				"Flags take one or two dashes, and a value as --flag=value or --flag value.",
			Commands: cmds,
			Sections: []cmddoc.Section{
				{Title: "EXIT STATUS", Text: "0 success, 1 failure, 2 usage error; edgectl status also 3 when health could not be determined."},
				{Title: "FILES", Text: "/etc/default/edge-observability: fleet and alert settings (KEY=value).\n\n" +
					"/etc/edge-observability/prometheus.yml: the user Prometheus configuration.\n\n" +
					"/run/edge-observability/prometheus.yml: the rendered configuration Prometheus runs with.\n\n" +
					"/etc/edge-observability/alertmanager.yml: the user Alertmanager configuration.\n\n" +
					"/run/edge-observability-alertmanager/alertmanager.yml: the rendered configuration Alertmanager runs with.\n\n" +
					"edge-observability-secrets.conf in /etc/systemd/system/prometheus-alertmanager.service.d: the receivers' " +
					"secret files, handed to Alertmanager as credentials (written by alerts enable).\n\n" +
					"/usr/share/edge-observability/central/edge-fleet.yml: rules for a fleet's centre."},
				{Title: "SEE ALSO", Text: "edge-sensord(8), prometheus(1), prometheus-alertmanager(1), amtool(1), systemctl(1)"},
			},
		})
	}
	if err != nil {
		fmt.Fprintf(stderr, "edgectl: %v\n", err)
		return exitcode.Failure
	}
	return exitcode.OK
}

func writeBashCompletion(stdout, stderr io.Writer) int {
	cmds, err := documented()
	if err == nil {
		err = cmddoc.WriteBashCompletion(stdout, "edgectl", cmds)
	}
	if err != nil {
		fmt.Fprintf(stderr, "edgectl: %v\n", err)
		return exitcode.Failure
	}
	return exitcode.OK
}
