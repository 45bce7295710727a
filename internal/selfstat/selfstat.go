// Package selfstat exports the daemon's own process metrics (the
// process_* names of client_golang's process collector) from one read of
// /proc/self/stat and a count of /proc/self/fd per gather. The stock
// collector also parses /proc/self/limits, /proc/stat (for the boot time)
// and /proc/self/net/{netstat,snmp} every time, which made it a tenth of
// the daemon's CPU at the shipped poll interval; limits come from
// getrlimit(2) here and the boot time is read once.
package selfstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// userHZ is USER_HZ, fixed at 100 for /proc/PID/stat on every architecture
// Linux supports.
const userHZ = 100

var (
	descCPU     = prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil)
	descOpen    = prometheus.NewDesc("process_open_fds", "Number of open file descriptors.", nil, nil)
	descMaxFDs  = prometheus.NewDesc("process_max_fds", "Maximum number of open file descriptors.", nil, nil)
	descVirt    = prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil)
	descVirtMax = prometheus.NewDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", nil, nil)
	descRSS     = prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil)
	descStart   = prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil)
)

// Collector reads <procfs>/self.
type Collector struct {
	self     string
	bootTime float64 // seconds since the epoch; 0 when unknown
	pageSize float64
}

// New reads the boot time once from <procfs>/stat.
func New(procfs string) *Collector {
	c := &Collector{self: filepath.Join(procfs, "self"), pageSize: float64(os.Getpagesize())}
	if b, err := fsread.File(filepath.Join(procfs, "stat")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				c.bootTime, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCPU, descOpen, descMaxFDs, descVirt, descVirtMax, descRSS, descStart} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if st, err := c.stat(); err != nil {
		ch <- prometheus.NewInvalidMetric(descCPU, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descCPU, prometheus.CounterValue, float64(st.utime+st.stime)/userHZ)
		ch <- prometheus.MustNewConstMetric(descVirt, prometheus.GaugeValue, float64(st.vsize))
		ch <- prometheus.MustNewConstMetric(descRSS, prometheus.GaugeValue, float64(st.rss)*c.pageSize)
		if c.bootTime > 0 {
			ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, c.bootTime+float64(st.starttime)/userHZ)
		}
	}
	if fds, err := fsread.DirNames(filepath.Join(c.self, "fd")); err != nil {
		ch <- prometheus.NewInvalidMetric(descOpen, fsread.Explain("the daemon's open files", err))
	} else {
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(len(fds))) // counting the one reading the dir, as the stock collector does
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		ch <- prometheus.MustNewConstMetric(descMaxFDs, prometheus.GaugeValue, float64(lim.Cur))
	}
	if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
		ch <- prometheus.MustNewConstMetric(descVirtMax, prometheus.GaugeValue, float64(lim.Cur))
	}
}

type stat struct {
	utime, stime, starttime, vsize, rss uint64
}

// stat parses /proc/self/stat. The command name may hold spaces and
// parentheses, so fields are counted after the last ')'.
func (c *Collector) stat() (stat, error) {
	var s stat
	b, err := fsread.File(filepath.Join(c.self, "stat"))
	if err != nil {
		return s, fsread.Explain("the daemon's CPU and memory use", err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return s, fmt.Errorf("%s/stat: no ')' in %q", c.self, b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15, starttime 22,
	// vsize 23, rss 24.
	if len(f) < 22 {
		return s, fmt.Errorf("%s/stat: %d fields after the command name, want at least 22", c.self, len(f))
	}
	for _, x := range []struct {
		field int
		p     *uint64
	}{{14, &s.utime}, {15, &s.stime}, {22, &s.starttime}, {23, &s.vsize}, {24, &s.rss}} {
		v, err := strconv.ParseUint(f[x.field-3], 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s/stat: field %d: %w", c.self, x.field, err)
		}
		*x.p = v
	}
	return s, nil
}
