// Package poller reads every sensor source on a fixed interval and caches the
// result. HTTP handlers only ever read the cache, so a scrape never waits on
// slow sysfs or 1-wire reads, and all formatting work happens once per poll.
package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/hostcpu"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

// Status of a sensor in the cache.
const (
	StatusOK    = "ok"    // last read succeeded
	StatusError = "error" // last read failed; the previous good value, if any, is kept until stale
	StatusStale = "stale" // no good read for StaleAfter intervals; no value is published
)

// Failure reasons of sensor_failed_events_total, kept from the metric's
// original users' dashboards.
const (
	EventReadError  = "read_error"
	EventStale      = "stale"
	EventRouteError = "route_error"
	EventCPUSpike   = "cpu_spike"
)

// Sensor is the cached state of one sensor, as served by /sensor.
type Sensor struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`
	Unit   string    `json:"unit"`
	Value  *float64  `json:"value"` // null when there is no trustworthy value
	Source string    `json:"source"`
	Chip   string    `json:"chip,omitempty"`
	Label  string    `json:"label,omitempty"`
	Time   time.Time `json:"time"` // time of the last good read (zero when never)
	Status string    `json:"status"`
	Error  string    `json:"error,omitempty"`

	seen time.Time // last poll that reported the sensor at all, good or bad
}

// Updater is anything else refreshed once per poll (cgroup accounting, the
// runtime metrics); Update's error is logged when it changes.
type Updater interface {
	Update() error
}

// Warner is an Updater with something people must know after a poll, such
// as a budget the kernel does not enforce; the status line carries it.
type Warner interface {
	Warnings() []string
}

// CollectorOutcome is how one collector of a CollectorSet fared in a poll.
type CollectorOutcome struct {
	Name     string
	Duration time.Duration
	// Err is the collector's failure as a whole; nil when it succeeded or
	// found nothing to read (a subsystem the machine does not have).
	Err error
	// ReadErrors are attributes that could not be read or held garbage:
	// counted as the sources' are, never published as values.
	ReadErrors []sensors.ReadError
}

// CollectorSet is an Updater made of named collectors (the host's), whose
// success, duration and read errors are exported as the sources' are:
// edge_sensor_scrape_collector_success{collector}, ..._duration_seconds and
// edge_sensor_read_errors_total{source}. Their names must differ from the
// sources'.
type CollectorSet interface {
	Updater
	// Outcomes is valid after Update, until the next Update.
	Outcomes() []CollectorOutcome
	// ErrorSources names the collectors that count read errors, so that
	// their counters start at zero; their reasons are CollectorReasons.
	ErrorSources() []string
}

// Poller owns the sources and the cache.
type Poller struct {
	log      *slog.Logger
	cpu      *hostcpu.Meter
	files    *fsread.Handles
	updaters []Updater
	// updaterErr is the last error of each updater, to log changes only.
	updaterErr []string
	// collectorErr is the last error of each collector of a CollectorSet,
	// to log changes only; errorSources are those that count read errors.
	collectorErr map[string]string
	errorSources []string
	events       *Events
	errs         *errorCounts

	pollMu     sync.Mutex // one poll at a time
	sources    []sensors.Source
	cfg        config.Config
	sensors    map[string]*Sensor
	stats      map[string]sourceStat
	collectors map[string]sourceStat
	spike      bool

	view atomic.Pointer[View]
	// lastPoll keeps time.Now()'s monotonic reading, so that a wall-clock
	// step (NTP on a device without an RTC) cannot fail the health check.
	lastPoll atomic.Pointer[time.Time]
	polls    atomic.Uint64
	// kick restarts Run's wait after Reconfigure, so a shorter interval
	// takes effect at once instead of after the old one.
	kick chan struct{}
	// polled is signalled after each poll (see Polled).
	polled chan struct{}
}

type sourceStat struct {
	ok       bool
	duration time.Duration
	count    int
}

// View is an immutable snapshot built at the end of each poll.
type View struct {
	Time      time.Time
	Duration  time.Duration
	Sensors   []Sensor            // sorted by name
	byName    map[string][]byte   // JSON of each sensor
	all       []byte              // JSON of all sensors
	metrics   []prometheus.Metric // pre-computed exposition
	Errors    int                 // sensors not OK in this poll
	Stale     int                 //
	CPU       float64             // host CPU use ratio, -1 when unknown
	CPUSpike  bool                //
	Warnings  []string            // from updaters that are Warners
	PerSource map[string]sourceStat
	// PerCollector is the outcome of each collector of the CollectorSets.
	PerCollector map[string]sourceStat
	interval     time.Duration
}

// New makes a poller. Call Reconfigure before the first poll.
func New(log *slog.Logger, procfs string, events *Events, updaters ...Updater) *Poller {
	p := &Poller{
		log:          log,
		cpu:          hostcpu.NewMeter(procfs),
		updaters:     updaters,
		updaterErr:   make([]string, len(updaters)),
		collectorErr: map[string]string{},
		events:       events,
		errs:         newErrorCounts(),
		sensors:      map[string]*Sensor{},
		stats:        map[string]sourceStat{},
		collectors:   map[string]sourceStat{},
		kick:         make(chan struct{}, 1),
		polled:       make(chan struct{}, 1),
	}
	for _, u := range updaters {
		if cs, ok := u.(CollectorSet); ok {
			p.errorSources = append(p.errorSources, cs.ErrorSources()...)
		}
	}
	p.view.Store(&View{CPU: -1, byName: map[string][]byte{}, all: []byte("[]"), interval: config.Default().PollInterval})
	return p
}

// Reconfigure swaps sources and settings; the next poll uses them. Sensors of
// sources no longer configured, or now ignored, are forgotten.
func (p *Poller) Reconfigure(cfg config.Config, srcs []sensors.Source) {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	p.cfg = cfg
	p.sources = srcs
	keep := map[string]bool{}
	for _, s := range srcs {
		keep[s.Name()] = true
	}
	for name, s := range p.sensors {
		if !keep[s.Source] || cfg.Ignored(name) {
			delete(p.sensors, name)
		}
	}
	for name := range p.stats {
		if !keep[name] {
			delete(p.stats, name)
		}
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name()
	}
	p.errs.reset(names, p.errorSources)
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Interval is the configured poll interval.
func (p *Poller) Interval() time.Duration {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	return p.cfg.PollInterval
}

// Run polls every interval until ctx ends. The first poll is the caller's
// (PollOnce), so that readiness can wait for it.
func (p *Poller) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			continue
		case <-time.After(p.Interval()):
		}
		p.PollOnce(ctx)
	}
}

// PollOnce reads all sources concurrently, each bounded by the poll
// interval, and publishes a new View.
func (p *Poller) PollOnce(ctx context.Context) *View {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	start := time.Now()
	results := p.readSources(ctx)
	now := time.Now()
	for _, r := range results {
		p.merge(r, now)
	}
	p.ageSensors(now)
	cpu, spike := p.sampleCPU()
	p.runUpdaters()
	if p.files != nil {
		p.files.Sweep()
	}
	v := p.buildView(now, time.Since(start), cpu, spike)
	v.Warnings = p.warnings()
	p.publish(v)
	return v
}

// sourceResult is one source's outcome in one poll.
type sourceResult struct {
	src string
	res sensors.Result
	err error
	dur time.Duration
}

// readSources reads every source at once, each within the poll interval.
func (p *Poller) readSources(ctx context.Context) []sourceResult {
	interval := p.cfg.PollInterval
	results := make([]sourceResult, len(p.sources))
	var wg sync.WaitGroup
	for i, s := range p.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, interval)
			defer cancel()
			t := time.Now()
			res, err := s.Read(rctx)
			if err == nil && rctx.Err() != nil {
				err = fmt.Errorf("timed out after %s", interval)
			}
			results[i] = sourceResult{s.Name(), res, err, time.Since(t)}
		}()
	}
	// A source that ignores its context hangs the poll here on purpose:
	// the watchdog then sees no progress and systemd restarts the daemon.
	wg.Wait()
	return results
}

// merge folds one source's readings and errors into the cache. A failed
// read keeps the sensor's last good value until it goes stale.
func (p *Poller) merge(r sourceResult, now time.Time) {
	st := sourceStat{ok: r.err == nil, duration: r.dur}
	if r.err != nil {
		p.log.Warn("source failed", "source", r.src, "err", r.err)
	}
	for _, rd := range r.res.Readings {
		if p.cfg.Ignored(rd.Name) {
			continue
		}
		st.count++
		v := rd.Value
		*p.sensor(rd.Name) = Sensor{Name: rd.Name, Kind: string(rd.Kind), Unit: sensors.Kinds[rd.Kind].Unit, Value: &v,
			Source: r.src, Chip: rd.Chip, Label: rd.Label, Time: now, Status: StatusOK, seen: now}
	}
	for _, e := range r.res.Errors {
		if p.cfg.Ignored(e.Name) {
			continue
		}
		st.count++
		p.errs.inc(r.src, e.Reason)
		p.events.Inc(EventReadError)
		s := p.sensor(e.Name)
		if s.Source == "" {
			s.Source = r.src
		}
		if s.Status != StatusStale {
			s.Status = StatusError
		}
		s.Error = e.Reason + ": " + e.Err.Error()
		s.seen = now
	}
	p.stats[r.src] = st
}

// sensor returns the cache entry of name, made empty if there is none.
func (p *Poller) sensor(name string) *Sensor {
	s := p.sensors[name]
	if s == nil {
		s = &Sensor{Name: name}
		p.sensors[name] = s
	}
	return s
}

// ageSensors marks stale the sensors without a good read for StaleAfter
// intervals, counted once per transition so that the counter's rate means
// "sensors going stale". A sensor never read successfully stays an error: it
// has no value to go stale. A sensor no source has mentioned for ten times
// that is gone (hot-unplugged), not failing: it is forgotten.
func (p *Poller) ageSensors(now time.Time) {
	staleAfter := time.Duration(p.cfg.StaleAfter) * p.cfg.PollInterval
	for name, s := range p.sensors {
		if s.Status != StatusStale && !s.Time.IsZero() && now.Sub(s.Time) > staleAfter {
			s.Status = StatusStale
			s.Value = nil
			p.events.Inc(EventStale)
		}
		if now.Sub(s.seen) > 10*staleAfter {
			delete(p.sensors, name)
		}
	}
}

// sampleCPU measures host CPU use (-1 when unknown) and counts each start
// of a spike above the threshold; an unknown sample keeps the spike state.
func (p *Poller) sampleCPU() (cpu float64, spike bool) {
	cpu, spike = -1, p.spike
	if ratio, ok, err := p.cpu.Sample(); err != nil {
		p.log.Debug("host cpu unavailable", "err", err)
	} else if ok {
		cpu = ratio
		spike = ratio > p.cfg.CPUSpikeThreshold
		if spike && !p.spike {
			p.events.Inc(EventCPUSpike)
			// Counted and exported (sensor_failed_events_total, sensor_cpu_spike) and in
			// the status line; a journal entry per spike costs the SD card about 12 KB
			// (docs/RELIABILITY.md), so it is not logged at the default level.
			p.log.Debug("host CPU spike", "usage", ratio, "threshold", p.cfg.CPUSpikeThreshold)
		}
	}
	p.spike = spike
	return cpu, spike
}

// runUpdaters refreshes everything else read once per poll. It logs
// changes only: a missing cgroup tree would otherwise log every poll.
func (p *Poller) runUpdaters() {
	for i, u := range p.updaters {
		msg := ""
		if err := u.Update(); err != nil {
			msg = err.Error()
		}
		if cs, ok := u.(CollectorSet); ok {
			p.recordOutcomes(cs.Outcomes())
		}
		if msg == p.updaterErr[i] {
			continue
		}
		if msg != "" {
			p.log.Warn("update failed", "updater", updaterName(u), "err", msg)
		} else {
			p.log.Info("update recovered", "updater", updaterName(u), "previous_err", p.updaterErr[i])
		}
		p.updaterErr[i] = msg
	}
}

// recordOutcomes keeps each collector's success and duration for the
// view, counts its read errors as the sources' are, and logs a collector's
// failure and recovery once each.
func (p *Poller) recordOutcomes(outcomes []CollectorOutcome) {
	for _, o := range outcomes {
		p.collectors[o.Name] = sourceStat{ok: o.Err == nil, duration: o.Duration}
		for _, e := range o.ReadErrors {
			p.errs.inc(o.Name, e.Reason)
			p.events.Inc(EventReadError)
		}
		msg := ""
		if o.Err != nil {
			msg = o.Err.Error()
		}
		if prev := p.collectorErr[o.Name]; msg != prev {
			if msg != "" {
				p.log.Warn("collector failed", "collector", o.Name, "err", msg)
			} else {
				p.log.Info("collector recovered", "collector", o.Name, "previous_err", prev)
			}
			p.collectorErr[o.Name] = msg
		}
	}
}

// warnings gathers what the updaters that are Warners have to say.
func (p *Poller) warnings() []string {
	var out []string
	for _, u := range p.updaters {
		if w, ok := u.(Warner); ok {
			out = append(out, w.Warnings()...)
		}
	}
	return out
}

// updaterName names an updater in logs by its type, e.g. "*cgroup.Collector".
func updaterName(u Updater) string { return fmt.Sprintf("%T", u) }

// publish makes v the view handlers serve and tells Polled's receiver.
func (p *Poller) publish(v *View) {
	p.view.Store(v)
	done := time.Now()
	p.lastPoll.Store(&done)
	p.polls.Add(1)
	select {
	case p.polled <- struct{}{}:
	default: // the receiver has not caught up; one signal covers both polls
	}
}

// KeepFilesOpen makes the poll read the host's CPU counters through files,
// and close those of its files that a poll did not read at the poll's end.
// The sources and updaters given files read through it too.
func (p *Poller) KeepFilesOpen(files *fsread.Handles) {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	p.files, p.cpu.Files = files, files
}

// Polled receives after polls complete, for one receiver that acts on new
// data (the STATUS= line) without waking up on a timer between polls.
func (p *Poller) Polled() <-chan struct{} { return p.polled }

func (p *Poller) buildView(now time.Time, dur time.Duration, cpu float64, spike bool) *View {
	v := &View{Time: now, Duration: dur, CPU: cpu, CPUSpike: spike,
		byName: make(map[string][]byte, len(p.sensors)), PerSource: maps.Clone(p.stats),
		PerCollector: maps.Clone(p.collectors), interval: p.cfg.PollInterval}
	for _, s := range p.sensors {
		c := *s
		if s.Value != nil {
			val := *s.Value
			c.Value = &val
		}
		v.Sensors = append(v.Sensors, c)
		switch s.Status {
		case StatusError:
			v.Errors++
		case StatusStale:
			v.Stale++
		}
	}
	sort.Slice(v.Sensors, func(i, j int) bool { return v.Sensors[i].Name < v.Sensors[j].Name })
	var err error
	if v.all, err = json.Marshal(v.Sensors); err != nil {
		panic(err) // only plain strings, numbers and times: cannot fail
	}
	if v.Sensors == nil {
		v.all = []byte("[]")
	}
	for _, s := range v.Sensors {
		b, _ := json.Marshal(s)
		v.byName[s.Name] = b
	}
	v.metrics = p.buildMetrics(v)
	return v
}

// View returns the latest snapshot.
func (p *Poller) View() *View { return p.view.Load() }

// SensorJSON returns the JSON of one sensor, or ok=false when unknown.
func (v *View) SensorJSON(name string) ([]byte, bool) {
	b, ok := v.byName[name]
	return b, ok
}

// AllJSON returns the JSON array of all sensors.
func (v *View) AllJSON() []byte { return v.all }

// Polls is the number of completed polls.
func (p *Poller) Polls() uint64 { return p.polls.Load() }

// LastPoll is when the last poll completed (zero before the first).
func (p *Poller) LastPoll() time.Time {
	if t := p.lastPoll.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Healthy reports whether the poll loop is making progress: the last poll
// completed within two intervals plus the read timeout of one.
func (p *Poller) Healthy(now time.Time) error {
	last := p.LastPoll()
	if last.IsZero() {
		return fmt.Errorf("no poll completed yet")
	}
	limit := 3 * p.intervalNoLock()
	if age := now.Sub(last); age > limit {
		return fmt.Errorf("last poll completed %s ago (limit %s)", age.Round(time.Millisecond), limit)
	}
	return nil
}

// intervalNoLock reads the interval without the poll lock, which a hung poll holds.
func (p *Poller) intervalNoLock() time.Duration {
	return p.View().interval
}

// StatusLine is the one-line summary for systemctl status.
func (v *View) StatusLine(now time.Time) string {
	s := fmt.Sprintf("%d sensors, last poll %s ago (took %s), %d errors, %d stale",
		len(v.Sensors), now.Sub(v.Time).Round(time.Millisecond), v.Duration.Round(10*time.Microsecond), v.Errors, v.Stale)
	if v.CPUSpike {
		s += ", host CPU spike"
	}
	for _, w := range v.Warnings {
		s += "; " + w
	}
	// A newline would start a new sd_notify assignment.
	return strings.ReplaceAll(s, "\n", " ")
}
