// Package host reads the health of the machine itself: CPU, load, memory,
// pressure, filesystems, disks, network, boot and clock, under
// node_exporter's metric names, types, label names and units, so that
// dashboards and alert rules written for node_exporter work unchanged; and
// what node_exporter does not read well: a Raspberry Pi's power and
// throttling state and the wear of eMMC storage.
//
// As in node_exporter, each collector lives in a file of its own behind the
// collector interface and is registered in registry.go. Unlike node_exporter,
// the collectors run once per poll of the daemon (Host is a poller.Updater)
// and scrapes are served the samples of the last poll, so a scrape never
// waits on procfs, sysfs or a filesystem.
package host

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"
	"github.com/prometheus/procfs/sysfs"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

// Options roots and selects the collectors.
type Options struct {
	Procfs, Sysfs, Rootfs string // mount points, as node_exporter's --path.* flags
	// Enabled leaves out the collectors it returns false for; nil keeps all.
	Enabled func(name string) bool
	// MountTimeout bounds statfs(2) of one mount point; 0 means DefaultMountTimeout.
	MountTimeout time.Duration
	// MountPointsExclude and FSTypesExclude leave mounts out of the
	// filesystem collector; nil means node_exporter's defaults.
	MountPointsExclude, FSTypesExclude *regexp.Regexp
	// Files keeps the sysfs attributes read every poll open from poll to
	// poll (its owner sweeps it after each poll); nil opens, reads and
	// closes each one.
	Files *fsread.Handles
	Log   *slog.Logger
}

// errNoData is what a collector returns when its subsystem is absent (no
// PSI, no cpufreq, not a Raspberry Pi): not an error.
var errNoData = errors.New("no data")

// collector is one source of host metrics.
type collector interface {
	// update reads the subsystem once and adds its samples to p. An error
	// means the collector failed as a whole; errNoData that there is
	// nothing to read.
	update(p *poll) error
}

// env is what collectors are built from: where to read.
type env struct {
	proc   procfs.FS
	sys    sysfs.FS
	block  blockdevice.FS
	procfs string
	sysfs  string
	rootfs string
	opts   Options
	// once reads a sysfs attribute with one read, file a whole file,
	// through Files if any.
	once func(string) (string, error)
	file func(string) ([]byte, error)
}

// Host runs the enabled collectors once per poll and serves their samples.
// It is a poller.Updater, a poller.CollectorSet and a prometheus.Collector.
type Host struct {
	log        *slog.Logger
	names      []string
	collectors []collector
	outcomes   []poller.CollectorOutcome
	series     seriesCache
	samples    atomic.Pointer[[]sample]
}

// New makes the collectors o enables. It fails when a mount point is not a
// directory, naming it.
func New(o Options) (*Host, error) {
	e, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	h := &Host{log: o.Log, series: seriesCache{pairs: map[seriesKey]cachedPairs{}}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range registry {
		if o.Enabled != nil && !o.Enabled(r.name) {
			continue
		}
		h.names = append(h.names, r.name)
		h.collectors = append(h.collectors, r.new(e))
	}
	h.outcomes = make([]poller.CollectorOutcome, len(h.collectors))
	return h, nil
}

func newEnv(o Options) (*env, error) {
	if o.Procfs == "" {
		o.Procfs = procfs.DefaultMountPoint
	}
	if o.Sysfs == "" {
		o.Sysfs = sysfs.DefaultMountPoint
	}
	if o.Rootfs == "" {
		o.Rootfs = "/"
	}
	e := &env{procfs: o.Procfs, sysfs: o.Sysfs, rootfs: o.Rootfs, opts: o, once: fsread.Once, file: fsread.File}
	if o.Files != nil {
		e.once, e.file = o.Files.Once, o.Files.File
	}
	var err error
	if e.proc, err = procfs.NewFS(o.Procfs); err != nil {
		return nil, fmt.Errorf("--path.procfs: %w", err)
	}
	if e.sys, err = sysfs.NewFS(o.Sysfs); err != nil {
		return nil, fmt.Errorf("--path.sysfs: %w", err)
	}
	if e.block, err = blockdevice.NewFS(o.Procfs, o.Sysfs); err != nil {
		return nil, fmt.Errorf("--path.procfs or --path.sysfs: %w", err)
	}
	if err := isDir(o.Rootfs); err != nil {
		return nil, fmt.Errorf("--path.rootfs: %w", err)
	}
	return e, nil
}

// Names lists the enabled collectors in registration order.
func (h *Host) Names() []string { return h.names }

// Update implements poller.Updater: it runs every collector and publishes
// their samples. A collector's failure is its outcome, not Update's error.
func (h *Host) Update() error {
	p := &poll{log: h.log, series: &h.series, out: make([]sample, 0, len(h.series.pairs)+len(h.series.pairs)/8)}
	for i, c := range h.collectors {
		p.readErrs, p.source = nil, h.names[i]
		start := time.Now()
		err := safeUpdate(c, p)
		if errors.Is(err, errNoData) {
			err = nil
		}
		h.outcomes[i] = poller.CollectorOutcome{Name: h.names[i], Duration: time.Since(start), Err: err, ReadErrors: p.readErrs}
	}
	h.series.sweep()
	h.samples.Store(&p.out)
	return nil
}

// safeUpdate runs one collector's update, turning a panic of a parser on a
// file it did not expect into the collector's failure: a garbage file must
// cost the collector, not the daemon.
func safeUpdate(c collector, p *poll) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s collector crashed parsing what it read (%s): %v", p.source, CollectorHelp(p.source), r)
		}
	}()
	return c.update(p)
}

