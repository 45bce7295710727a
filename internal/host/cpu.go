package host

import (
	"slices"
	"strconv"

	"github.com/prometheus/procfs"
)

var cpuSecondsDesc = desc("node_cpu_seconds_total", "Seconds the CPUs spent in each mode, from /proc/stat.", "cpu", "mode")

// cpuModes are the modes of node_cpu_seconds_total, in /proc/stat's order.
var cpuModes = [...]string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}

type cpuTimes [len(cpuModes)]float64

// jumpBack is how far idle time may go back before node_exporter takes
// the CPU for hot-plugged and starts it again from the new counters.
const jumpBack = 3.0

// cpuCollector exports node_cpu_seconds_total (node_exporter's cpu
// collector, without the guest and info families). Some kernels let a
// CPU's idle or iowait time go back a little; as node_exporter does, a
// counter keeps its highest value, so rate() never sees a reset.
type cpuCollector struct {
	env  *env
	last map[int64]*cpuTimes
	ids  []int64
	// labels holds each CPU's label value, made once.
	labels map[int64]string
}

func newCPU(e *env) collector {
	return &cpuCollector{env: e, last: map[int64]*cpuTimes{}, labels: map[int64]string{}}
}

func (c *cpuCollector) update(p *poll) error {
	st, err := p.procStat(c.env)
	if err != nil {
		return err
	}
	c.ids = c.ids[:0]
	for id := range st.CPU {
		c.ids = append(c.ids, id)
	}
	slices.Sort(c.ids)
	for _, id := range c.ids {
		t := c.monotonic(id, st.CPU[id])
		label, ok := c.labels[id]
		if !ok {
			label = strconv.FormatInt(id, 10)
			c.labels[id] = label
		}
		for i, mode := range cpuModes {
			p.counter(cpuSecondsDesc, t[i], label, mode)
		}
	}
	return nil
}

// monotonic folds a CPU's new times into the highest seen so far.
func (c *cpuCollector) monotonic(id int64, s procfs.CPUStat) *cpuTimes {
	now := cpuTimes{s.User, s.Nice, s.System, s.Idle, s.Iowait, s.IRQ, s.SoftIRQ, s.Steal}
	last := c.last[id]
	if last == nil || last[3]-now[3] >= jumpBack {
		last = &now
		c.last[id] = last
		return last
	}
	for i := range now {
		last[i] = max(last[i], now[i])
	}
	return last
}
