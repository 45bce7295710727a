package main

import (
	"math"
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
