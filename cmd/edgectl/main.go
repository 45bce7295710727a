// Command edgectl inspects and drives the edge observability stack: the
// memory/CPU budget and health of the units in edge-observability.slice,
// edge-sensord's reloads, the rendering of Prometheus's configuration and
// command line, and fleet mode. Each subcommand is one file of this package.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/atomicfile"
	"github.com/edgeobs/edge-observability-stack/internal/cmddoc"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/version"
)

// commands maps each subcommand to its implementation, which gets the
// arguments after its name and returns an exit code of package exitcode.
// Each is documented in commandDocs (doc.go).
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"status":              runStatus,
	"sensord-reload":      runSensordReload,
	"prometheus-config":   runPrometheusConfig,
	"prometheus-exec":     runPrometheusExec,
	"fleet":               runFleet,
	"alerts":              runAlerts,
	"alertmanager-config": runAlertmanagerConfig,
	"alertmanager-exec":   runAlertmanagerExec,
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitcode.Usage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitcode.OK
	case "--help-man":
		return writeMan(stdout, stderr)
	case "--completion-script-bash":
		return writeBashCompletion(stdout, stderr)
	case "--version", "version":
		fmt.Fprintf(stdout, "edgectl %s (revision %s)\n", version.Version, version.Revision)
		return exitcode.OK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		what := "command"
		if strings.HasPrefix(args[0], "-") {
			what = "flag" // the flags come after the command
		}
		fmt.Fprintf(stderr, "edgectl: unknown %s %q\n\n", what, args[0])
		usage(stderr)
		return exitcode.Usage
	}
	return cmd(args[1:], stdout, stderr)
}

// usage lists the commands with the first sentence of their summary.
func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for name := range commands {
		names = append(names, name)
		width = max(width, len(name))
	}
	sort.Strings(names)
	fmt.Fprint(w, "usage: edgectl <command> [flags]\n\ncommands:\n")
	indent := "\n" + strings.Repeat(" ", width+4)
	for _, name := range names {
		text := wrap(firstSentence(commandDocs[name].summary), 78-len(indent)+1)
		fmt.Fprintf(w, "  %-*s  %s\n", width, name, strings.ReplaceAll(text, "\n", indent))
	}
	fmt.Fprint(w, "\nRun 'edgectl <command> --help' for the flags of a command.\n")
}

// firstSentence is text up to its first full stop followed by a space.
func firstSentence(text string) string {
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i+1]
	}
	return text
}

// cmdLine is a subcommand's flag set with the one help behaviour of all
// subcommands: -h prints the usage to stdout and exits 0; a bad flag or
// argument prints the error and the usage to stderr and exits 2. The usage
// is the command's entry in commandDocs and its flags.
type cmdLine struct {
	*flag.FlagSet
	name   string // "edgectl status"
	doc    commandDoc
	stdout io.Writer
	stderr io.Writer
}

// newCmdLine makes the flag set of the command name ("status", "fleet enable").
func newCmdLine(name string, stdout, stderr io.Writer) *cmdLine {
	c := &cmdLine{FlagSet: cmddoc.NewFlagSet("edgectl "+name, stderr),
		name: "edgectl " + name, doc: docOf(name), stdout: stdout, stderr: stderr}
	c.Usage = func() {} // parse prints the usage where it belongs
	return c
}

// parse parses the flags; the rest (after the first argument that is not a
// flag, or after "--") is in Args. ok is false when the command is done,
// with the exit code in code.
func (c *cmdLine) parse(args []string) (code int, ok bool) {
	return c.done(c.Parse(args))
}

// parseInterspersed is parse with flags allowed among and after the
// positional arguments, which it returns.
func (c *cmdLine) parseInterspersed(args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := c.done(c.Parse(args)); !ok {
			return nil, code, false
		}
		if c.NArg() == 0 {
			return pos, exitcode.OK, true
		}
		pos = append(pos, c.Arg(0))
		args = c.Args()[1:]
	}
}

func (c *cmdLine) done(err error) (int, bool) {
	switch {
	case err == nil:
		return exitcode.OK, true
	case errors.Is(err, flag.ErrHelp):
		c.printUsage(c.stdout)
		return exitcode.OK, false
	}
	c.printUsage(c.stderr) // the flag package has printed the error
	return exitcode.Usage, false
}

func (c *cmdLine) printUsage(w io.Writer) {
	synopsis := c.name + " [flags]"
	if c.doc.args != "" {
		synopsis += " " + c.doc.args
	}
	fmt.Fprintf(w, "usage: %s\n\n%s\n", synopsis, wrap(c.doc.summary, 78))
	var flags strings.Builder
	c.SetOutput(&flags)
	c.PrintDefaults()
	c.SetOutput(c.stderr)
	if flags.Len() > 0 {
		fmt.Fprint(w, "\nflags:\n"+flags.String())
	}
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// usageError reports a bad command line; nothing was done.
func (c *cmdLine) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, c.name+": "+format+"\n", a...)
	return exitcode.Usage
}

// fail reports a failure of the command.
func (c *cmdLine) fail(err error) int {
	fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
	return exitcode.Failure
}

// writeOut writes a rendered file to path, or to stdout when path is "-"
// (the default of the *-config commands' --config.out).
func (c *cmdLine) writeOut(path string, data []byte, perm os.FileMode) int {
	var err error
	if path == "-" {
		_, err = c.stdout.Write(data)
	} else {
		err = atomicfile.Write(path, data, perm)
	}
	if err != nil {
		return c.fail(err)
	}
	return exitcode.OK
}

// subcommand splits the arguments of a command that takes a subcommand first
// (fleet, alerts) into the subcommand, one of its entry's subs in
// commandDocs, and the rest. -h prints usage on stdout; none or an unknown
// one is a usage error. ok is false when the command is done, with the exit
// code in code.
func subcommand(name, usage string, args []string, stdout, stderr io.Writer) (sub string, rest []string, code int, ok bool) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return "", nil, exitcode.Usage, false
	}
	sub, rest = args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return "", nil, exitcode.OK, false
	}
	if _, known := commandDocs[name].subs[sub]; !known {
		fmt.Fprintf(stderr, "edgectl %s: unknown subcommand %q\n\n%s\n", name, sub, usage)
		return "", nil, exitcode.Usage, false
	}
	return sub, rest, exitcode.OK, true
}

// parseNoArgs is parse for a command that takes flags only.
func (c *cmdLine) parseNoArgs(args []string) (code int, ok bool) {
	if code, ok := c.parse(args); !ok {
		return code, false
	}
	if c.NArg() > 0 {
		return c.usageError("unexpected argument %q", c.Arg(0)), false
	}
	return exitcode.OK, true
}
