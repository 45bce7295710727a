package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/notify"
	"github.com/edgeobs/edge-observability-stack/internal/poller"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

// reload re-reads the configuration. A bad file keeps the running
// configuration: a reload must never take a working daemon down. Either way
// a poll publishes the outcome (a refusal stays among the warnings of every
// poll until a reload succeeds), and the outcome is recorded before READY=1,
// so that whoever sees READY or the record finds it in the status line,
// /healthz and /api/dashboard.
func (d *sensord) reload() {
	notify.Reloading(d.n)
	cfg, err := d.f.loadConfig()
	d.refused.set(err, time.Now())
	if err != nil {
		d.log.Error("reload failed; keeping the running configuration", "err", err)
	} else {
		d.poller.Reconfigure(cfg, d.f.sources(cfg, d.files))
	}
	v := d.poller.PollOnce(context.Background())
	if err == nil {
		d.log.Info("configuration reloaded", "sensors", len(v.Sensors))
	}
	d.reloads.record(err)
	notify.Ready(d.n, v.StatusLine(time.Now()))
}

// refusedReload is the last reload that failed, until one succeeds: a
// poller.Warner, so that it is part of every poll's status line, /healthz
// and the dashboard's warnings, not a message the next poll overwrites.
type refusedReload struct {
	mu  sync.Mutex
	msg string
}

// set records the outcome of the reload at at: a failure, or nil for a
// success, which clears the last failure.
func (r *refusedReload) set(err error, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msg = ""
	if err != nil {
		r.msg = "reload failed at " + at.Format(time.DateTime) + ", running configuration kept: " + err.Error()
	}
}

// Warnings implements poller.Warner.
func (r *refusedReload) Warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msg == "" {
		return nil
	}
	return []string{r.msg}
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

// statusLoop keeps `systemctl status` current, once per poll, with
// Prometheus's alert count asked at most once per alertsEvery.
func statusLoop(n notify.Notifier, p *poller.Poller, q *webapi.QueryProxy, stop <-chan struct{}) {
	var alerts string
	var asked time.Time
	for {
		select {
		case <-stop:
			return
		case <-p.Polled():
		}
		if q.Enabled() && time.Since(asked) >= alertsEvery {
			asked = time.Now()
			alerts = alertsStatus(q)
		}
		line := p.View().StatusLine(time.Now())
		if alerts != "" {
			line += "; " + alerts
		}
		notify.Status(n, line)
	}
}

// alertsEvery is Prometheus's shipped rule evaluation interval: asking more
// often shows nothing new.
const alertsEvery = 15 * time.Second

func alertsStatus(q *webapi.QueryProxy) string {
	c, err := q.CountAlerts(context.Background())
	if err != nil {
		return "alerts unknown: " + err.Error()
	}
	return c.String()
}
