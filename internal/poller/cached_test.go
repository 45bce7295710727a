package poller

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCachedGathererServesLastPoll(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	reg.MustRegister(c)
	g := &CachedGatherer{G: reg}
	if mfs, _ := g.Gather(); len(mfs) != 0 {
		t.Fatal("nothing before the first poll")
	}
	c.Inc()
	g.Update()
	c.Inc() // not visible until the next poll
	mfs, err := g.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Fatalf("%v %v", mfs, err)
	}
	g.Update()
	if mfs, _ := g.Gather(); mfs[0].GetMetric()[0].GetCounter().GetValue() != 2 {
		t.Fatal("second poll not served")
	}
}

type failingCollector struct{ desc *prometheus.Desc }

func (f failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("cannot read the daemon's CPU and memory use from /x/self/stat: no such file or directory"))
}

// A collector's failure is reported as the collector words it, not with
// the dump of the metric's descriptor Gather wraps around it.
func TestCachedGathererErrorNamesTheFile(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(failingCollector{prometheus.NewDesc("process_cpu_seconds_total", "CPU.", nil, nil)},
		failingCollector{prometheus.NewDesc("process_resident_memory_bytes", "RSS.", nil, nil)})
	want := "cannot read the daemon's CPU and memory use from /x/self/stat: no such file or directory"
	for _, g := range []prometheus.Gatherer{reg, prometheus.Gatherers{prometheus.NewRegistry(), reg}} {
		if err := (&CachedGatherer{G: g}).Update(); err == nil || err.Error() != want {
			t.Errorf("%T: error %q, want %q", g, err, want)
		}
	}
}