// Outcomes implements poller.CollectorSet: how each collector fared in the
// last Update.
func (h *Host) Outcomes() []poller.CollectorOutcome { return h.outcomes }

// ErrorSources implements poller.CollectorSet: the enabled collectors that
// read device attributes, whose garbage is counted as a read error.
func (h *Host) ErrorSources() []string {
	var out []string
	for _, n := range h.names {
		if attributeCollectors[n] {
			out = append(out, n)
		}
	}
	return out
}

// Describe implements prometheus.Collector; the series depend on the
// machine, so the collector is unchecked.
func (h *Host) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector with the samples of the last Update.
func (h *Host) Collect(ch chan<- prometheus.Metric) {
	if m := h.samples.Load(); m != nil {
		for i := range *m {
			ch <- &(*m)[i]
		}
	}
}

// poll is one Update in progress: the samples so far and what collectors
// share within one poll.
type poll struct {
	log      *slog.Logger
	series   *seriesCache
	out      []sample
	source   string // the running collector
	readErrs []sensors.ReadError
	// stat is /proc/stat, read at most once per poll for cpu and stat.
	stat    *procfs.Stat
	statErr error
}

// add appends one sample. One that cannot be built (a label value that is
// not UTF-8, such as a mount point in another encoding) is left out and
// logged, rather than failing the collector.
func (p *poll) add(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	pairs, err := p.series.get(d, t, labels)
	if err != nil {
		p.log.Debug("sample left out", "collector", p.source, "err", err)
		return
	}
	p.out = append(p.out, sample{desc: d, pairs: pairs, typ: t, value: v})
}

// gauge adds a gauge sample.
func (p *poll) gauge(d *prometheus.Desc, v float64, labels ...string) {
	p.add(d, prometheus.GaugeValue, v, labels...)
}

// counter adds a counter sample.
func (p *poll) counter(d *prometheus.Desc, v float64, labels ...string) {
	p.add(d, prometheus.CounterValue, v, labels...)
}

// readError records an attribute that could not be read or held garbage:
// counted in edge_sensor_read_errors_total{source=<collector>}, never
// published as a value.
func (p *poll) readError(path, reason string, err error) {
	p.readErrs = append(p.readErrs, sensors.ReadError{Name: path, Source: p.source, Reason: reason, Err: err})
}

// procStat reads /proc/stat once per poll.
func (p *poll) procStat(e *env) (*procfs.Stat, error) {
	if p.stat == nil && p.statErr == nil {
		st, err := e.proc.Stat()
		if err != nil {
			p.statErr = inFile(filepath.Join(e.procfs, "stat"), err)
		} else {
			p.stat = &st
		}
	}
	return p.stat, p.statErr
}

// inFile names the file in err, unless err does already.
func inFile(path string, err error) error {
	if err == nil || strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}
