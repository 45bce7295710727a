package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promversion "github.com/prometheus/common/version"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/notify"
	"github.com/edgeobs/edge-observability-stack/internal/pageout"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
	"github.com/edgeobs/edge-observability-stack/internal/selfstat"
	"github.com/edgeobs/edge-observability-stack/internal/version"
	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

// sensord is the running edge-sensord: the poller, what it feeds and the
// HTTP server that serves it.
type sensord struct {
	f       *flags
	log     *slog.Logger
	n       notify.Notifier
	files   *fsread.Handles
	events  *events.Counter
	poller  *poller.Poller
	server  *http.Server
	reloads *reloadRecorder
	refused *refusedReload
	// history is how far back Prometheus holds the daemon's data; nil
	// without a Prometheus.
	history *webapi.History
	// queries is the dashboard's way to Prometheus; the status line counts
	// its alerts through it.
	queries *webapi.QueryProxy
	// serveErr is why the HTTP server stopped, if it did.
	serveErr atomic.Pointer[error]
}

// newDaemon wires the parts together; nothing runs yet. It fails when a
// --path flag of the host collectors does not name a directory.
func newDaemon(f *flags, cfg config.Config, queries *webapi.QueryProxy, n notify.Notifier, log *slog.Logger) (*sensord, error) {
	d := &sensord{f: f, log: log, n: n, events: events.New(), queries: queries,
		// The files a poll reads stay open from poll to poll (see fsread.Handles).
		files:   fsread.NewHandles(fsread.DefaultMax),
		reloads: &reloadRecorder{dir: reload.RuntimeDir(), log: log}, refused: &refusedReload{}}
	cg := cgroup.NewCollector(cgroup.Reader{Root: f.cgroupfs, Procfs: f.procfs, Files: d.files}, f.slice)
	hostCollectors, err := f.newHost(log, d.files)
	if err != nil {
		return nil, err
	}
	processReg := prometheus.NewRegistry()
	processReg.MustRegister(selfstat.New(f.procfs))
	runtimeMetrics := &poller.CachedGatherer{G: prometheus.Gatherers{selfstat.GoRuntime(), processReg}}
	clock := clocksync.New(f.clockKernel())
	// The runtime metrics last, so that they see the memory of the poll.
	d.poller = poller.New(log, f.procfs, d.events, cg, clock, hostCollectors, runtimeMetrics)
	d.poller.KeepFilesOpen(d.files)
	d.poller.AddWarner(d.refused)
	d.poller.Reconfigure(cfg, f.sources(cfg, d.files))

	if queries.Enabled() {
		d.history = webapi.NewHistory(queries, dashboard.DefaultRangeMax)
	}
	reg := prometheus.NewRegistry()
	promversion.Version, promversion.Revision = version.Version, version.Revision
	reg.MustRegister(versioncollector.NewCollector("edge_sensor"), d.events, poller.Collector{P: d.poller}, cg, clock, hostCollectors)
	d.server = webapi.NewServer(webapi.NewHandler(webapi.Options{
		Poller: d.poller, Events: d.events, Gatherer: prometheus.Gatherers{reg, runtimeMetrics}, Log: log,
		MaxRequests: f.maxRequests, Health: d.serverHealth, Version: version.Version,
		Generation: func() uint64 { return d.poller.Polls() + d.events.Changes() },
		// The warnings of the last poll: cgroup limits not enforced, clock not synchronised, a refused reload.
		Queries: queries, Warnings: func() []string { return d.poller.View().Warnings }, History: d.history,
	}), log)
	return d, nil
}

// run keeps polling, and asking Prometheus how much history it holds for
// the page's first range, until ctx ends.
func (d *sensord) run(ctx context.Context) {
	go d.poller.Run(ctx)
	if d.history != nil {
		go d.history.Run(ctx, time.Minute)
	}
}

func (d *sensord) serverHealth() error {
	if e := d.serveErr.Load(); e != nil {
		return fmt.Errorf("HTTP server stopped: %v", *e)
	}
	return nil
}

// healthy gates the watchdog: the poll loop makes progress and the server runs.
func (d *sensord) healthy() error {
	if err := d.poller.Healthy(time.Now()); err != nil {
		return err
	}
	return d.serverHealth()
}

func (d *sensord) firstPoll(ctx context.Context) *poller.View {
	v := d.poller.PollOnce(ctx)
	d.log.Info("first poll done", "sensors", len(v.Sensors), "errors", v.Errors, "took", v.Duration)
	if len(v.Sensors) == 0 {
		d.log.Warn("no sensors found; run with --sensors.simulate on a machine without sensors")
	}
	return v
}

// ready records the (absent) reload outcome before systemd can run
// ExecReload, gives back start-up's pages, sends READY=1, and starts the
// watchdog and the status line. Start-up is over once the first poll is
// done and the server runs, so whoever sees READY=1 sees the memory the
// daemon keeps.
func (d *sensord) ready(v *poller.View, watchdog time.Duration, stop <-chan struct{}) {
	d.reloads.record(nil)
	if d.f.pageout {
		d.pageOut()
	}
	if err := notify.Ready(d.n, v.StatusLine(time.Now())); err != nil {
		d.log.Warn("sd_notify failed", "err", err)
	}
	if watchdog > 0 {
		d.log.Info("watchdog enabled", "ping_interval", watchdog)
		go notify.Watchdog{N: d.n, Interval: watchdog, Log: d.log, Health: d.healthy}.Run(stop)
	}
	go statusLoop(d.n, d.poller, d.queries, stop)
}

// pageOut gives back the executable's pages only start-up touched.
func (d *sensord) pageOut() {
	switch size, err := pageout.Executable(); {
	case err != nil:
		d.log.Warn("cannot page out start-up pages", "err", err)
	default:
		d.log.Debug("start-up pages paged out", "bytes", size)
	}
}
