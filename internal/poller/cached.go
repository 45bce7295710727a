package poller

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// CachedGatherer gathers a registry once per poll (as an Updater) and serves
// that result to every scrape. It is for the Go and process collectors,
// which read /proc on each gather and would otherwise cost more CPU per
// scrape than all the sensor data together.
type CachedGatherer struct {
	G   prometheus.Gatherer
	mfs atomic.Pointer[[]*dto.MetricFamily]
}

// Update implements poller.Updater.
func (c *CachedGatherer) Update() error {
	mfs, err := c.G.Gather()
	c.mfs.Store(&mfs) // what could be gathered is served even on error
	return err
}

// Gather implements prometheus.Gatherer.
func (c *CachedGatherer) Gather() ([]*dto.MetricFamily, error) {
	if p := c.mfs.Load(); p != nil {
		return *p, nil
	}
	return nil, nil
}
