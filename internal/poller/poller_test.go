package poller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

// fakeSource returns whatever the test puts in it.
type fakeSource struct {
	mu   sync.Mutex
	name string
	res  sensors.Result
	err  error
	hang chan struct{} // when non-nil, Read blocks on it ignoring ctx
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Read(ctx context.Context) (sensors.Result, error) {
	f.mu.Lock()
	hang, res, err := f.hang, f.res, f.err
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return res, err
}
func (f *fakeSource) set(res sensors.Result, err error) {
	f.mu.Lock()
	f.res, f.err = res, err
	f.mu.Unlock()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func procWithStat(t *testing.T, busy, idle int) string {
	t.Helper()
	dir := t.TempDir()
	writeStat(t, dir, busy, idle)
	return dir
}

func writeStat(t *testing.T, dir string, busy, idle int) {
	t.Helper()
	s := fmt.Sprintf("cpu %d 0 0 %d 0 0 0 0 0 0\n", busy, idle)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func temp(name string, v float64) sensors.Reading {
	return sensors.Reading{Name: name, Kind: sensors.Temperature, Value: v, Source: "fake", Chip: "chip0", Label: "cpu"}
}

func newTestPoller(t *testing.T, src *fakeSource, cfg config.Config) (*Poller, *events.Counter, string) {
	proc := procWithStat(t, 100, 900)
	ev := events.New()
	p := New(quiet(), proc, ev)
	p.Reconfigure(cfg, []sensors.Source{src})
	return p, ev, proc
}

func TestCacheStatusAndStaleness(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{Readings: []sensors.Reading{temp("t1", 40.5), temp("t2", 30)}}, nil)
	cfg := config.Default()
	cfg.PollInterval, cfg.StaleAfter = 100*time.Millisecond, 2
	p, ev, _ := newTestPoller(t, src, cfg)

	v := p.PollOnce(context.Background())
	if len(v.Sensors) != 2 || *v.Sensors[0].Value != 40.5 || v.Sensors[0].Status != StatusOK {
		t.Fatalf("first poll: %+v", v.Sensors)
	}

	// t1 starts failing: counted, status error, last good value kept until stale.
	src.set(sensors.Result{
		Readings: []sensors.Reading{temp("t2", 31)},
		Errors:   []sensors.ReadError{{Name: "t1", Source: "fake", Reason: sensors.ReasonParse, Err: errors.New("not a number")}},
	}, nil)
	v = p.PollOnce(context.Background())
	if s := v.Sensors[0]; s.Status != StatusError || s.Value == nil || *s.Value != 40.5 || !strings.Contains(s.Error, "parse") {
		t.Fatalf("after error: %+v", s)
	}
	if got := ev.Value(events.ReadError); got != 1 {
		t.Fatalf("read_error events = %v", got)
	}

	time.Sleep(250 * time.Millisecond) // > StaleAfter * PollInterval
	v = p.PollOnce(context.Background())
	if s := v.Sensors[0]; s.Status != StatusStale || s.Value != nil {
		t.Fatalf("want stale without value: %+v", s)
	}
	if s := v.Sensors[1]; s.Status != StatusOK || *s.Value != 31 {
		t.Fatalf("t2: %+v", s)
	}
	p.PollOnce(context.Background())
	if got := ev.Value(events.Stale); got != 1 {
		t.Fatalf("stale must be counted once per transition, got %v", got)
	}
	if got := ev.Value(events.ReadError); got != 3 {
		t.Fatalf("read_error events = %v, want 3", got)
	}

	// It comes back.
	src.set(sensors.Result{Readings: []sensors.Reading{temp("t1", 41), temp("t2", 31)}}, nil)
	v = p.PollOnce(context.Background())
	if s := v.Sensors[0]; s.Status != StatusOK || *s.Value != 41 {
		t.Fatalf("recovered: %+v", s)
	}
}

func TestNeverReadSensorIsErrorWithoutValue(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{Errors: []sensors.ReadError{{Name: "bad", Kind: sensors.Temperature, Chip: "chip0", Source: "fake",
		Reason: sensors.ReasonRange, Err: errors.New("-273")}}}, nil)
	p, _, _ := newTestPoller(t, src, config.Default())
	v := p.PollOnce(context.Background())
	if len(v.Sensors) != 1 || v.Sensors[0].Value != nil || v.Sensors[0].Status != StatusError {
		t.Fatalf("%+v", v.Sensors)
	}
	// Kind, unit and chip are what the source tried to read; a time it was
	// never read at is null, not Go's zero time.
	want := `{"name":"bad","kind":"temperature","unit":"celsius","value":null,"source":"fake","chip":"chip0","status":"error","error":"range: -273","time":null}`
	if b, ok := v.SensorJSON("bad"); !ok || string(b) != want {
		t.Fatalf("json %s, want %s", b, want)
	}
	if !strings.Contains(string(v.AllJSON()), `"time":null`) {
		t.Fatalf("/sensor: %s", v.AllJSON())
	}
	// No gauge for it: a broken sensor must never read as 0.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{P: p})
	if n, err := testutil.GatherAndCount(reg, "edge_sensor_temperature_celsius"); err != nil || n != 0 {
		t.Fatalf("gauges for a broken sensor: %d %v", n, err)
	}
}

func TestMetricsExposition(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{
		Readings: []sensors.Reading{temp("t1", 40.5)},
		Errors:   []sensors.ReadError{{Name: "t9", Source: "fake", Reason: sensors.ReasonIO, Err: errors.New("EIO")}},
	}, nil)
	p, ev, _ := newTestPoller(t, src, config.Default())
	p.PollOnce(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{P: p}, ev)
	want := `
# HELP edge_sensor_temperature_celsius Temperature in degrees Celsius.
# TYPE edge_sensor_temperature_celsius gauge
edge_sensor_temperature_celsius{chip="chip0",label="cpu",sensor="t1",source="fake"} 40.5
# HELP edge_sensor_read_errors_total Failed sensor reads by source and reason (io, vanished, empty, parse, range, crc, timeout).
# TYPE edge_sensor_read_errors_total counter
edge_sensor_read_errors_total{reason="crc",source="fake"} 0
edge_sensor_read_errors_total{reason="empty",source="fake"} 0
edge_sensor_read_errors_total{reason="io",source="fake"} 1
edge_sensor_read_errors_total{reason="parse",source="fake"} 0
edge_sensor_read_errors_total{reason="range",source="fake"} 0
edge_sensor_read_errors_total{reason="timeout",source="fake"} 0
edge_sensor_read_errors_total{reason="vanished",source="fake"} 0
# HELP edge_sensor_stale 1 when the sensor has had no good read for stale_after poll intervals.
# TYPE edge_sensor_stale gauge
edge_sensor_stale{sensor="t1"} 0
edge_sensor_stale{sensor="t9"} 0
# HELP edge_sensor_scrape_collector_success 1 when the source's or host collector's last read succeeded as a whole (finding nothing to read is a success).
# TYPE edge_sensor_scrape_collector_success gauge
edge_sensor_scrape_collector_success{collector="fake"} 1
# HELP edge_sensor_sensors Sensors found by each source in the last poll, failing ones included.
# TYPE edge_sensor_sensors gauge
edge_sensor_sensors{source="fake"} 2
# HELP sensor_failed_events_total Failure events by reason: read_error (a sensor read failed), stale (a sensor went stale), route_error (an HTTP handler failed), cpu_spike (host CPU went over the threshold).
# TYPE sensor_failed_events_total counter
sensor_failed_events_total{reason="cpu_spike"} 0
sensor_failed_events_total{reason="read_error"} 1
sensor_failed_events_total{reason="route_error"} 0
sensor_failed_events_total{reason="stale"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"edge_sensor_temperature_celsius", "edge_sensor_read_errors_total", "edge_sensor_stale",
		"edge_sensor_scrape_collector_success", "edge_sensor_sensors", "sensor_failed_events_total"); err != nil {
		t.Fatal(err)
	}
	// A failing source as a whole reports success 0.
	src.set(sensors.Result{}, errors.New("boom"))
	p.PollOnce(context.Background())
	if v := gaugeValue(t, reg, "edge_sensor_scrape_collector_success"); v != 0 {
		t.Fatalf("success after failure = %v", v)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not gathered", name)
	return 0
}

func TestCPUSpikeDetection(t *testing.T) {
	src := &fakeSource{name: "fake"}
	cfg := config.Default()
	cfg.CPUSpikeThreshold = 0.8
	p, ev, proc := newTestPoller(t, src, cfg)
	p.PollOnce(context.Background()) // baseline sample
	writeStat(t, proc, 190, 910)     // 90 of 100 ticks busy
	v := p.PollOnce(context.Background())
	if !v.CPUSpike || v.CPU != 0.9 || ev.Value(events.CPUSpike) != 1 {
		t.Fatalf("spike not detected: %+v events=%v", v.CPU, ev.Value(events.CPUSpike))
	}
	writeStat(t, proc, 280, 1010) // still 90 busy / 190 total: 0.47
	v = p.PollOnce(context.Background())
	if v.CPUSpike || ev.Value(events.CPUSpike) != 1 {
		t.Fatalf("spike must clear: cpu=%v", v.CPU)
	}
}

func TestIgnoreAndReconfigure(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{Readings: []sensors.Reading{temp("keep", 1), temp("drop_me", 2)}}, nil)
	cfg := config.Default()
	p, _, _ := newTestPoller(t, src, cfg)
	if v := p.PollOnce(context.Background()); len(v.Sensors) != 2 {
		t.Fatal(len(v.Sensors))
	}
	cfg2, err := config.Parse("c.yml", []byte("ignore: [drop_.*]\n"), cfg, []string{"fake"})
	if err != nil {
		t.Fatal(err)
	}
	p.Reconfigure(cfg2, []sensors.Source{src})
	if v := p.PollOnce(context.Background()); len(v.Sensors) != 1 || v.Sensors[0].Name != "keep" {
		t.Fatalf("%+v", v.Sensors)
	}
	p.Reconfigure(cfg2, nil) // source switched off: its sensors are forgotten
	if v := p.PollOnce(context.Background()); len(v.Sensors) != 0 {
		t.Fatalf("%+v", v.Sensors)
	}
}

func TestHealthFollowsPollProgress(t *testing.T) {
	src := &fakeSource{name: "fake"}
	cfg := config.Default()
	cfg.PollInterval = 50 * time.Millisecond
	p, _, _ := newTestPoller(t, src, cfg)
	if p.Healthy(time.Now()) == nil {
		t.Fatal("healthy before any poll")
	}
	p.PollOnce(context.Background())
	if err := p.Healthy(time.Now()); err != nil {
		t.Fatal(err)
	}
	// A source that ignores its context hangs the loop; health must notice.
	hang := make(chan struct{})
	src.mu.Lock()
	src.hang = hang
	src.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Bool
	go func() { p.Run(ctx); done.Store(true) }()
	time.Sleep(300 * time.Millisecond)
	if err := p.Healthy(time.Now()); err == nil || !strings.Contains(err.Error(), "last poll completed") {
		t.Fatalf("hung loop reported healthy: %v", err)
	}
	close(hang)
	cancel()
	for i := 0; i < 100 && !done.Load(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !done.Load() {
		t.Fatal("Run did not return after its context ended")
	}
}

// Shortening the interval on reload must take effect at once: the loop
// must not sit out the old interval while health already expects the new.
func TestReconfigureShorterIntervalStaysHealthy(t *testing.T) {
	src := &fakeSource{name: "fake"}
	cfg := config.Default()
	cfg.PollInterval = time.Hour
	p, _, _ := newTestPoller(t, src, cfg)
	p.PollOnce(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	time.Sleep(50 * time.Millisecond)
	before := p.Polls()
	cfg.PollInterval = 100 * time.Millisecond
	p.Reconfigure(cfg, []sensors.Source{src})
	time.Sleep(700 * time.Millisecond)
	if n := p.Polls() - before; n < 3 {
		t.Fatalf("%d polls in 700ms at a 100ms interval", n)
	}
	if err := p.Healthy(time.Now()); err != nil {
		t.Fatal(err)
	}
}

// A driver label that is not UTF-8 loses that one sample, not the scrape.
func TestInvalidLabelDropsOnlyThatSample(t *testing.T) {
	src := &fakeSource{name: "fake"}
	bad := temp("bad", 1)
	bad.Label = "CPU\xff"
	src.set(sensors.Result{Readings: []sensors.Reading{bad, temp("good", 2)}}, nil)
	p, _, _ := newTestPoller(t, src, config.Default())
	p.PollOnce(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{P: p})
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather: %v", err)
	}
	if n, _ := testutil.GatherAndCount(reg, "edge_sensor_temperature_celsius"); n != 1 {
		t.Fatalf("%d temperature samples, want 1 (the good one)", n)
	}
}

// A sensor that no source mentions any more goes stale, then is forgotten.
func TestVanishedSensorIsForgotten(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{Readings: []sensors.Reading{temp("probe", 20)}}, nil)
	cfg := config.Default()
	cfg.PollInterval, cfg.StaleAfter = 10*time.Millisecond, 1
	p, _, _ := newTestPoller(t, src, cfg)
	p.PollOnce(context.Background())
	src.set(sensors.Result{}, nil) // unplugged
	time.Sleep(20 * time.Millisecond)
	if v := p.PollOnce(context.Background()); len(v.Sensors) != 1 || v.Sensors[0].Status != StatusStale {
		t.Fatalf("want stale: %+v", v.Sensors)
	}
	time.Sleep(110 * time.Millisecond)
	if v := p.PollOnce(context.Background()); len(v.Sensors) != 0 {
		t.Fatalf("want forgotten: %+v", v.Sensors)
	}
}

// Polled signals after polls, coalescing polls the receiver has not seen.
func TestPolledSignal(t *testing.T) {
	p, _, _ := newTestPoller(t, &fakeSource{name: "fake"}, config.Default())
	select {
	case <-p.Polled():
		t.Fatal("signal before any poll")
	default:
	}
	p.PollOnce(context.Background())
	p.PollOnce(context.Background())
	select {
	case <-p.Polled():
	default:
		t.Fatal("no signal after two polls")
	}
	select {
	case <-p.Polled():
		t.Fatal("two polls gave two signals; one should cover both")
	default:
	}
}

// With KeepFilesOpen the poll keeps what it read open, and closes what a
// poll stopped reading (a source switched off by a reload).
func TestKeepFilesOpen(t *testing.T) {
	files := fsread.NewHandles(1024)
	p := New(quiet(), "/proc", events.New())
	p.KeepFilesOpen(files)
	sources := func(c config.Config) []sensors.Source {
		return sensors.NewSources(sensors.Options{SysfsPath: "../../test/fixtures/sysfs", Files: files, Enabled: c.SourceEnabled})
	}
	cfg := config.Default()
	p.Reconfigure(cfg, sources(cfg))
	first := p.PollOnce(context.Background())
	// Sensors' limits are read on their first poll and then only every few
	// polls: the second poll closes their files.
	p.PollOnce(context.Background())
	all := files.Open()
	if v := p.PollOnce(context.Background()); len(v.Sensors) != len(first.Sensors) || files.Open() != all || all < len(first.Sensors) {
		t.Fatalf("third poll: %d sensors (first %d), %d files open (after the second %d)", len(v.Sensors), len(first.Sensors), files.Open(), all)
	}
	off := config.Default()
	off.Sources["hwmon"] = false
	p.Reconfigure(off, sources(off))
	p.PollOnce(context.Background())
	if n := files.Open(); n == 0 || n >= all {
		t.Fatalf("hwmon switched off: %d files open, %d before", n, all)
	}
}

// warner is an updater with warnings that the test changes between polls.
type warner struct{ w []string }

func (w *warner) Update() error      { return nil }
func (w *warner) Warnings() []string { return w.w }

func TestStatusLineCarriesWarnings(t *testing.T) {
	w := &warner{}
	p := New(quiet(), procWithStat(t, 100, 900), events.New(), w)
	p.Reconfigure(config.Default(), []sensors.Source{&fakeSource{name: "fake"}})
	v := p.PollOnce(context.Background())
	if line := v.StatusLine(v.Time); strings.Contains(line, ";") {
		t.Fatalf("no warnings, but the status line has some: %q", line)
	}
	w.w = []string{"memory budget NOT enforced (memory controller off: the kernel command line has cgroup_disable=memory)", "two\nlines"}
	v = p.PollOnce(context.Background())
	line := v.StatusLine(v.Time)
	want := "0 errors, 0 stale; memory budget NOT enforced (memory controller off: the kernel command line has cgroup_disable=memory); two lines"
	if !strings.HasSuffix(line, want) {
		t.Fatalf("status line %q does not end with %q", line, want)
	}
	// A Warner that is not an updater comes after the updaters' warnings.
	p.AddWarner(&warner{w: []string{"reload failed"}})
	v = p.PollOnce(context.Background())
	if line := v.StatusLine(v.Time); !strings.HasSuffix(line, want+"; reload failed") {
		t.Fatalf("status line %q does not end with the added warner's warning", line)
	}
}

type flakyUpdater struct{ err error }

func (u *flakyUpdater) Update() error { return u.err }

// An updater's failure is logged once per change, naming the updater.
func TestUpdaterFailureNamesUpdater(t *testing.T) {
	var logs strings.Builder
	u := &flakyUpdater{err: errors.New("no cgroup tree")}
	p := New(slog.New(slog.NewTextHandler(&logs, nil)), "/proc", events.New(), u)
	p.Reconfigure(config.Default(), nil)
	p.PollOnce(context.Background())
	p.PollOnce(context.Background())
	if n := strings.Count(logs.String(), "update failed"); n != 1 {
		t.Fatalf("%d failure lines for one failure, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `updater=*poller.flakyUpdater err="no cgroup tree"`) {
		t.Fatalf("failure log does not name the updater:\n%s", logs.String())
	}
	u.err = nil
	p.PollOnce(context.Background())
	if !strings.Contains(logs.String(), `msg="update recovered" updater=*poller.flakyUpdater`) {
		t.Fatalf("no recovery line naming the updater:\n%s", logs.String())
	}
}

// A host CPU that cannot be read is logged once, naming the file in words;
// it used to be a debug line only, and the metric disappeared silently.
func TestHostCPUFailureNamesFile(t *testing.T) {
	var logs strings.Builder
	proc := t.TempDir()
	p := New(slog.New(slog.NewTextHandler(&logs, nil)), proc, events.New())
	p.Reconfigure(config.Default(), nil)
	p.PollOnce(context.Background())
	p.PollOnce(context.Background())
	want := `level=WARN msg="update failed" what="host CPU use" err="cannot read host CPU times from ` + filepath.Join(proc, "stat") + `: no such file or directory"`
	if n := strings.Count(logs.String(), want); n != 1 {
		t.Fatalf("%d lines %s, want 1:\n%s", n, want, logs.String())
	}
}

// A device without an RTC boots with a wrong wall clock until NTP steps it.
// Staleness, the health check behind the watchdog and the status line
// subtract times the poll took from time.Now(): those carry Go's monotonic
// reading, which a wall-clock step does not move. A time without it (from
// time.Unix, a file's mtime, or stripped by Round(0), UTC() or In()) would make
// a step of the wall clock look like hours without a poll.
func TestPollTimesCarryMonotonicReading(t *testing.T) {
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{Readings: []sensors.Reading{temp("t1", 40)}}, nil)
	cfg := config.Default()
	cfg.PollInterval = 50 * time.Millisecond
	p, _, _ := newTestPoller(t, src, cfg)
	v := p.PollOnce(context.Background())
	monotonic := func(what string, tm time.Time) {
		t.Helper()
		if !strings.Contains(tm.String(), " m=") {
			t.Errorf("%s has no monotonic reading (%s): a wall-clock step would change ages computed from it", what, tm)
		}
	}
	monotonic("LastPoll", p.LastPoll())
	monotonic("View.Time", v.Time)
	for _, s := range v.Sensors {
		monotonic("sensor "+s.Name+" Time", s.Time)
		monotonic("sensor "+s.Name+" seen", s.seen)
	}
	if err := p.Healthy(time.Now()); err != nil {
		t.Fatalf("healthy right after a poll: %v", err)
	}
}

// Limits are exported next to their reading, one family per kind labelled
// with the limit's type, and in /sensor's JSON; a limit that failed to read
// is counted on its own and leaves the reading's status alone; a sensor
// without a value has no limits either.
func TestLimitsExposition(t *testing.T) {
	hot := temp("t1", 40.5)
	hot.Limits = sensors.Limits{{Type: "crit", Value: 90}, {Type: "max", Value: 80}}
	src := &fakeSource{name: "fake"}
	src.set(sensors.Result{
		Readings:    []sensors.Reading{hot, temp("t2", 30)},
		LimitErrors: []sensors.ReadError{{Name: "t2", Source: "fake", Reason: sensors.ReasonRange, Err: errors.New("-274 celsius")}},
	}, nil)
	other := &fakeSource{name: "other"}
	p := New(quiet(), procWithStat(t, 100, 900), events.New())
	p.Reconfigure(config.Default(), []sensors.Source{src, other})
	v := p.PollOnce(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{P: p})
	want := `
# HELP edge_sensor_temperature_limit_celsius The sensor's own limits as its driver reports them, in celsius; type: min, max, lcrit, crit, emergency (hwmon), or the lowest trip point of a thermal zone by kind: active, passive, hot, critical.
# TYPE edge_sensor_temperature_limit_celsius gauge
edge_sensor_temperature_limit_celsius{chip="chip0",label="cpu",sensor="t1",source="fake",type="crit"} 90
edge_sensor_temperature_limit_celsius{chip="chip0",label="cpu",sensor="t1",source="fake",type="max"} 80
# HELP edge_sensor_limit_read_errors_total Failed reads of sensors' own limits by source and reason (those of edge_sensor_read_errors_total); such a limit is not exported.
# TYPE edge_sensor_limit_read_errors_total counter
edge_sensor_limit_read_errors_total{reason="range",source="fake"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"edge_sensor_temperature_limit_celsius", "edge_sensor_limit_read_errors_total"); err != nil {
		t.Fatal(err)
	}
	if v.Errors != 0 || p.events.Value(events.ReadError) != 0 {
		t.Errorf("a failed limit made %d sensors fail and %g read_error events", v.Errors, p.events.Value(events.ReadError))
	}
	b, _ := v.SensorJSON("t1")
	if !strings.Contains(string(b), `"limits":{"crit":90,"max":80}`) {
		t.Errorf("/sensor/t1 = %s, want its limits", b)
	}
	if b, _ := v.SensorJSON("t2"); strings.Contains(string(b), "limits") {
		t.Errorf("/sensor/t2 = %s has limits", b)
	}

	// Samples kept from poll to poll follow a change of the limits, or of
	// the sensor's label with the same limits.
	cooler := hot
	cooler.Limits = sensors.Limits{{Type: "crit", Value: 85}}
	src.set(sensors.Result{Readings: []sensors.Reading{cooler}}, nil)
	p.PollOnce(context.Background())
	relabelled := cooler
	relabelled.Label = "soc"
	for i, r := range []sensors.Reading{cooler, relabelled} {
		src.set(sensors.Result{Readings: []sensors.Reading{r}}, nil)
		p.PollOnce(context.Background())
		want := fmt.Sprintf(`
# HELP edge_sensor_temperature_limit_celsius The sensor's own limits as its driver reports them, in celsius; type: min, max, lcrit, crit, emergency (hwmon), or the lowest trip point of a thermal zone by kind: active, passive, hot, critical.
# TYPE edge_sensor_temperature_limit_celsius gauge
edge_sensor_temperature_limit_celsius{chip="chip0",label=%q,sensor="t1",source="fake",type="crit"} 85
`, r.Label)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "edge_sensor_temperature_limit_celsius"); err != nil {
			t.Fatalf("poll %d: %v", i+3, err)
		}
	}

	// Once the sensor is stale, its value and its limits are gone.
	src.set(sensors.Result{}, nil)
	cfg := config.Default()
	cfg.PollInterval, cfg.StaleAfter = time.Millisecond, 1
	p.Reconfigure(cfg, []sensors.Source{src, other})
	time.Sleep(5 * time.Millisecond)
	p.PollOnce(context.Background())
	if n, err := testutil.GatherAndCount(reg, "edge_sensor_temperature_limit_celsius"); err != nil || n != 0 {
		t.Errorf("limit gauges of a stale sensor: %d, %v", n, err)
	}
	// A reload keeps the counts of the sources it keeps.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP edge_sensor_limit_read_errors_total Failed reads of sensors' own limits by source and reason (those of edge_sensor_read_errors_total); such a limit is not exported.
