package host

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// maxLabels is the most labels a host family has (node_network_route_info's seven).
const maxLabels = 7

// sample is one sample of a poll. Its label pairs belong to its series and
// are shared by every poll that has the series, as a const metric shares
// its own with every scrape: they are never changed once made.
type sample struct {
	desc  *prometheus.Desc
	pairs []*dto.LabelPair
	typ   prometheus.ValueType
	value float64
}

// Desc implements prometheus.Metric.
func (s *sample) Desc() *prometheus.Desc { return s.desc }

// Write implements prometheus.Metric as a const metric does.
func (s *sample) Write(m *dto.Metric) error {
	v := s.value
	m.Label = s.pairs
	if s.typ == prometheus.CounterValue {
		m.Counter = &dto.Counter{Value: &v}
	} else {
		m.Gauge = &dto.Gauge{Value: &v}
	}
	return nil
}

// seriesKey names a series without allocating: its family and label values.
type seriesKey struct {
	desc   *prometheus.Desc
	labels [maxLabels]string
}

// seriesCache keeps the label pairs of the series seen in the last poll,
// so that a poll makes pairs only for new series (a prometheus.NewConstMetric
// per sample made three allocations per label, every poll).
type seriesCache struct {
	pairs map[seriesKey]cachedPairs
	gen   uint32
}

type cachedPairs struct {
	pairs []*dto.LabelPair
	seen  uint32
}

// get returns the label pairs of a series, made and checked (label count,
// UTF-8) by prometheus.NewConstMetric the first time.
func (c *seriesCache) get(d *prometheus.Desc, t prometheus.ValueType, labels []string) ([]*dto.LabelPair, error) {
	if len(labels) > maxLabels {
		panic("host: a family with more than maxLabels labels")
	}
	k := seriesKey{desc: d}
	copy(k.labels[:], labels)
	if e, ok := c.pairs[k]; ok {
		e.seen = c.gen
		c.pairs[k] = e
		return e.pairs, nil
	}
	m, err := prometheus.NewConstMetric(d, t, 0, labels...)
	if err != nil {
		return nil, err
	}
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return nil, err
	}
	c.pairs[k] = cachedPairs{pairs: out.Label, seen: c.gen}
	return out.Label, nil
}

// sweep forgets the series the poll that just ended did not have.
func (c *seriesCache) sweep() {
	for k, e := range c.pairs {
		if e.seen != c.gen {
			delete(c.pairs, k)
		}
	}
	c.gen++
}
