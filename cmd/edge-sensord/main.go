// Command edge-sensord reads the device's sensors and the stack's cgroup
// accounting, and serves them to Prometheus and to people, under systemd.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	promversion "github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/notify"
	"github.com/edgeobs/edge-observability-stack/internal/pageout"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
	"github.com/edgeobs/edge-observability-stack/internal/selfstat"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/version"
	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr, notify.Systemd{})) }

type flags struct {
	web          *web.FlagConfig
	configFile   string
	sysfs        string
	procfs       string
	cgroupfs     string
	slice        string
	simulate     bool
	pollInterval time.Duration
	staleAfter   int
	cpuThreshold float64
	maxRequests  int
	maxProcs     int
	gcPercent    int
	pageout      bool
	log          *promslog.Config
	promURL      string
	queries      webapi.QueryLimits
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	app := kingpin.New("edge-sensord", "Reads the device's sensors and the monitoring stack's cgroup accounting and serves them to Prometheus.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	app.Version(fmt.Sprintf("edge-sensord %s (revision %s, %s)", version.Version, version.Revision, runtime.Version()))
	app.HelpFlag.Short('h')
	f := &flags{log: &promslog.Config{}}
	f.web = kingpinflag.AddFlags(app, ":8000")
	app.Flag("config.file", "Optional YAML configuration (poll_interval, stale_after, cpu_spike_threshold, sources, ignore); re-read on SIGHUP.").StringVar(&f.configFile)
	app.Flag("path.sysfs", "sysfs mount point.").Default("/sys").StringVar(&f.sysfs)
	app.Flag("path.procfs", "procfs mount point.").Default("/proc").StringVar(&f.procfs)
	app.Flag("path.cgroupfs", "cgroup filesystem mount point.").Default("/sys/fs/cgroup").StringVar(&f.cgroupfs)
	app.Flag("cgroup.slice", "systemd slice whose units' memory and CPU are exported.").Default("edge-observability.slice").StringVar(&f.slice)
	app.Flag("sensors.simulate", "Add simulated sensors (for machines without any). Never on by default.").BoolVar(&f.simulate)
	typed(app, "poll.interval", "How often sensors are read.", "5s", &f.pollInterval, time.ParseDuration)
	typed(app, "sensors.stale-after", "Poll intervals without a good read after which a sensor is stale.", "3", &f.staleAfter, strconv.Atoi)
	typed(app, "cpu.spike-threshold", "Host CPU use ratio above which sensor_cpu_spike is 1.", "0.9", &f.cpuThreshold,
		func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	typed(app, "web.max-requests", "Maximum concurrent HTTP requests; more get 503 at once.", "16", &f.maxRequests, strconv.Atoi)
	app.Flag("runtime.gomaxprocs", "CPUs the Go runtime may use at once (GOMAXPROCS). One is enough to read sensors and serve a cache, and spares the cross-CPU wake-ups of the scheduler.").
		Envar("GOMAXPROCS").Default("1").SetValue(flagValue[int]{"runtime.gomaxprocs", &f.maxProcs, strconv.Atoi})
	app.Flag("runtime.gogc", "Heap growth, in percent, that triggers a garbage collection (GOGC), or \"off\". The daemon's live heap is about 1 MiB; at Go's default of 100 its heap grows to 4 MiB between collections.").
		Envar("GOGC").Default("25").SetValue(flagValue[int]{"runtime.gogc", &f.gcPercent, parseGOGC})
	app.Flag("runtime.pageout", "Once started, give the kernel back the executable's pages that only start-up touched (MADV_PAGEOUT); those still in use are read back on demand.").
		Default("true").BoolVar(&f.pageout)
	f.queryFlags(app)
	promslogflag.AddFlags(app, f.log)
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	if f.maxProcs < 1 {
		return nil, fmt.Errorf("--runtime.gomaxprocs must be >= 1, got %d", f.maxProcs)
	}
	return f, nil
}

// queryFlags configure the dashboard's query proxy to Prometheus.
func (f *flags) queryFlags(app *kingpin.Application) {
	d := webapi.DefaultQueryLimits()
	app.Flag("prometheus.url", "Prometheus whose data the dashboard shows (its /api/v1/query and /api/v1/query_range only); empty turns history off.").
		Default("http://127.0.0.1:9090").StringVar(&f.promURL)
	typed(app, "dashboard.max-range", "Longest time range of a dashboard range query.", model.Duration(d.MaxRange).String(), &f.queries.MaxRange, parseDuration)
	typed(app, "dashboard.max-points", "Most points per series of a dashboard range query ((end-start)/step+1).", strconv.Itoa(d.MaxPoints), &f.queries.MaxPoints, strconv.Atoi)
	typed(app, "dashboard.max-queries", "Dashboard queries forwarded to Prometheus at once; more get 503 at once.", strconv.Itoa(d.MaxConcurrent), &f.queries.MaxConcurrent, strconv.Atoi)
	typed(app, "dashboard.query-timeout", "Longest a dashboard query may run (passed to Prometheus as its timeout).", model.Duration(d.Timeout).String(), &f.queries.Timeout, parseDuration)
	typed(app, "dashboard.max-request-size", "Largest body of a dashboard query (POST).", units.Base2Bytes(d.MaxBodyBytes).String(), &f.queries.MaxBodyBytes,
		func(s string) (int64, error) { b, err := units.ParseBase2Bytes(s); return int64(b), err })
}

func parseDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// parseGOGC reads GOGC's syntax: a percentage, or "off" (-1).
func parseGOGC(s string) (int, error) {
	if s == "off" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 1 {
		err = fmt.Errorf("must be >= 1 or \"off\", got %d", n)
	}
	return n, err
}

// flagValue parses a flag and names it in the error, which kingpin's typed
// flags do not ("time: invalid duration" alone does not say which flag).
type flagValue[T any] struct {
	name  string
	p     *T
	parse func(string) (T, error)
}

func (v flagValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s=%s: %w", v.name, s, err)
	}
	*v.p = x
	return nil
}

func (v flagValue[T]) String() string { return fmt.Sprint(*v.p) }

func typed[T any](app *kingpin.Application, name, help, def string, p *T, parse func(string) (T, error)) {
	app.Flag(name, help).Default(def).SetValue(flagValue[T]{name, p, parse})
}

// baseConfig is what the flags say; the config file, if any, overrides it.
func (f *flags) baseConfig() (config.Config, error) {
	c := config.Default()
	c.PollInterval, c.StaleAfter, c.CPUSpikeThreshold = f.pollInterval, f.staleAfter, f.cpuThreshold
	switch {
	case c.PollInterval < 100*time.Millisecond || c.PollInterval > time.Hour:
		return c, fmt.Errorf("--poll.interval must be between 100ms and 1h, got %s", c.PollInterval)
	case c.StaleAfter < 1:
		return c, fmt.Errorf("--sensors.stale-after must be >= 1, got %d", c.StaleAfter)
	case c.CPUSpikeThreshold <= 0 || c.CPUSpikeThreshold > 1:
		return c, fmt.Errorf("--cpu.spike-threshold must be in (0, 1], got %g", c.CPUSpikeThreshold)
	}
	return c, nil
}

func (f *flags) loadConfig() (config.Config, error) {
	base, err := f.baseConfig()
	if err != nil || f.configFile == "" {
		return base, err
	}
	return config.Load(f.configFile, base, sensors.SourceNames())
}

func (f *flags) sources(c config.Config, files *fsread.Handles) []sensors.Source {
	disabled := map[string]bool{}
	for name, on := range c.Sources {
		disabled[name] = !on
	}
	// A hung attribute must time out well inside the poll interval, so that
	// it costs one sensor, not the whole source.
	timeout := min(sensors.DefaultReadTimeout, c.PollInterval/2)
	return sensors.NewSources(sensors.Options{SysfsPath: f.sysfs, Simulate: f.simulate, Disabled: disabled, ReadTimeout: timeout, Files: files})
}

func run(args []string, stderr io.Writer, n notify.Notifier) int {
	f, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "edge-sensord: error:", err)
		return 2
	}
	log := promslog.New(&promslog.Config{Level: f.log.Level, Format: f.log.Format, Writer: stderr})
	runtime.GOMAXPROCS(f.maxProcs)
	debug.SetGCPercent(f.gcPercent)

	// 1. Parse and validate everything before touching the network.
	cfg, err := f.loadConfig()
	if err != nil {
		log.Error("invalid configuration; refusing to start", "err", err)
		return 1
	}
	if f.web.WebConfigFile != nil && *f.web.WebConfigFile != "" {
		if err := web.Validate(*f.web.WebConfigFile); err != nil {
			log.Error("invalid web configuration; refusing to start", "file", *f.web.WebConfigFile, "err", err)
			return 1
		}
	}
	// GOMEMLIMIT from the cgroup limit unless set explicitly, leaving 10% for
	// non-heap memory; memlimit.Set leaves an explicit GOMEMLIMIT alone.
	if limit, err := memlimit.Set(memlimit.WithRatio(0.9), memlimit.WithProvider(memlimit.FromCgroup)); err == nil {
		log.Debug("Go memory limit", "bytes", limit)
	}

	queries, err := webapi.NewQueryProxy(f.promURL, f.queries)
	if err != nil {
		log.Error("invalid dashboard query settings; refusing to start", "err", err)
		return 1
	}

	events := poller.NewEvents()
	// The files a poll reads stay open from poll to poll (see fsread.Handles).
	files := fsread.NewHandles(fsread.DefaultMax)
	cg := cgroup.NewCollector(cgroup.Reader{Root: f.cgroupfs, Procfs: f.procfs, Files: files}, f.slice)
	runtimeReg := prometheus.NewRegistry()
	runtimeReg.MustRegister(collectors.NewGoCollector(), selfstat.New(f.procfs))
	runtimeMetrics := &poller.CachedGatherer{G: runtimeReg}
	p := poller.New(log, f.procfs, events, cg, runtimeMetrics)
	p.KeepFilesOpen(files)
	p.Reconfigure(cfg, f.sources(cfg, files))

	reg := prometheus.NewRegistry()
	promversion.Version, promversion.Revision = version.Version, version.Revision
	reg.MustRegister(versioncollector.NewCollector("edge_sensor"), events, poller.Collector{P: p}, cg)
	gatherers := prometheus.Gatherers{reg, runtimeMetrics}

	// Signals are caught before READY=1: systemd may send SIGHUP or SIGTERM
	// the moment it knows we are up, and the default action would kill us.
	// Room for a SIGTERM behind SIGHUPs that arrive during a reload.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)

	// 2. Bind listeners (or take systemd's), so a port conflict fails the start.
	listeners, err := listen(f)
	if err != nil {
		log.Error("cannot listen; refusing to start", "err", err)
		return 1
	}

	var serveErr atomic.Pointer[error]
	serverHealth := func() error {
		if e := serveErr.Load(); e != nil {
			return fmt.Errorf("HTTP server stopped: %v", *e)
		}
		return nil
	}
	srv := webapi.NewServer(webapi.NewHandler(webapi.Options{
		Poller: p, Events: events, Gatherer: gatherers, Log: log, MaxRequests: f.maxRequests,
		Health: serverHealth, Version: version.Version,
		Generation: func() uint64 { return p.Polls() + events.Changes() },
		Queries:    queries, Warnings: cg.Warnings,
	}), log)

	// 3. First poll, so the first scrape already has data.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := p.PollOnce(ctx)
	log.Info("first poll done", "sensors", len(v.Sensors), "errors", v.Errors, "took", v.Duration)
	if len(v.Sensors) == 0 {
		log.Warn("no sensors found; run with --sensors.simulate on a machine without sensors")
	}

	serverDone := make(chan struct{})
	go func() {
		defer close(serverDone)
		if err := web.ServeMultiple(listeners, srv, f.web, log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server failed", "err", err)
			serveErr.Store(&err)
		}
	}()
	go p.Run(ctx)

	// 4. Ready. The reload record exists before systemd can run ExecReload.
	reloads := &reloadRecorder{dir: reload.RuntimeDir(), log: log}
	reloads.record(nil)
	if err := notify.Ready(n, v.StatusLine(time.Now())); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
	stop := make(chan struct{})
	defer close(stop)
	if interval, ok := notify.WatchdogInterval(); ok {
		log.Info("watchdog enabled", "ping_interval", interval)
		go notify.Watchdog{N: n, Interval: interval, Log: log, Health: func() error {
			if err := p.Healthy(time.Now()); err != nil {
				return err
			}
			return serverHealth()
		}}.Run(stop)
	}
	go statusLoop(n, p, stop)
	if f.pageout {
		switch size, err := pageout.Executable(); {
		case errors.Is(err, pageout.ErrUnsupported):
			log.Debug("start-up pages kept", "err", err)
		case err != nil:
			log.Warn("cannot page out start-up pages", "err", err)
		default:
			log.Debug("start-up pages paged out", "bytes", size)
		}
	}

	for {
		select {
		case <-serverDone:
			if serverHealth() != nil {
				notify.Stopping(n)
				return 1
			}
		case s := <-sig:
			if s == syscall.SIGHUP {
				reloadConfig(f, p, files, n, reloads, log)
				continue
			}
			log.Info("shutting down", "signal", s.String())
			notify.Stopping(n)
			cancel()
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("graceful shutdown incomplete", "err", err)
			}
			return 0
		}
	}
}