# TYPE edge_sensor_limit_read_errors_total counter
edge_sensor_limit_read_errors_total{reason="range",source="fake"} 1
`), "edge_sensor_limit_read_errors_total"); err != nil {
		t.Error(err)
	}
}

// fakeCollectors is a CollectorSet whose outcomes the test sets.
type fakeCollectors struct{ outcomes []CollectorOutcome }

func (f *fakeCollectors) Update() error                { return nil }
func (f *fakeCollectors) Outcomes() []CollectorOutcome { return f.outcomes }
func (f *fakeCollectors) ErrorSources() []string       { return []string{"rpi"} }

// The host collectors' success, duration and read errors are exported as
// the sources' are; a collector's failure is logged once per change.
func TestCollectorOutcomesExportedAsSources(t *testing.T) {
	var logs strings.Builder
	cs := &fakeCollectors{}
	ev := events.New()
	p := New(slog.New(slog.NewTextHandler(&logs, nil)), procWithStat(t, 100, 900), ev, cs)
	p.Reconfigure(config.Default(), []sensors.Source{&fakeSource{name: "fake"}})
	garbage := errors.New("/sys/x/get_throttled: garbage")
	cs.outcomes = []CollectorOutcome{{Name: "cpu", Duration: 3 * time.Millisecond},
		{Name: "rpi", Duration: time.Millisecond, Err: garbage,
			ReadErrors: []sensors.ReadError{{Name: "/sys/x/get_throttled", Source: "rpi", Reason: sensors.ReasonParse, Err: garbage}}}}
	p.PollOnce(context.Background())
	p.PollOnce(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector{P: p})
	want := `
