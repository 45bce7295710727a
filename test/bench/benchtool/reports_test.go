package main

import (
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/golden"
)

// The reports of run.sh's footprint, shipped and faults parts, from the raw
// results of one short run (testdata/PART/) to the markdown it printed.
func TestRunReports(t *testing.T) {
	machine := "Machine: 2 CPUs, AMD EPYC, kernel 6.18.44-fc-v1272, go1.26.8, node_exporter 1.5.0-1+b6, wrk 4.1.0-3+b2."
	for _, tc := range []struct {
		part  string
		write func(*strings.Builder) error
	}{
		{"footprint", func(b *strings.Builder) error {
			return writeFootprint(b, "testdata/footprint", runInfo{machine, "22.52 22.39 19.68", "22.57 20.94 19.85"}, "100ms")
		}},
		{"shipped", func(b *strings.Builder) error {
			return writeShipped(b, "testdata/shipped", runInfo{machine, "21.53 20.87 19.87", "21.52 20.94 19.92"}, "")
		}},
		{"faults", func(b *strings.Builder) error {
			return writeFaults(b, "testdata/faults", runInfo{"", "21.16 20.87 19.91", "16.70 19.77 19.59"}, "/tmp/edgebench.bnGS8f/sysfs")
		}},
	} {
		t.Run(tc.part, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.part+".md", b.String())
		})
	}
}

func TestReportHelpers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{spread([]float64{3, 1, 2, 10}), "2.5 (1–10)"},
		{spread(nil), "–"},
		{cellRatio("1.5 (1–2)", "3"), "0.50"},
		{cellRatio("4", "0"), "n/a"},
		{cellRatio("–", "3"), "n/a"},
		{perScrape("259", "10"), "25.9"},
		{perScrape("", "10"), "–"},
		{row("a", "", "b"), "| a | | b |"},
		{thousands("10000"), "10"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// A snapshot whose /sensor answer is not JSON (the sensor not found) still
// makes a row, with "?" where the answer says nothing.
func TestFaultRowOfAMissingSensor(t *testing.T) {
	s := snapshot{sensor: "x", healthz: "200", sensorJSON: "not found\n", metrics: "sensor_failed_events_total{reason=\"stale\"} 2\n"}
	got, err := s.row("gone", strings.NewReplacer())
	if err != nil {
		t.Fatal(err)
	}
	if want := "| gone | ? | ? | – | absent | | stale=2 | 200 |"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAllSamples(t *testing.T) {
	text := `# TYPE a_seconds summary
a_seconds{quantile="0.5"} 0.25
a_seconds_sum 1.5
a_seconds_count 3
# TYPE b histogram
b_bucket{le="1"} 2
b_bucket{le="+Inf"} 4
b_sum 7
b_count 4
c_total{reason="x y"} 1e+06
c_total{reason="z"} 2
`
	ss, err := allSamples(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ss {
		got = append(got, s.name+s.labels+" "+plain(s.value))
	}
	want := []string{`a_seconds{quantile="0.5"} 0.25`, "a_seconds_sum 1.5", "a_seconds_count 3",
		`b_bucket{le="1"} 2`, `b_bucket{le="+Inf"} 4`, "b_sum 7", "b_count 4",
		`c_total{reason="x y"} 1000000`, `c_total{reason="z"} 2`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := allSamples("a{ 1\n"); err == nil {
		t.Error("no error for text the parser rejects")
	}
}
