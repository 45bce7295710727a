package poller

import (
	"maps"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

type errorKey struct{ source, reason string }

type errorCounts struct {
	mu sync.Mutex
	m  map[errorKey]uint64
}

func newErrorCounts() *errorCounts { return &errorCounts{m: map[errorKey]uint64{}} }

// CollectorReasons are the read errors a collector of a CollectorSet can
// count: it reads attributes once, without the sources' timeouts, CRC and
// range checks.
var CollectorReasons = []string{sensors.ReasonIO, sensors.ReasonVanished, sensors.ReasonEmpty, sensors.ReasonParse}

// reset keeps the counts of the given sources and collectors and forgets
// others. With zero, every reason each can count starts at zero so that
// rate() sees the first error; without, a count appears with its first error.
func (c *errorCounts) reset(sources, collectors []string, zero bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[errorKey]uint64{}
	keep := func(names, reasons []string) {
		for _, s := range names {
			for _, r := range reasons {
				k := errorKey{s, r}
				if n, ok := c.m[k]; ok || zero {
					m[k] = n
				}
			}
		}
	}
	keep(sources, sensors.Reasons)
	keep(collectors, CollectorReasons)
	c.m = m
}

// each calls f for every count, under the lock.
func (c *errorCounts) each(f func(errorKey, uint64)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.m {
		f(k, n)
	}
}

func (c *errorCounts) inc(source, reason string) {
	c.mu.Lock()
	c.m[errorKey{source, reason}]++
	c.mu.Unlock()
}

var (
	labelsSensor = []string{"sensor", "chip", "label", "source"}

	descReadErrors = prometheus.NewDesc("edge_sensor_read_errors_total",
		"Failed sensor reads by source and reason (io, vanished, empty, parse, range, crc, timeout).", []string{"source", "reason"}, nil)
	descLimitErrors = prometheus.NewDesc("edge_sensor_limit_read_errors_total",
		"Failed reads of sensors' own limits by source and reason (those of edge_sensor_read_errors_total); such a limit is not exported.", []string{"source", "reason"}, nil)
	descStale = prometheus.NewDesc("edge_sensor_stale",
		"1 when the sensor has had no good read for stale_after poll intervals.", []string{"sensor"}, nil)
	descLastUpdate = prometheus.NewDesc("edge_sensor_last_update_timestamp_seconds",
		"Time of the sensor's last good read.", []string{"sensor"}, nil)
	descCount = prometheus.NewDesc("edge_sensor_sensors",
		"Sensors found by each source in the last poll, failing ones included.", []string{"source"}, nil)
	descSuccess = prometheus.NewDesc("edge_sensor_scrape_collector_success",
		"1 when the source's or host collector's last read succeeded as a whole (finding nothing to read is a success).", []string{"collector"}, nil)
	descDuration = prometheus.NewDesc("edge_sensor_scrape_collector_duration_seconds",
		"How long the source's or host collector's last read took.", []string{"collector"}, nil)
	descLastPoll = prometheus.NewDesc("edge_sensor_poll_last_success_timestamp_seconds",
		"Time the last poll of all sources completed.", nil, nil)
	descPollDuration = prometheus.NewDesc("edge_sensor_poll_duration_seconds",
		"How long the last poll of all sources took.", nil, nil)
	descCPUSpike = prometheus.NewDesc("sensor_cpu_spike",
		"1 while host CPU use (from /proc/stat) is over the configured threshold.", nil, nil)
	descCPU = prometheus.NewDesc("edge_sensor_host_cpu_usage_ratio",
		"Host CPU use over the last poll interval, from /proc/stat.", nil, nil)

	kindDescs = func() map[sensors.Kind]*prometheus.Desc {
		m := map[sensors.Kind]*prometheus.Desc{}
		for k, info := range sensors.Kinds {
			m[k] = prometheus.NewDesc(info.Metric, info.Help, labelsSensor, nil)
		}
		return m
	}()
	// limitDescs are the gauges of sensors' own limits, one family per kind
	// beside the reading's, labelled with the limit's type.
	limitDescs = func() map[sensors.Kind]*prometheus.Desc {
		m := map[sensors.Kind]*prometheus.Desc{}
		for k, info := range sensors.Kinds {
			m[k] = prometheus.NewDesc(info.LimitMetric(),
				"The sensor's own limits as its driver reports them, in "+info.Unit+"; type: min, max, lcrit, crit, emergency (hwmon), or the lowest trip point of a thermal zone by kind: active, passive, hot, critical.",
				append(slices.Clone(labelsSensor), "type"), nil)
		}
		return m
	}()
)

// buildMetrics runs once per poll, under pollMu. A sample that cannot be
// built (a driver label that is not UTF-8) is left out and logged, instead
// of failing every scrape.
func (p *Poller) buildMetrics(v *View) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, 3*len(v.Sensors)+16)
	// This poll's limit samples go to the map of the poll before last.
	limits := p.limitSamplesNext
	clear(limits)
	defer func() { p.limitSamples, p.limitSamplesNext = limits, p.limitSamples }()
	add := func(d *prometheus.Desc, t prometheus.ValueType, val float64, l ...string) {
		m, err := prometheus.NewConstMetric(d, t, val, l...)
		if err != nil {
			p.log.Warn("sample left out", "metric", d.String(), "err", err)
			return
		}
		out = append(out, m)
	}
	for _, s := range v.Sensors {
		if s.Value != nil {
			add(kindDescs[sensors.Kind(s.Kind)], prometheus.GaugeValue, *s.Value, s.Name, s.Chip, s.Label, s.Source)
			out = append(out, p.limitSamplesOf(s, limits)...)
		}
		stale := 0.0
		if s.Status == StatusStale {
			stale = 1
		}
		add(descStale, prometheus.GaugeValue, stale, s.Name)
		if !s.Time.IsZero() {
			add(descLastUpdate, prometheus.GaugeValue, float64(s.Time.UnixNano())/1e9, s.Name)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(v.PerSource)) {
		st := v.PerSource[k]
		addOutcome(add, k, st)
		add(descCount, prometheus.GaugeValue, float64(st.count), k)
	}
	for _, k := range slices.Sorted(maps.Keys(v.PerCollector)) {
		addOutcome(add, k, v.PerCollector[k])
	}
	p.errs.each(func(k errorKey, n uint64) {
		add(descReadErrors, prometheus.CounterValue, float64(n), k.source, k.reason)
	})
	p.limitErrs.each(func(k errorKey, n uint64) {
		add(descLimitErrors, prometheus.CounterValue, float64(n), k.source, k.reason)
	})
	add(descLastPoll, prometheus.GaugeValue, float64(v.Time.UnixNano())/1e9)
	add(descPollDuration, prometheus.GaugeValue, v.Duration.Seconds())
	spike := 0.0
	if v.CPUSpike {
		spike = 1
	}
	add(descCPUSpike, prometheus.GaugeValue, spike)
	if v.CPU >= 0 {
		add(descCPU, prometheus.GaugeValue, v.CPU)
	}
	return out
}

