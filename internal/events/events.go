// Package events counts the daemon's failure events in one counter,
// sensor_failed_events_total{reason}: the poller's failed reads, stale
// sensors and CPU spikes, and the HTTP handlers' failures. Its name and
// reasons are kept as the seed service had them so existing dashboards keep
// working.
package events

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The reasons, kept from the metric's original users' dashboards.
const (
	ReadError  = "read_error"  // a sensor read failed
	Stale      = "stale"       // a sensor went stale
	RouteError = "route_error" // an HTTP handler failed
	CPUSpike   = "cpu_spike"   // host CPU went over the threshold
)

// Counter is sensor_failed_events_total.
type Counter struct {
	vec     *prometheus.CounterVec
	changes atomic.Uint64
}

// New creates the counter with every reason present at 0, so that rate()
// works from the first scrape.
func New() *Counter {
	c := &Counter{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sensor_failed_events_total",
		Help: "Failure events by reason: read_error (a sensor read failed), stale (a sensor went stale), route_error (an HTTP handler failed), cpu_spike (host CPU went over the threshold).",
	}, []string{"reason"})}
	for _, r := range []string{ReadError, Stale, RouteError, CPUSpike} {
		c.vec.WithLabelValues(r)
	}
	return c
}

// Inc counts one event.
func (c *Counter) Inc(reason string) {
	c.vec.WithLabelValues(reason).Inc()
	c.changes.Add(1)
}

// Changes counts Inc calls, so a cache of the exposition knows when the
// counters moved.
func (c *Counter) Changes() uint64 { return c.changes.Load() }

// Value reads a count back (for status lines and tests).
func (c *Counter) Value(reason string) float64 {
	var m dto.Metric
	_ = c.vec.WithLabelValues(reason).Write(&m)
	return m.GetCounter().GetValue()
}

// Describe implements prometheus.Collector.
func (c *Counter) Describe(ch chan<- *prometheus.Desc) { c.vec.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Counter) Collect(ch chan<- prometheus.Metric) { c.vec.Collect(ch) }
