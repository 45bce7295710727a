// Package notify speaks the sd_notify protocol: readiness, status lines,
// reload and stop notices, and a health-gated watchdog.
package notify

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// Notifier sends one sd_notify message. It is an interface so that the
// watchdog can be tested without a service manager.
type Notifier interface {
	Notify(state string) error
}

// Systemd sends to $NOTIFY_SOCKET; without it every call is a no-op, so the
// daemon runs the same under systemd, in a terminal and in tests.
type Systemd struct{}

// Notify implements Notifier.
func (Systemd) Notify(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// Ready tells the manager the service can serve, with a status line.
func Ready(n Notifier, status string) error {
	return n.Notify(daemon.SdNotifyReady + "\n" + statusLine(status))
}

// Status sets the free-form line shown by `systemctl status`.
func Status(n Notifier, status string) error {
	return n.Notify(statusLine(status))
}

// statusLine is one STATUS= assignment: a newline in status (an error's
// text, say) would end it and start another assignment.
func statusLine(status string) string {
	return "STATUS=" + strings.ReplaceAll(status, "\n", " ")
}

// Stopping tells the manager a shutdown has begun.
func Stopping(n Notifier) error {
	return n.Notify(daemon.SdNotifyStopping + "\nSTATUS=Shutting down")
}

// Reloading starts a reload. MONOTONIC_USEC lets systemd (253+) match the
// READY=1 that ends it to this reload (Type=notify-reload semantics).
func Reloading(n Notifier) error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return err
	}
	usec := ts.Sec*1_000_000 + ts.Nsec/1_000
	return n.Notify(fmt.Sprintf("%s\nMONOTONIC_USEC=%d\nSTATUS=Reloading configuration", daemon.SdNotifyReloading, usec))
}

// WatchdogInterval returns how often to ping: half of WATCHDOG_USEC, as
// sd_watchdog_enabled(3) recommends; 0 when no watchdog is asked for. A
// malformed WATCHDOG_USEC or WATCHDOG_PID is an error, not "no watchdog": the
// unit asked for one, and running without it would go unnoticed.
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("watchdog requested but not understood: %w", err)
	}
	return d / 2, nil
}

// Watchdog pings the manager only while health returns nil, so a hung poll
// loop or a dead HTTP server lets WatchdogSec expire and systemd restarts us.
type Watchdog struct {
	N        Notifier
	Interval time.Duration
	Health   func() error
	Log      *slog.Logger
}

// Run pings until stop is closed.
func (w Watchdog) Run(stop <-chan struct{}) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := w.Health(); err != nil {
			if !failing {
				w.Log.Error("health check failed; withholding watchdog pings", "err", err)
				_ = Status(w.N, "Unhealthy: "+err.Error())
			}
			failing = true
			continue
		}
		if failing {
			w.Log.Info("health check passes again; resuming watchdog pings")
			failing = false
		}
		if err := w.N.Notify(daemon.SdNotifyWatchdog); err != nil {
			w.Log.Warn("watchdog ping failed", "err", err)
		}
	}
}
