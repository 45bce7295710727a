package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Reading the Prometheus text format that exporters answer on /metrics.

// parseExposition parses text exposition into its metric families by name.
func parseExposition(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// sampleValue is a sample's value as the exposition writes it.
func sampleValue(m *dto.Metric) string {
	var v float64
	switch {
	case m.Gauge != nil:
		v = m.GetGauge().GetValue()
	case m.Counter != nil:
		v = m.GetCounter().GetValue()
	default:
		v = m.GetUntyped().GetValue()
	}
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// sampleOf is the value of the family's first sample whose label has value.
func sampleOf(f *dto.MetricFamily, label, value string) (string, bool) {
	for _, m := range f.GetMetric() {
		if labelsOf(m)[label] == value {
			return sampleValue(m), true
		}
	}
	return "", false
}

// samplesBy lists the family's samples that keep accepts (nil: all) as
// "LABEL-VALUE=VALUE", in the exposition's order, separated by spaces.
func samplesBy(f *dto.MetricFamily, label string, keep func(map[string]string) bool) string {
	var out []string
	for _, m := range f.GetMetric() {
		l := labelsOf(m)
		if keep == nil || keep(l) {
			out = append(out, l[label]+"="+sampleValue(m))
		}
	}
	return strings.Join(out, " ")
}

// samplesCmd prints the samples of the Prometheus text format on stdin whose
// series name (a histogram's or summary's _bucket, _sum and _count included)
// matches one of the regular expressions, by metric name: their
// values one a line, or with -series "SERIES VALUE" lines as the text has
// them, or with -sum their sum (nothing when none matched).
//
//	benchtool samples [-sum] [-series] NAME-REGEXP... < exposition
func samplesCmd(args []string) error {
	fs := flag.NewFlagSet("samples", flag.ExitOnError)
	sum := fs.Bool("sum", false, "print the sum of the samples")
	series := fs.Bool("series", false, `print "SERIES VALUE" lines`)
	fs.Parse(args)
	if fs.NArg() == 0 {
		return fmt.Errorf("want NAME-REGEXP...")
	}
	re, err := regexp.Compile("^(" + strings.Join(fs.Args(), "|") + ")$")
	if err != nil {
		return err
	}
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	ss, err := allSamples(string(b))
	if err != nil {
		return err
	}
	total, n := 0.0, 0
	for _, s := range ss {
		if !re.MatchString(s.name) {
			continue
		}
		total, n = total+s.value, n+1
		switch {
		case *sum:
		case *series:
			fmt.Printf("%s%s %s\n", s.name, s.labels, plain(s.value))
		default:
			fmt.Println(plain(s.value))
		}
	}
	if *sum && n > 0 {
		fmt.Println(plain(total))
	}
	return nil
}

// plain writes a value without an exponent, so that the shell can take its
// whole part with ${v%.*}.
func plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

type sample struct {
	name, labels string // labels as the text writes them, "" or {a="b",...}
	value        float64
}

// allSamples lists every sample of the text, by metric name.
func allSamples(text string) ([]sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	var out []sample
	// By name, as client_golang writes them.
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		out = append(out, familySamples(fams[name])...)
	}
	return out, nil
}

// familySamples are the samples of a family as the text format writes them.
func familySamples(f *dto.MetricFamily) []sample {
	var out []sample
	name := f.GetName()
	for _, m := range f.GetMetric() {
		ls := labelText(m, "", "")
		switch f.GetType() {
		case dto.MetricType_SUMMARY:
			for _, q := range m.GetSummary().GetQuantile() {
				out = append(out, sample{name, labelText(m, "quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)), q.GetValue()})
			}
			out = append(out, sample{name + "_sum", ls, m.GetSummary().GetSampleSum()}, sample{name + "_count", ls, float64(m.GetSummary().GetSampleCount())})
		case dto.MetricType_HISTOGRAM:
			for _, b := range m.GetHistogram().GetBucket() {
				out = append(out, sample{name + "_bucket", labelText(m, "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)), float64(b.GetCumulativeCount())})
			}
			out = append(out, sample{name + "_sum", ls, m.GetHistogram().GetSampleSum()}, sample{name + "_count", ls, float64(m.GetHistogram().GetSampleCount())})
		default:
			v, _ := strconv.ParseFloat(sampleValue(m), 64)
			out = append(out, sample{name, ls, v})
		}
	}
	return out
}

// labelText writes the sample's labels, and extra=value after them when
// extra is not "", as the text format does.
func labelText(m *dto.Metric, extra, value string) string {
	var parts []string
	for _, p := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", p.GetName(), p.GetValue()))
	}
	if extra != "" {
		parts = append(parts, fmt.Sprintf("%s=%q", extra, value))
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}
