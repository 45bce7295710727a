package cgroup

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// unitDesc describes a family with one series per unit.
func unitDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{"unit"}, nil)
}

var (
	memoryDesc     = unitDesc("edge_unit_memory_bytes", "Memory charged to the unit's cgroup, page cache included (memory.current on cgroup v2, memory.usage_in_bytes on v1).")
	memoryMaxDesc  = unitDesc("edge_unit_memory_max_bytes", "Hard memory limit of the unit's cgroup (MemoryMax); absent when unlimited.")
	memoryHighDesc = unitDesc("edge_unit_memory_high_bytes", "Memory throttling limit of the unit's cgroup (MemoryHigh, cgroup v2 only); absent when unlimited.")
	cpuDesc        = unitDesc("edge_unit_cpu_seconds_total", "CPU time consumed by the unit's cgroup.")
	oomDesc        = unitDesc("edge_unit_oom_kills_total", "Processes of the unit's cgroup killed by the OOM killer; absent when the kernel does not report it.")
	ioWriteDesc    = unitDesc("edge_unit_io_write_bytes_total", "Bytes the unit's cgroup wrote to block devices, page-cache writeback included (wbytes of io.stat, cgroup v2, summed over devices); absent without IOAccounting.")
	controllerDesc = prometheus.NewDesc("edge_cgroup_controller_enabled",
		"1 when the kernel offers the cgroup controller (memory enforces MemoryMax/MemoryHigh, cpu enforces CPUQuota/CPUWeight), 0 when it is off and systemd silently drops those limits.",
		[]string{"controller"}, nil)
	infoDesc = prometheus.NewDesc("edge_unit_cgroup_info",
		"Units accounted in the slice, with the cgroup version the values come from.",
		[]string{"unit", "version"}, nil)
)

// Collector exports the accounting of a slice and its units. Values come from
// the last Update, so a scrape never touches the cgroup filesystem.
type Collector struct {
	reader Reader
	slice  string

	mu          sync.RWMutex
	updated     bool // an Update succeeded
	stats       []Stats
	controllers []Controller
}

// NoSlice is what the stack says when its slice has no cgroup because
// systemd did not start it (`make run`, or the daemon by hand): there is
// nothing to measure, and nothing enforces the budget.
func NoSlice(slice string) string {
	return fmt.Sprintf("Not running under systemd: there is no %s to measure, so no memory or CPU figures per unit and no memory budget; install the package for the budget.", slice)
}

// NewCollector returns a collector for slice (see Reader.Slice). It exports
// nothing until the first successful Update.
func NewCollector(r Reader, slice string) *Collector {
	return &Collector{reader: r, slice: slice}
}

// Update reads the cgroup files and replaces the values served by Collect. On
// error the previous values are kept and the error returned.
func (c *Collector) Update() error {
	controllers, err := c.reader.Detect()
	if err != nil {
		return err
	}
	stats, err := c.reader.Slice(c.slice)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stats, c.controllers, c.updated = stats, controllers, true
	c.mu.Unlock()
	return nil
}

// Warnings says, for people, which limits of the stack the kernel does not
// enforce and why, or that there is no slice at all, from the last
// successful Update; nil when all are enforced.
func (c *Collector) Warnings() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	if c.updated && len(c.stats) == 0 {
		out = append(out, NoSlice(c.slice))
	}
	for _, ctl := range c.controllers {
		if !ctl.Enabled {
			out = append(out, ctl.Warning())
		}
	}
	return out
}

// Stats returns the values of the last successful Update.
func (c *Collector) Stats() []Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]Stats(nil), c.stats...)
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{memoryDesc, memoryMaxDesc, memoryHighDesc, cpuDesc, oomDesc, ioWriteDesc, infoDesc, controllerDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, ctl := range c.controllers {
		v := 0.0
		if ctl.Enabled {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(controllerDesc, prometheus.GaugeValue, v, ctl.Name)
	}
	for _, s := range c.stats {
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, s.Unit, strconv.Itoa(s.Version))
		// Without memory accounting there is no value: absent, never 0.
		if s.MemoryBytes != nil {
			ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(*s.MemoryBytes), s.Unit)
		}
		if s.MemoryMax != nil {
			ch <- prometheus.MustNewConstMetric(memoryMaxDesc, prometheus.GaugeValue, float64(*s.MemoryMax), s.Unit)
		}
		if s.MemoryHigh != nil {
			ch <- prometheus.MustNewConstMetric(memoryHighDesc, prometheus.GaugeValue, float64(*s.MemoryHigh), s.Unit)
		}
		ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, s.CPUSeconds, s.Unit)
		if s.OOMKills != nil {
			ch <- prometheus.MustNewConstMetric(oomDesc, prometheus.CounterValue, float64(*s.OOMKills), s.Unit)
		}
		if s.IOWriteBytes != nil {
			ch <- prometheus.MustNewConstMetric(ioWriteDesc, prometheus.CounterValue, float64(*s.IOWriteBytes), s.Unit)
		}
	}
}
