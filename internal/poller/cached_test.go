package poller

import (
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