// limitSamples are the limit samples of one sensor, built from its Limits.
type limitSamples struct {
	limits              sensors.Limits
	chip, label, source string
	metrics             []prometheus.Metric
}

// limitSamplesOf returns the limit samples of s and records them in next.
// Sources hand out the same Limits slice for as long as they keep a
// sensor's limits, so last poll's samples are reused while the slice and
// the sensor's labels are unchanged, instead of being built every poll.
func (p *Poller) limitSamplesOf(s Sensor, next map[string]limitSamples) []prometheus.Metric {
	if len(s.Limits) == 0 {
		return nil
	}
	prev, ok := p.limitSamples[s.Name]
	if ok && prev.chip == s.Chip && prev.label == s.Label && prev.source == s.Source &&
		len(prev.limits) == len(s.Limits) && &prev.limits[0] == &s.Limits[0] {
		next[s.Name] = prev
		return prev.metrics
	}
	e := limitSamples{limits: s.Limits, chip: s.Chip, label: s.Label, source: s.Source,
		metrics: make([]prometheus.Metric, 0, len(s.Limits))}
	d := limitDescs[sensors.Kind(s.Kind)]
	for _, l := range s.Limits {
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, l.Value, s.Name, s.Chip, s.Label, s.Source, l.Type)
		if err != nil {
			p.log.Warn("sample left out", "metric", d.String(), "err", err)
			continue
		}
		e.metrics = append(e.metrics, m)
	}
	next[s.Name] = e
	return e.metrics
}

// addOutcome adds the success and duration of one source or collector.
func addOutcome(add func(*prometheus.Desc, prometheus.ValueType, float64, ...string), name string, st sourceStat) {
	ok := 0.0
	if st.ok {
		ok = 1
	}
	add(descSuccess, prometheus.GaugeValue, ok, name)
	add(descDuration, prometheus.GaugeValue, st.duration.Seconds(), name)
}

// Collector exposes the latest View; it does no I/O.
type Collector struct{ P *Poller }

// Describe implements prometheus.Collector. The set of series changes with
// the hardware, so the collector is unchecked.
func (Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.P.View().metrics {
		ch <- m
	}
}
