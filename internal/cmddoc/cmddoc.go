// Package cmddoc writes the manual page and the bash completion of a program
// whose subcommands parse flag.FlagSets, from those flag sets themselves, so
// that the documentation lists exactly the flags the program accepts.
//
// A subcommand creates its flag set with NewFlagSet; Capture runs the
// subcommand with --help (which parses the flags and returns before doing
// anything) and collects the flag sets it created.
package cmddoc

import (
	"flag"
	"io"
	"sort"
	"sync"
)

var (
	mu       sync.Mutex
	captured *[]*flag.FlagSet
)

// NewFlagSet returns a flag set that reports parse errors (and -h) to stderr
// instead of exiting, and that Capture can see.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if captured != nil {
		*captured = append(*captured, fs)
	}
	return fs
}

// Capture runs a subcommand with args followed by --help, output discarded,
// and returns the flag sets it created with NewFlagSet.
func Capture(run func(args []string, stdout, stderr io.Writer) int, args ...string) []*flag.FlagSet {
	mu.Lock()
	defer mu.Unlock()
	var sets []*flag.FlagSet
	captured = &sets
	defer func() { captured = nil }()
	run(append(append([]string(nil), args...), "--help"), io.Discard, io.Discard)
	return sets
}

// Flag is one flag of a command, as documented.
type Flag struct {
	Name    string
	Value   string // placeholder of the value; empty for a boolean flag
	Usage   string
	Default string // empty when the default is the zero value
}

// Command is one (sub)command: Name is what follows the program name, e.g.
// "fleet enable".
type Command struct {
	Name    string
	Args    string // positional arguments in the synopsis, e.g. "URL"
	Summary string
	Flags   []Flag
}

// Flags lists the flags of the flag sets in name order, each once.
func Flags(sets []*flag.FlagSet) []Flag {
	seen := map[string]bool{}
	var out []Flag
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			if seen[f.Name] {
				return
			}
			seen[f.Name] = true
			value, usage := flag.UnquoteUsage(f)
			def := f.DefValue
			if isZero(def) {
				def = ""
			}
			if isBool(f) {
				value = ""
			}
			out = append(out, Flag{Name: f.Name, Value: value, Usage: usage, Default: def})
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isZero(def string) bool {
	switch def {
	case "", "false", "0", "0s":
		return true
	}
	return false
}
