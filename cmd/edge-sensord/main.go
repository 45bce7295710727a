// Command edge-sensord reads the device's sensors and the stack's cgroup
// accounting, and serves them to Prometheus and to people, under systemd.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/prometheus/common/promslog"

	"github.com/edgeobs/edge-observability-stack/internal/notify"
	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr, notify.Systemd{})) }

// run starts the daemon in the order systemd relies on: everything is
// checked before the network is touched, the port is bound before the first
// poll, and READY=1 is sent only once the first scrape would find data.
func run(args []string, stderr io.Writer, n notify.Notifier) int {
	f, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "edge-sensord: error:", err)
		return 2
	}
	log := promslog.New(&promslog.Config{Level: f.log.Level, Format: f.log.Format, Writer: stderr})
	tuneRuntime(f, log)

	// 1. Parse and validate everything before touching the network.
	cfg, err := f.loadConfig()
	if err != nil {
		log.Error("invalid configuration; refusing to start", "err", err)
		return 1
	}
	watchdog, err := notify.WatchdogInterval()
	if err != nil {
		log.Error("invalid watchdog settings from the service manager; refusing to start", "err", err)
		return 1
	}
	queries, err := webapi.NewQueryProxy(f.promURL, f.queries)
	if err != nil {
		log.Error("invalid dashboard query settings; refusing to start", "err", err)
		return 1
	}
	d, err := newDaemon(f, cfg, queries, n, log)
	if err != nil {
		log.Error("invalid host collector settings; refusing to start", "err", err)
		return 1
	}
	sig := catchSignals()
	defer stopSignals(sig)

	// 2. Bind listeners (or take systemd's), so a port conflict fails the start.
	listeners, err := listen(f)
	if err != nil {
		log.Error("cannot listen; refusing to start", "err", err)
		return 1
	}

	// 3. First poll, so the first scrape already has data; then serve.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := d.firstPoll(ctx)
	serverDone := d.serve(listeners)
	d.run(ctx)

	// 4. Ready, then keep systemd informed until told to stop.
	stop := make(chan struct{})
	defer close(stop)
	d.ready(v, watchdog, stop)
	return d.wait(sig, serverDone, cancel)
}

// tuneRuntime applies the runtime flags and sizes the Go memory limit.
func tuneRuntime(f *flags, log *slog.Logger) {
	runtime.GOMAXPROCS(f.maxProcs)
	debug.SetGCPercent(f.gcPercent)
	// GOMEMLIMIT from the cgroup limit unless set explicitly, leaving 10% for
	// non-heap memory; memlimit.Set leaves an explicit GOMEMLIMIT alone.
	if limit, err := memlimit.Set(memlimit.WithRatio(0.9), memlimit.WithProvider(memlimit.FromCgroup)); err == nil {
		log.Debug("Go memory limit", "bytes", limit)
	}
}
