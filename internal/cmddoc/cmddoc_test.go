package cmddoc

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// A command as edgectl's are written: flags, then work that must not run
// when only --help was asked for.
func fakeCommand(ran *bool) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		sub := ""
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			sub, args = args[0], args[1:]
		}
		fs := NewFlagSet("fake "+sub, stderr)
		fs.Bool("json", false, "print JSON")
		fs.Duration("timeout", 15*time.Second, "overall time limit")
		fs.String("path", "/sys/fs/cgroup", "a `DIR` to read")
		if sub == "enable" {
			fs.String("site", "", "site label")
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		*ran = true
		return 0
	}
}

func TestCaptureRunsNothing(t *testing.T) {
	var ran bool
	sets := Capture(fakeCommand(&ran), "enable")
	if ran {
		t.Fatal("Capture ran the command's work")
	}
	if len(sets) != 1 {
		t.Fatalf("captured %d flag sets, want 1", len(sets))
	}
	got := Flags(sets)
	want := []Flag{
		{Name: "json", Usage: "print JSON"},
		{Name: "path", Value: "DIR", Usage: "a DIR to read", Default: "/sys/fs/cgroup"},
		{Name: "site", Value: "string", Usage: "site label"},
		{Name: "timeout", Value: "duration", Usage: "overall time limit", Default: "15s"},
	}
	if len(got) != len(want) {
		t.Fatalf("flags %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flag %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Outside Capture, flag sets are not collected.
	NewFlagSet("other", io.Discard)
	if sets := Capture(func([]string, io.Writer, io.Writer) int { return 0 }); len(sets) != 0 {
		t.Errorf("captured %d flag sets of a command that makes none", len(sets))
	}
}

func TestWriteManEscapes(t *testing.T) {
	var b bytes.Buffer
	err := WriteMan(&b, Page{
		Program: "prog", Summary: "does things", Source: "pkg 1.0",
		Description: ".starts with a period\n\nback\\slash and -dash",
		Commands:    []Command{{Name: "run-it", Summary: "runs", Flags: []Flag{{Name: "dry-run", Usage: "only say"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		".TH PROG 8 \"\" \"pkg 1.0\"", "prog \\- does things", `\&.starts with a period`,
		`back\eslash and \-dash`, `.SS "prog run\-it"`, `\fB\-\-dry\-run\fR`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}

func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	var ran bool
	cmds := []Command{
		{Name: "status", Flags: Flags(Capture(fakeCommand(&ran)))},
		{Name: "fleet enable", Flags: Flags(Capture(fakeCommand(&ran), "enable"))},
		{Name: "fleet disable", Flags: Flags(Capture(fakeCommand(&ran), "disable"))},
	}
	var script bytes.Buffer
	if err := WriteBashCompletion(&script, "my-prog", cmds); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"my-prog ":                       "fleet status",
		"my-prog fl":                     "fleet",
		"my-prog fleet ":                 "disable enable",
		"my-prog fleet enable --s":       "--site",
		"my-prog fleet disable --s":      "",
		"my-prog status --j":             "--json",
		"my-prog status --timeout 5s --": "--json --path --timeout",
	} {
		words := strings.Split(line, " ")
		cmd := exec.Command("bash", "-c", script.String()+`
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _my_prog; echo "${COMPREPLY[*]}"`, "bash")
		cmd.Args = append(cmd.Args, words...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v: %s", line, err, out)
		}
		got := strings.Fields(string(out))
		sort.Strings(got)
		if strings.Join(got, " ") != want {
			t.Errorf("completing %q: %q, want %q", line, got, want)
		}
	}
}
