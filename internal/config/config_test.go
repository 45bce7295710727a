package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var known = []string{"hwmon", "thermal", "iio", "w1"}

func TestParseValid(t *testing.T) {
	in := `# edge-sensord
poll_interval: 2s
stale_after: 4
cpu_spike_threshold: 0.75
sources:
  w1: false
ignore:
  - hwmon_acpitz_.*
`
	c, err := Parse("c.yml", []byte(in), Default(), known)
	if err != nil {
		t.Fatal(err)
	}
	if c.PollInterval != 2*time.Second || c.StaleAfter != 4 || c.CPUSpikeThreshold != 0.75 {
		t.Fatalf("got %+v", c)
	}
	if c.SourceEnabled("w1") || !c.SourceEnabled("hwmon") {
		t.Fatalf("sources: %v", c.Sources)
	}
	if !c.Ignored("hwmon_acpitz_temp1") || c.Ignored("xhwmon_acpitz_temp1") || c.Ignored("hwmon_coretemp_temp1") {
		t.Fatal("ignore list must match whole names only")
	}
}

func TestParseEmptyMeansDefaults(t *testing.T) {
	for _, in := range []string{"", "# all commented\n#poll_interval: 1s\n", "---\n"} {
		c, err := Parse("c.yml", []byte(in), Default(), known)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if c.PollInterval != Default().PollInterval {
			t.Fatalf("%q: got %v", in, c.PollInterval)
		}
	}
}

func TestParseErrorsNameFileLineField(t *testing.T) {
	cases := []struct{ in, want string }{
		{"poll_interval: 5s\npoll_intervall: 3s\n", `c.yml:2: field "poll_intervall": unknown field`},
		{"poll_interval: fast\n", `c.yml:1: field "poll_interval": not a duration`},
		{"\n\npoll_interval: 10ms\n", `c.yml:3: field "poll_interval": must be between`},
		{"stale_after: 0\n", `c.yml:1: field "stale_after"`},
		{"cpu_spike_threshold: 1.5\n", `c.yml:1: field "cpu_spike_threshold"`},
		{"sources:\n  hwmon: true\n  gpio: true\n", `c.yml:3: field "sources.gpio": unknown source`},
		{"sources:\n  hwmon: maybe\n", `c.yml:2: field "sources.hwmon": must be true or false`},
		{"ignore:\n  - ok\n  - '(['\n", `c.yml:3: field "ignore": bad regular expression`},
		{"poll_interval: [1\n", `c.yml:1:`},
		{"- a\n- b\n", `c.yml:1: expected a mapping`},
		{"stale_after: 10000000000\n", `c.yml:1: field "stale_after"`},
		{"cpu_spike_threshold: .nan\n", `c.yml:1: field "cpu_spike_threshold"`},
		{"sources:\n  w1:\n", `c.yml:2: field "sources.w1": must be true or false`},
		{"poll_interval: 5s\npoll_interval: 1s\n", `c.yml:2: field "poll_interval": set twice`},
		{"poll_interval: 5s\n---\npoll_interval: 1s\n", `c.yml:2: more than one YAML document`},
	}
	for _, c := range cases {
		_, err := Parse("c.yml", []byte(c.in), Default(), known)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got error %v, want prefix %q", c.in, err, c.want)
		}
	}
}

// A bad pattern is reported with what the user wrote, not with the anchors
// the daemon puts around it ("missing closing ]: `[)$`"); and those anchors
// cannot be escaped by a pattern that only compiles inside them.
func TestIgnoreErrorsQuoteTheUsersPattern(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ignore:\n  - ok\n  - '(['\n", `c.yml:3: field "ignore": bad regular expression "([": missing closing ] in "["`},
		{"ignore:\n  - 'a)|(b'\n", `c.yml:2: field "ignore": bad regular expression "a)|(b": unexpected ) in "a)|(b"`},
		{"ignore:\n  - [a]\n", `c.yml:2: field "ignore": expected a regular expression, got a list or a mapping`},
	} {
		_, err := Parse("c.yml", []byte(c.in), Default(), known)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"), Default(), known)
	if !os.IsNotExist(err) {
		t.Fatalf("got %v", err)
	}
}
