package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// buildBinaries builds edge-sensord and edgectl for this machine.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/edge-sensord", "./cmd/edgectl")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return dir
}

// run runs a binary and returns what it printed, whatever its exit status
// (usage goes to stderr, with status 2).
func runOutput(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatal(err)
	}
	return string(out)
}

// unroff undoes the escapes of a manual page that matter for finding flags.
func unroff(page string) string { return strings.ReplaceAll(page, `\-`, "-") }

// Every flag that edge-sensord --help shows is in its manual page.
func TestManPageListsEveryFlagOfEdgeSensord(t *testing.T) {
	bin := filepath.Join(buildBinaries(t), "edge-sensord")
	page, err := ManPage(bin, testInfo, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(page, `.TH EDGE-SENSORD 8 "" "fake 1.2.3"`) || !strings.Contains(page, "\nedge-sensord \\- reads the device's sensors") {
		t.Errorf("title or NAME not set:\n%.300s", page)
	}
	flags := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?([a-z0-9.-]+)`).FindAllStringSubmatch(runOutput(t, bin, "--help"), -1)
	if len(flags) < 15 {
		t.Fatalf("found only %d flags in edge-sensord --help", len(flags))
	}
	for _, f := range flags {
		if !strings.Contains(unroff(page), "--"+f[1]) {
			t.Errorf("manual page lacks --%s", f[1])
		}
	}
}

// Every flag of every edgectl command (as the command's --help shows it) is in
// that command's section of the manual page.
func TestManPageListsEveryFlagOfEdgectl(t *testing.T) {
	bin := filepath.Join(buildBinaries(t), "edgectl")
	page, err := ManPage(bin, testInfo, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	page = unroff(page)
	usage := runOutput(t, bin, "--help")
	_, list, ok := strings.Cut(usage, "commands:\n")
	if !ok {
		t.Fatalf("no command list in edgectl --help:\n%s", usage)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var commands []string
	// "  name  summary", the summary wrapped onto lines indented further.
	for _, name := range regexp.MustCompile(`(?m)^  ([a-z-]+) `).FindAllStringSubmatch(list, -1) {
		name := name[1]
		subs := regexp.MustCompile(`edgectl `+name+` ([a-z]+)`).FindAllStringSubmatch(runOutput(t, bin, name, "--help"), -1)
		if len(subs) == 0 {
			commands = append(commands, name)
		}
		for _, s := range subs {
			if !slices.Contains(commands, name+" "+s[1]) {
				commands = append(commands, name+" "+s[1])
			}
		}
	}
	if len(commands) < 7 {
		t.Fatalf("found only the commands %v", commands)
	}
	flagLine := regexp.MustCompile(`(?m)^\s+-([a-z0-9.-]+)`)
	for _, c := range commands {
		_, section, ok := strings.Cut(page, `.SS "edgectl `+c+"\"\n")
		if !ok {
			t.Errorf("manual page has no section for %s", c)
			continue
		}
		section, _, _ = strings.Cut(section, ".SS ")
		help := runOutput(t, bin, append(strings.Fields(c), "--help")...)
		flags := flagLine.FindAllStringSubmatch(help, -1)
		if len(flags) == 0 {
			t.Errorf("edgectl %s --help shows no flags:\n%s", c, help)
		}
		for _, f := range flags {
			if !strings.Contains(section, `\fB--`+f[1]+`\fR`) {
				t.Errorf("manual page section of %s lacks --%s", c, f[1])
			}
		}
	}
}
