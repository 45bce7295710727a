// Command edgectl inspects and drives the edge observability stack: the
// memory/CPU budget and health of the units in edge-observability.slice, and
// the rendering of Prometheus's configuration.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/version"
)

// Exit codes shared by all subcommands.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitUnknown = 3
)

// commands maps a subcommand name to its implementation. Other files of this
// package add entries from init().
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"status": runStatus,
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	case "--help-man":
		return writeMan(stdout, stderr)
	case "--completion-script-bash":
		return writeBashCompletion(stdout, stderr)
	case "--version", "version":
		fmt.Fprintf(stdout, "edgectl %s (revision %s)\n", version.Version, version.Revision)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "edgectl: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: edgectl <command> [flags]\n\ncommands:\n  %s\n\nRun 'edgectl <command> --help' for the flags of a command.\n",
		strings.Join(names, "\n  "))
}