# HELP edge_sensor_read_errors_total Failed sensor reads by source and reason (io, vanished, empty, parse, range, crc, timeout).
# TYPE edge_sensor_read_errors_total counter
edge_sensor_read_errors_total{reason="crc",source="fake"} 0
edge_sensor_read_errors_total{reason="empty",source="fake"} 0
edge_sensor_read_errors_total{reason="empty",source="rpi"} 0
edge_sensor_read_errors_total{reason="io",source="fake"} 0
edge_sensor_read_errors_total{reason="io",source="rpi"} 0
edge_sensor_read_errors_total{reason="parse",source="fake"} 0
edge_sensor_read_errors_total{reason="parse",source="rpi"} 2
edge_sensor_read_errors_total{reason="range",source="fake"} 0
edge_sensor_read_errors_total{reason="timeout",source="fake"} 0
edge_sensor_read_errors_total{reason="vanished",source="fake"} 0
edge_sensor_read_errors_total{reason="vanished",source="rpi"} 0
# HELP edge_sensor_scrape_collector_success 1 when the source's or host collector's last read succeeded as a whole (finding nothing to read is a success).
# TYPE edge_sensor_scrape_collector_success gauge
edge_sensor_scrape_collector_success{collector="cpu"} 1
edge_sensor_scrape_collector_success{collector="fake"} 1
edge_sensor_scrape_collector_success{collector="rpi"} 0
# HELP edge_sensor_scrape_collector_duration_seconds How long the source's or host collector's last read took.
# TYPE edge_sensor_scrape_collector_duration_seconds gauge
edge_sensor_scrape_collector_duration_seconds{collector="cpu"} 0.003
edge_sensor_scrape_collector_duration_seconds{collector="rpi"} 0.001
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "edge_sensor_read_errors_total", "edge_sensor_scrape_collector_success"); err != nil {
		t.Fatal(err)
	}
	if v := ev.Value(events.ReadError); v != 2 {
		t.Errorf("read_error events %v, want 2", v)
	}
	if n := strings.Count(logs.String(), `msg="collector failed" collector=rpi`); n != 1 {
		t.Errorf("%d failure lines for one failure, want 1:\n%s", n, logs.String())
	}
	cs.outcomes[1] = CollectorOutcome{Name: "rpi"}
	p.PollOnce(context.Background())
	if !strings.Contains(logs.String(), `msg="collector recovered" collector=rpi`) {
		t.Errorf("no recovery line:\n%s", logs.String())
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP edge_sensor_scrape_collector_success 1 when the source's or host collector's last read succeeded as a whole (finding nothing to read is a success).
# TYPE edge_sensor_scrape_collector_success gauge
edge_sensor_scrape_collector_success{collector="cpu"} 1
edge_sensor_scrape_collector_success{collector="fake"} 1
edge_sensor_scrape_collector_success{collector="rpi"} 1
`), "edge_sensor_scrape_collector_success"); err != nil {
		t.Fatal(err)
	}
}
