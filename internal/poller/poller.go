// Package poller reads every sensor source on a fixed interval and caches the
// result. HTTP handlers only ever read the cache, so a scrape never waits on
// slow sysfs or 1-wire reads, and all formatting work happens once per poll.
package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/events"
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

// Sensor is the cached state of one sensor, as served by /sensor.
type Sensor struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Unit   string   `json:"unit"`
	Value  *float64 `json:"value"` // null when there is no trustworthy value
	Source string   `json:"source"`
	Chip   string   `json:"chip,omitempty"`
	Label  string   `json:"label,omitempty"`
	// Limits are the sensor's own limits as its driver reports them, e.g.
	// {"crit":100,"max":80}; absent when it gives none.
	Limits sensors.Limits `json:"limits,omitempty"`
	Time   time.Time      `json:"time"` // time of the last good read (zero when never, null in JSON)
	Status string         `json:"status"`
	Error  string         `json:"error,omitempty"`

	seen time.Time // last poll that reported the sensor at all, good or bad
}

// MarshalJSON writes the time of a sensor never read successfully as null,
// not as Go's zero time (0001-01-01T00:00:00Z).
func (s Sensor) MarshalJSON() ([]byte, error) {
	type fields Sensor // without this method
	var t *time.Time
	if !s.Time.IsZero() {
		t = &s.Time
	}
	return json.Marshal(struct {
		fields
		Time *time.Time `json:"time"`
	}{fields(s), t})
}

// Updater is anything else refreshed once per poll (cgroup accounting, the
// runtime metrics); Update's error is logged when it changes.
type Updater interface {
	Update() error
}

// Warner has something people must know after a poll, such as a budget the
// kernel does not enforce: the status line, /healthz and the dashboard carry
// it. Updaters that are Warners are asked after their update; others are
// added with AddWarner.
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
	// updaterErr is the last error of each updater, and cpuErr that of
	// the host CPU's sample, to log changes only.
	updaterErr []string
	cpuErr     string
	warners    []Warner
	events     *events.Counter
	errs       *errorCounts
	limitErrs  *errorCounts // failed reads of sensors' limits
	// limitSamples are last poll's limit samples by sensor (buildMetrics);
	// limitSamplesNext is the map the next poll fills, kept to be reused.
	limitSamples, limitSamplesNext map[string]limitSamples
	// collectorErr is the last error of each collector of a CollectorSet,
	// to log changes only; errorSources are those that count read errors.
	collectorErr map[string]string
	errorSources []string

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

// New makes a poller. Call Reconfigure before the first poll.
func New(log *slog.Logger, procfs string, ev *events.Counter, updaters ...Updater) *Poller {
	p := &Poller{
		log:              log,
		cpu:              hostcpu.NewMeter(procfs),
		updaters:         updaters,
		updaterErr:       make([]string, len(updaters)),
		events:           ev,
		errs:             newErrorCounts(),
		limitErrs:        newErrorCounts(),
		limitSamples:     map[string]limitSamples{},
		limitSamplesNext: map[string]limitSamples{},
		sensors:          map[string]*Sensor{},
		stats:            map[string]sourceStat{},
		collectors:       map[string]sourceStat{},
		collectorErr:     map[string]string{},
		kick:             make(chan struct{}, 1),
		polled:           make(chan struct{}, 1),
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
	p.errs.reset(names, p.errorSources, true)
	// Nothing alerts on failed limit reads, and most devices have none: their counts appear
	// with the first, rather than as zeros on every device.
	p.limitErrs.reset(names, nil, false)
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
			Source: r.src, Chip: rd.Chip, Label: rd.Label, Limits: rd.Limits, Time: now, Status: StatusOK, seen: now}
	}
	// A limit that fails to read is counted; the reading it belongs to is fine.
	for _, e := range r.res.LimitErrors {
		if !p.cfg.Ignored(e.Name) {
			p.limitErrs.inc(r.src, e.Reason)
			p.log.Debug("sensor limit not read", "sensor", e.Name, "reason", e.Reason, "err", e.Err)
		}
	}
	for _, e := range r.res.Errors {
		if p.cfg.Ignored(e.Name) {
			continue
		}
		st.count++
		p.errs.inc(r.src, e.Reason)
		p.events.Inc(events.ReadError)
		s := p.sensor(e.Name)
		if s.Source == "" {
			s.Source = r.src
		}
		if s.Kind == "" && e.Kind != "" { // never read: what the source tried to read
			s.Kind, s.Unit, s.Chip = string(e.Kind), sensors.Kinds[e.Kind].Unit, e.Chip
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
			p.events.Inc(events.Stale)
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
	ratio, ok, err := p.cpu.Sample()
	p.logChange(&p.cpuErr, err, "what", "host CPU use")
	if ok {
		cpu = ratio
		spike = ratio > p.cfg.CPUSpikeThreshold
		if spike && !p.spike {
			p.events.Inc(events.CPUSpike)
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
		p.logChange(&p.updaterErr[i], u.Update(), "updater", updaterName(u))
		if cs, ok := u.(CollectorSet); ok {
			p.recordOutcomes(cs.Outcomes())
		}
	}
}

// logChange logs err when it is not the last one, *last, and keeps it
// there: a failure (or another one) as a warning, a recovery as info.
func (p *Poller) logChange(last *string, err error, attrs ...any) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case msg == *last:
		return
	case msg != "":
		p.log.Warn("update failed", append(attrs, "err", msg)...)
	default:
		p.log.Info("update recovered", append(attrs, "previous_err", *last)...)
	}
	*last = msg
}

// warnings gathers what the updaters that are Warners, then the other
// Warners, have to say.
// recordOutcomes keeps each collector's success and duration for the
// view, counts its read errors as the sources' are, and logs a collector's
// failure and recovery once each.
func (p *Poller) recordOutcomes(outcomes []CollectorOutcome) {
	for _, o := range outcomes {
		p.collectors[o.Name] = sourceStat{ok: o.Err == nil, duration: o.Duration}
		for _, e := range o.ReadErrors {
			p.errs.inc(o.Name, e.Reason)
			p.events.Inc(events.ReadError)
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

func (p *Poller) warnings() []string {
	var out []string
	for _, u := range p.updaters {
		if w, ok := u.(Warner); ok {
			out = append(out, w.Warnings()...)
		}
	}
	for _, w := range p.warners {
		out = append(out, w.Warnings()...)
	}
	return out
}

// AddWarner adds w's warnings to those of every later poll's View: state
// that is not read once per poll but must be shown with it (a refused
// reload).
func (p *Poller) AddWarner(w Warner) {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	p.warners = append(p.warners, w)
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
