package main

import (
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
)

// Every subcommand answers -h and --help alike: its usage on stdout, exit
// 0; and a bad flag alike: the error and the usage on stderr, exit 2.
func TestHelpOfEverySubcommand(t *testing.T) {
	var lines [][]string
	for name := range commands {
		lines = append(lines, []string{name})
	}
	for name, doc := range commandDocs {
		for sub := range doc.subs {
			lines = append(lines, []string{name, sub})
		}
	}
	for _, cmd := range lines {
		for _, help := range []string{"-h", "--help"} {
			code, out, errs := runEdgectl(append(cmd, help)...)
			if code != exitcode.OK || !strings.HasPrefix(out, "usage: edgectl "+cmd[0]) || errs != "" {
				t.Errorf("%q %s: exit %d, want 0 with the usage on stdout only\nstdout:\n%s\nstderr:\n%s", cmd, help, code, out, errs)
			}
		}
		wantErr := "flag provided but not defined: -no-such-flag"
		if len(cmd) == 1 && len(commandDocs[cmd[0]].subs) > 0 {
			wantErr = `unknown subcommand "--no-such-flag"` // fleet and alerts take a subcommand first
		}
		code, out, errs := runEdgectl(append(cmd, "--no-such-flag")...)
		if code != exitcode.Usage || out != "" || !strings.Contains(errs, wantErr) ||
			!strings.Contains(errs, "usage: edgectl "+cmd[0]) {
			t.Errorf("%q with a bad flag: exit %d, want 2 with error and usage on stderr only\nstdout:\n%s\nstderr:\n%s", cmd, code, out, errs)
		}
	}
}
