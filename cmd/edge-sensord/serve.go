package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/edgeobs/edge-observability-stack/internal/notify"
)

// catchSignals is called before READY=1: systemd may send SIGHUP or SIGTERM
// the moment it knows we are up, and the default action would kill us.
func catchSignals() chan os.Signal {
	// Room for a SIGTERM behind SIGHUPs that arrive during a reload.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	return sig
}

func stopSignals(sig chan os.Signal) { signal.Stop(sig) }

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

// serve runs the HTTP server; the channel is closed when it stops.
func (d *sensord) serve(listeners []net.Listener) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := web.ServeMultiple(listeners, d.server, d.f.web, d.log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("HTTP server failed", "err", err)
			d.serveErr.Store(&err)
		}
	}()
	return done
}

// wait reloads on SIGHUP until a stop signal or a failed server, and
// returns the exit code.
func (d *sensord) wait(sig <-chan os.Signal, serverDone <-chan struct{}, cancel context.CancelFunc) int {
	for {
		select {
		case <-serverDone:
			if d.serverHealth() != nil {
				notify.Stopping(d.n)
				return 1
			}
			serverDone = nil // closed without error: nothing more to hear from it
		case s := <-sig:
			if s == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info("shutting down", "signal", s.String())
			notify.Stopping(d.n)
			cancel()
			return d.shutdown()
		}
	}
}

func (d *sensord) shutdown() int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.server.Shutdown(ctx); err != nil {
		d.log.Warn("graceful shutdown incomplete", "err", err)
	}
	return 0
}
