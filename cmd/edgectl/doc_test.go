package main

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
)

// Every command and every subcommand (of fleet and alerts) has a summary.
func TestEveryCommandDocumented(t *testing.T) {
	cmds, err := documented()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if c.Summary == "" {
			t.Errorf("%s: no summary", c.Name)
		}
	}
	// fleet and alerts parse their subcommand themselves: the ones their usage names are the documented ones.
	for name, doc := range commandDocs {
		if len(doc.subs) == 0 {
			continue
		}
		var usage bytes.Buffer
		run([]string{name}, &bytes.Buffer{}, &usage)
		var inUsage, inDocs []string
		for _, m := range regexp.MustCompile(`edgectl `+name+` ([a-z]+)`).FindAllStringSubmatch(usage.String(), -1) {
			inUsage = append(inUsage, m[1])
		}
		for sub := range doc.subs {
			inDocs = append(inDocs, sub)
		}
		sort.Strings(inUsage)
		sort.Strings(inDocs)
		if strings.Join(inUsage, " ") != strings.Join(inDocs, " ") {
			t.Errorf("%s usage names subcommands %v, commandDocs %v", name, inUsage, inDocs)
		}
	}
}

// The hidden --help-man and --completion-script-bash are not listed as commands.
func TestDocOutputs(t *testing.T) {
	var man, bash, usage, stderr bytes.Buffer
	if rc := run([]string{"--help-man"}, &man, &stderr); rc != exitcode.OK || !strings.HasPrefix(man.String(), ".TH EDGECTL 8") {
		t.Errorf("--help-man: exit %d, %q %s", rc, firstLine(man.String()), stderr.String())
	}
	if rc := run([]string{"--completion-script-bash"}, &bash, &stderr); rc != exitcode.OK || !strings.Contains(bash.String(), "complete -F _edgectl edgectl") {
		t.Errorf("--completion-script-bash: exit %d, %s", rc, stderr.String())
	}
	run([]string{"--help"}, &usage, &stderr)
	if strings.Contains(usage.String(), "help-man") || strings.Contains(usage.String(), "completion") {
		t.Errorf("usage lists the documentation flags:\n%s", usage.String())
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
