package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/notify"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// reload re-reads the configuration. A bad file keeps the running
// configuration: a reload must never take a working daemon down. The outcome
// is recorded before READY=1 so that whoever sees READY finds the record.
func (d *sensord) reload() {
	notify.Reloading(d.n)
	cfg, err := d.f.loadConfig()
	if err != nil {
		d.log.Error("reload failed; keeping the running configuration", "err", err)
		d.reloads.record(err)
		notify.Ready(d.n, "Reload failed, running configuration kept: "+err.Error())
		return
	}
	d.poller.Reconfigure(cfg, d.f.sources(cfg, d.files))
	v := d.poller.PollOnce(context.Background())
	d.log.Info("configuration reloaded", "sensors", len(v.Sensors))
	d.reloads.record(nil)
	notify.Ready(d.n, v.StatusLine(time.Now()))
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
