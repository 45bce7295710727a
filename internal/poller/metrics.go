package poller

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

// Events is sensor_failed_events_total. Its name and reasons are kept as the
// seed service had them so existing dashboards keep working.
type Events struct {
	vec     *prometheus.CounterVec
	changes atomic.Uint64
}

// NewEvents creates the counter with every reason present at 0, so that
// rate() works from the first scrape.
func NewEvents() *Events {
	e := &Events{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sensor_failed_events_total",
		Help: "Failure events by reason: read_error (a sensor read failed), stale (a sensor went stale), route_error (an HTTP handler failed), cpu_spike (host CPU went over the threshold).",
	}, []string{"reason"})}
	for _, r := range []string{EventReadError, EventStale, EventRouteError, EventCPUSpike} {
		e.vec.WithLabelValues(r)
	}
	return e
}

// Inc counts one event.
func (e *Events) Inc(reason string) {
	e.vec.WithLabelValues(reason).Inc()
	e.changes.Add(1)
}

// Changes counts Inc calls, so a cache of the exposition knows when the
// counters moved.
func (e *Events) Changes() uint64 { return e.changes.Load() }

// Value reads a count back (for status lines and tests).
func (e *Events) Value(reason string) float64 {
	var m dto.Metric
	_ = e.vec.WithLabelValues(reason).Write(&m)
	return m.GetCounter().GetValue()
}

// Describe implements prometheus.Collector.
func (e *Events) Describe(ch chan<- *prometheus.Desc) { e.vec.Describe(ch) }

// Collect implements prometheus.Collector.
func (e *Events) Collect(ch chan<- prometheus.Metric) { e.vec.Collect(ch) }

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

// reset keeps the counts of the given sources and collectors, forgets
// others, and starts every reason each can count at zero so that rate()
// sees the first error.
func (c *errorCounts) reset(sources, collectors []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[errorKey]uint64{}
	zero := func(names, reasons []string) {
		for _, s := range names {
			for _, r := range reasons {
				k := errorKey{s, r}
				m[k] = c.m[k]
			}
		}
	}
	zero(sources, sensors.Reasons)
	zero(collectors, CollectorReasons)
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
	for _, k := range slices.Sorted(maps.Keys(v.PerSource)) {
		st := v.PerSource[k]
		addOutcome(add, k, st)
		add(descCount, prometheus.GaugeValue, float64(st.count), k)
	}
	for _, k := range slices.Sorted(maps.Keys(v.PerCollector)) {
		addOutcome(add, k, v.PerCollector[k])
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
