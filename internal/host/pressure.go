package host

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// pressureFamilies are node_exporter 1.5's PSI families: the total stall
// time of /proc/pressure/<resource>, "some" and, but for cpu, "full".
var pressureFamilies = []struct {
	resource   string
	some, full *prometheus.Desc
}{
	{"cpu", desc("node_pressure_cpu_waiting_seconds_total", "Time in seconds some runnable tasks waited for a CPU (PSI some, /proc/pressure/cpu)."), nil},
	{"io",
		desc("node_pressure_io_waiting_seconds_total", "Time in seconds some tasks waited for I/O (PSI some, /proc/pressure/io)."),
		desc("node_pressure_io_stalled_seconds_total", "Time in seconds all non-idle tasks stalled on I/O at once (PSI full, /proc/pressure/io).")},
	{"memory",
		desc("node_pressure_memory_waiting_seconds_total", "Time in seconds some tasks waited for memory (PSI some, /proc/pressure/memory)."),
		desc("node_pressure_memory_stalled_seconds_total", "Time in seconds all non-idle tasks stalled on memory at once (PSI full, /proc/pressure/memory).")},
}

// pressureCollector is node_exporter's pressure collector. A kernel
// without PSI (no /proc/pressure) or with PSI turned off (psi=0: the
// files answer EOPNOTSUPP) has no data.
type pressureCollector struct {
	proc procfs.FS
	dir  string
}

func newPressure(e *env) collector {
	return &pressureCollector{proc: e.proc, dir: filepath.Join(e.procfs, "pressure")}
}

func (c *pressureCollector) update(p *poll) error {
	for _, f := range pressureFamilies {
		st, err := c.proc.PSIStatsForResource(f.resource)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP) {
			return errNoData
		}
		if err != nil {
			return inFile(filepath.Join(c.dir, f.resource), err)
		}
		if st.Some != nil {
			p.counter(f.some, float64(st.Some.Total)/1e6)
		}
		if f.full != nil && st.Full != nil {
			p.counter(f.full, float64(st.Full.Total)/1e6)
		}
	}
	return nil
}
