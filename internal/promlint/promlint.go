// Package promlint holds an exposition to Prometheus's own linter,
// `promtool check metrics`, for the tests that check /metrics with it.
package promlint

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// kept are promtool's findings on node_exporter's own names, which the host
// collectors keep so that dashboards and alert rules written for
// node_exporter work: node_memory_MemTotal_bytes is not snake_case.
var kept = regexp.MustCompile(`^node_memory_[A-Za-z]+_bytes metric names should be written in 'snake_case' not 'camelCase'$`)

// lintExitCode is promtool's exit status when it found lint problems and
// no error.
const lintExitCode = 3

// Check runs promtool check metrics on an exposition in the text format and
// returns what it finds, but for node_exporter's names.
func Check(exposition []byte) error {
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != lintExitCode {
		return fmt.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if p := Problems(string(out)); len(p) > 0 {
		return fmt.Errorf("promtool check metrics: %s", strings.Join(p, "\n"))
	}
	return nil
}

// Problems are the lines of promtool's lint output that are not about
// node_exporter's names.
func Problems(lint string) []string {
	var out []string
	for _, l := range strings.Split(lint, "\n") {
		if l = strings.TrimSpace(l); l != "" && !kept.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}