// listen binds --web.listen-address, or takes the sockets systemd passed.
func listen(f *flags) ([]net.Listener, error) {
	if f.web.WebSystemdSocket != nil && *f.web.WebSystemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return nil, err
		}
		if len(ls) == 0 {
			return nil, errors.New("--web.systemd-socket given but systemd passed no sockets (LISTEN_FDS)")
		}
		return ls, nil
	}
	var ls []net.Listener
	for _, addr := range *f.web.WebListenAddresses {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// reloadConfig re-reads the configuration. A bad file keeps the running
// configuration: a reload must never take a working daemon down. The outcome
// is recorded before READY=1 so that whoever sees READY finds the record.
func reloadConfig(f *flags, p *poller.Poller, files *fsread.Handles, n notify.Notifier, rec *reloadRecorder, log *slog.Logger) {
	notify.Reloading(n)
	cfg, err := f.loadConfig()
	if err == nil && f.web.WebConfigFile != nil && *f.web.WebConfigFile != "" {
		err = web.Validate(*f.web.WebConfigFile)
	}
	if err != nil {
		log.Error("reload failed; keeping the running configuration", "err", err)
		rec.record(err)
		// A newline would start a new sd_notify assignment.
		n.Notify("READY=1\nSTATUS=Reload failed, running configuration kept: " + strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	p.Reconfigure(cfg, f.sources(cfg, files))
	v := p.PollOnce(context.Background())
	log.Info("configuration reloaded", "sensors", len(v.Sensors))
	rec.record(nil)
	notify.Ready(n, v.StatusLine(time.Now()))
}

// reloadRecorder keeps the outcome of each reload in the runtime directory
// for `edgectl sensord-reload`, the unit's ExecReload; without a runtime
// directory (not under systemd) it does nothing.
type reloadRecorder struct {
	dir string
	seq uint64
	log *slog.Logger
}

func (r *reloadRecorder) record(err error) {
	if r.dir == "" {
		return
	}
	res := reload.Result{Seq: r.seq}
	if err != nil {
		res.Err = err.Error()
	}
	r.seq++
	if err := reload.Record(r.dir, res); err != nil {
		r.log.Warn("cannot record the reload outcome; systemctl reload will not wait for it", "err", err)
	}
}

// statusLoop keeps `systemctl status` current, once per poll.
func statusLoop(n notify.Notifier, p *poller.Poller, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-p.Polled():
		}
		notify.Status(n, p.View().StatusLine(time.Now()))
	}
}
