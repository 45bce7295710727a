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
	"fleet": {subs: map[string]commandDoc{
		"enable": {args: "URL", summary: "Ships the device's metrics to the central Prometheus-compatible endpoint at URL " +
			"(remote write), with the given authentication, labels and profile, and restarts Prometheus."},
		"disable": {summary: "Stops shipping metrics and returns to the full profile."},
		"status":  {summary: "Shows the fleet settings in effect."},
	}},
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
				"and healthy, renders Prometheus's configuration for the prometheus.service drop-in, reloads edge-sensord " +
				"synchronously, and configures shipping of metrics to a central Prometheus.\n\n" +
				"Flags take one or two dashes, and a value as --flag=value or --flag value.",
			Commands: cmds,
			Sections: []cmddoc.Section{
				{Title: "EXIT STATUS", Text: "0 success, 1 failure, 2 usage error; edgectl status also 3 when health could not be determined."},
				{Title: "FILES", Text: "/etc/default/edge-observability: fleet settings (KEY=value).\n\n" +
					"/etc/edge-observability/prometheus.yml: the user Prometheus configuration.\n\n" +
					"/run/edge-observability/prometheus.yml: the rendered configuration Prometheus runs with."},
				{Title: "SEE ALSO", Text: "edge-sensord(8), prometheus(1), systemctl(1)"},
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
