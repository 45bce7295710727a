package poller

import (
	"sort"
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

// reset keeps the counts of the given sources, forgets others, and starts
// every reason of every source at zero so that rate() sees the first error.
func (c *errorCounts) reset(srcs []sensors.Source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[errorKey]uint64{}
	for _, s := range srcs {
		for _, r := range sensors.Reasons {
			k := errorKey{s.Name(), r}
			m[k] = c.m[k]
		}
	}
	c.m = m
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
	descStale = prometheus.NewDesc("edge_sensor_stale",
		"1 when the sensor has had no good read for stale_after poll intervals.", []string{"sensor"}, nil)
	descLastUpdate = prometheus.NewDesc("edge_sensor_last_update_timestamp_seconds",
		"Time of the sensor's last good read.", []string{"sensor"}, nil)
	descCount = prometheus.NewDesc("edge_sensor_sensors",
		"Sensors found by each source in the last poll, failing ones included.", []string{"source"}, nil)
	descSuccess = prometheus.NewDesc("edge_sensor_scrape_collector_success",
		"1 when the source's last read succeeded as a whole.", []string{"collector"}, nil)
	descDuration = prometheus.NewDesc("edge_sensor_scrape_collector_duration_seconds",
		"How long the source's last read took.", []string{"collector"}, nil)
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
)

// buildMetrics runs once per poll, under pollMu. A sample that cannot be
// built (a driver label that is not UTF-8) is left out and logged, instead
// of failing every scrape.
func (p *Poller) buildMetrics(v *View) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, 3*len(v.Sensors)+16)
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
	srcs := make([]string, 0, len(v.PerSource))
	for k := range v.PerSource {
		srcs = append(srcs, k)
	}
	sort.Strings(srcs)
	for _, k := range srcs {
		st := v.PerSource[k]
		ok := 0.0
		if st.ok {
			ok = 1
		}
		add(descSuccess, prometheus.GaugeValue, ok, k)
		add(descDuration, prometheus.GaugeValue, st.duration.Seconds(), k)
		add(descCount, prometheus.GaugeValue, float64(st.count), k)
	}
	p.errs.mu.Lock()
	for k, n := range p.errs.m {
		add(descReadErrors, prometheus.CounterValue, float64(n), k.source, k.reason)
	}
	p.errs.mu.Unlock()
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
