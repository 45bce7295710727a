package host

import (
	"path/filepath"

	"github.com/prometheus/procfs"
)

var (
	load1Desc  = desc("node_load1", "Load average over 1 minute, from /proc/loadavg.")
	load5Desc  = desc("node_load5", "Load average over 5 minutes, from /proc/loadavg.")
	load15Desc = desc("node_load15", "Load average over 15 minutes, from /proc/loadavg.")
)

// loadavgCollector is node_exporter's loadavg collector.
type loadavgCollector struct {
	proc procfs.FS
	path string
}

func newLoadavg(e *env) collector {
	return &loadavgCollector{proc: e.proc, path: filepath.Join(e.procfs, "loadavg")}
}

func (c *loadavgCollector) update(p *poll) error {
	l, err := c.proc.LoadAvg()
	if err != nil {
		return inFile(c.path, err)
	}
	p.gauge(load1Desc, l.Load1)
	p.gauge(load5Desc, l.Load5)
	p.gauge(load15Desc, l.Load15)
	return nil
}
