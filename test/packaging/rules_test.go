package packaging

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The shipped rule files (etc/prometheus/rules/*.yml, installed in /etc/edge-observability/rules/)
// and their promtool tests (etc/prometheus/rules/tests/*.test.yml). promtool itself checks and
// runs them in test/packaging/run.sh; these are the checks promtool does not make.

const (
	rulesDir   = "../../etc/prometheus/rules"
	runbookDoc = "../../docs/ALERTS.md"
	runbookURL = "https://github.com/edgeobs/edge-observability-stack/blob/main/docs/ALERTS.md#"
)

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// shippedRules returns the rules of every shipped rule file, by file name.
func shippedRules(t *testing.T) map[string][]rule {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("rule files: %v %v", files, err)
	}
	out := map[string][]rule{}
	for _, f := range files {
		var rf struct {
			Groups []struct {
				Rules []rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		readYAML(t, f, &rf)
		for _, g := range rf.Groups {
			out[filepath.Base(f)] = append(out[filepath.Base(f)], g.Rules...)
		}
	}
	return out
}

// Every alert has a severity people can route on, a summary, a description and a runbook link to
// its own entry in docs/ALERTS.md, and every entry there is an alert.
func TestAlertsAnnotatedAndInRunbook(t *testing.T) {
	doc, err := os.ReadFile(runbookDoc)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### (\w+)$`).FindAllStringSubmatch(string(doc), -1) {
		entries[m[1]] = true
	}
	alerts := 0
	for file, rules := range shippedRules(t) {
		for _, r := range rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("%s: %s: severity %q, want critical, warning or info", file, r.Alert, r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description"} {
				if len(r.Annotations[a]) < 20 {
					t.Errorf("%s: %s: annotation %s is %q", file, r.Alert, a, r.Annotations[a])
				}
			}
			if want := runbookURL + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
				t.Errorf("%s: %s: runbook_url %q, want %q", file, r.Alert, r.Annotations["runbook_url"], want)
			}
			if !entries[r.Alert] {
				t.Errorf("%s: %s has no \"### %s\" entry in docs/ALERTS.md", file, r.Alert, r.Alert)
			}
			delete(entries, r.Alert)
		}
	}
	for e := range entries {
		t.Errorf("docs/ALERTS.md has an entry for %s, which is no shipped alert", e)
	}
	if alerts < 20 {
		t.Errorf("only %d alerts found", alerts)
	}
}

// Every alert is tested firing and not firing by the promtool tests.
func TestEveryAlertTestedFiringAndQuiet(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(rulesDir, "tests", "*.test.yml"))
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		var tf struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `yaml:"alertname"`
					ExpAlerts []any  `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		readYAML(t, f, &tf)
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for file, rules := range shippedRules(t) {
		for _, r := range rules {
			if r.Alert != "" && (!firing[r.Alert] || !quiet[r.Alert]) {
				t.Errorf("%s: %s: tested firing %v, not firing %v; want both in tests/*.test.yml", file, r.Alert, firing[r.Alert], quiet[r.Alert])
			}
		}
	}
}

var (
	userThreshold  = regexp.MustCompile(`edge:threshold:([a-z_]+)`)
	alertThreshold = regexp.MustCompile(`edge:alert_threshold:([a-z_]+)`)
)

// The thresholds edge-device.yml reads are those thresholds.yml documents for you to set, and every
// threshold an alert compares with is recorded.
func TestThresholdsDocumented(t *testing.T) {
	rules := shippedRules(t)
	used, recorded := map[string]bool{}, map[string]bool{}
	for _, r := range rules["edge-device.yml"] {
		for _, m := range userThreshold.FindAllStringSubmatch(r.Expr, -1) {
			used[m[1]] = true
		}
		if n, ok := strings.CutPrefix(r.Record, "edge:alert_threshold:"); ok {
			recorded[n] = true
		}
	}
	b, err := os.ReadFile(filepath.Join(rulesDir, "thresholds.yml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#   ([a-z_]+)  +`).FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	delete(documented, "name") // the table's heading
	for n := range used {
		if !documented[n] {
			t.Errorf("edge-device.yml reads edge:threshold:%s, which thresholds.yml does not document", n)
		}
	}
	for n := range documented {
		if !used[n] {
			t.Errorf("thresholds.yml documents %s, which edge-device.yml does not read", n)
		}
	}
	for _, r := range rules["edge-device.yml"] {
		for _, m := range alertThreshold.FindAllStringSubmatch(r.Expr, -1) {
			if r.Alert != "" && !recorded[m[1]] {
				t.Errorf("%s compares with edge:alert_threshold:%s, which no rule records", r.Alert, m[1])
			}
		}
	}
	if len(used) < 10 {
		t.Errorf("only %d thresholds read: %v", len(used), used)
	}
}

// The override the promtool tests load is the shipped thresholds.yml with its examples
// uncommented, so the examples people copy are the ones tested.
func TestThresholdExamplesAreTested(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join(rulesDir, "thresholds.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tested, err := os.ReadFile(filepath.Join(rulesDir, "tests", "thresholds-examples.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	examples := false
	for _, l := range strings.Split(string(shipped), "\n") {
		switch {
		case examples:
			l = strings.TrimPrefix(l, "#")
		case l == "groups: []":
			l, examples = "groups:", true
		}
		out = append(out, l)
	}
	if !examples {
		t.Fatal(`thresholds.yml has no "groups: []" line: it must load as an empty rule file`)
	}
	if want := strings.Join(out, "\n"); string(tested) != want {
		t.Errorf("tests/thresholds-examples.yml is not thresholds.yml with its examples uncommented; regenerate it:\n" +
			`awk 'done { sub(/^#/, ""); print; next } /^groups: \[\]$/ { print "groups:"; done = 1; next } { print }' thresholds.yml >tests/thresholds-examples.yml`)
	}
}
