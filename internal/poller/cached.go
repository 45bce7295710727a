package poller

import (
	"errors"
	"regexp"
	"slices"
	"strings"
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
	return collectorErrors(err)
}

// collectorErrors keeps what the collectors said went wrong, which names
// the file, and drops what client_golang wraps around it: the dump of the
// metric's descriptor ("error collecting metric Desc{fqName: ...}: ") and
// the number of the gatherer ("[from Gatherer #2] ").
func collectorErrors(err error) error {
	var multi prometheus.MultiError
	if !errors.As(err, &multi) {
		return err
	}
	var msgs []string
	for _, e := range multi {
		for gatherWrapper.MatchString(e.Error()) && errors.Unwrap(e) != nil {
			e = errors.Unwrap(e)
		}
		if !slices.Contains(msgs, e.Error()) {
			msgs = append(msgs, e.Error())
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

// gatherWrapper matches the start of the errors client_golang's Registry
// and Gatherers wrap a collector's error in.
var gatherWrapper = regexp.MustCompile(`^(\[from Gatherer #\d+\] |error collecting metric Desc\{)`)

// Gather implements prometheus.Gatherer.
func (c *CachedGatherer) Gather() ([]*dto.MetricFamily, error) {
	if p := c.mfs.Load(); p != nil {
		return *p, nil
	}
	return nil, nil
}
