package notify

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen binds a unixgram socket in a temp dir and points NOTIFY_SOCKET at it,
// exactly as systemd does for a Type=notify service.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

func recv(t *testing.T, c *net.UnixConn, wait time.Duration) (string, bool) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func TestMessages(t *testing.T) {
	c := listen(t)
	n := Systemd{}
	if err := Ready(n, "3 sensors"); err != nil {
		t.Fatal(err)
	}
	if m, _ := recv(t, c, time.Second); m != "READY=1\nSTATUS=3 sensors" {
		t.Fatalf("ready: %q", m)
	}
	Reloading(n)
	m, _ := recv(t, c, time.Second)
	if !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") || !strings.Contains(m, "STATUS=") {
		t.Fatalf("reloading: %q", m)
	}
	Stopping(n)
	if m, _ := recv(t, c, time.Second); !strings.HasPrefix(m, "STOPPING=1") {
		t.Fatalf("stopping: %q", m)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "4000000")
	t.Setenv("WATCHDOG_PID", "")
	d, err := WatchdogInterval()
	if err != nil || d != 2*time.Second {
		t.Fatalf("got %v %v", d, err)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if d, err := WatchdogInterval(); d != 0 || err != nil {
		t.Fatalf("no WATCHDOG_USEC: want no watchdog, got %v %v", d, err)
	}
	for _, bad := range []string{"4s", "0", "-1"} {
		t.Setenv("WATCHDOG_USEC", bad)
		if d, err := WatchdogInterval(); err == nil || !strings.Contains(err.Error(), "WATCHDOG_USEC") {
			t.Errorf("WATCHDOG_USEC=%s: got %v %v, want an error naming WATCHDOG_USEC", bad, d, err)
		}
	}
}

func TestStatusIsOneAssignment(t *testing.T) {
	c := listen(t)
	n := Systemd{}
	Status(n, "reload failed: c.yml:2: bad\nREADY=1")
	if m, _ := recv(t, c, time.Second); m != "STATUS=reload failed: c.yml:2: bad READY=1" {
		t.Fatalf("status: %q", m)
	}
	Ready(n, "a\nb")
	if m, _ := recv(t, c, time.Second); m != "READY=1\nSTATUS=a b" {
		t.Fatalf("ready: %q", m)
	}
}

func TestWatchdogStopsPingingWhileUnhealthy(t *testing.T) {
	c := listen(t)
	var healthy atomic.Bool
	healthy.Store(true)
	stop := make(chan struct{})
	defer close(stop)
	go Watchdog{N: Systemd{}, Interval: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Health: func() error {
			if healthy.Load() {
				return nil
			}
			return errors.New("poll loop stuck")
		}}.Run(stop)

	if m, ok := recv(t, c, 2*time.Second); !ok || m != "WATCHDOG=1" {
		t.Fatalf("healthy: want WATCHDOG=1, got %q", m)
	}
	healthy.Store(false)
	// Drain pings already in flight, then expect the status line and silence.
	sawStatus := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		m, ok := recv(t, c, 300*time.Millisecond)
		if !ok {
			break
		}
		if strings.HasPrefix(m, "STATUS=Unhealthy: poll loop stuck") {
			sawStatus = true
			continue
		}
		if sawStatus {
			t.Fatalf("got %q after the health check failed", m)
		}
	}
	if !sawStatus {
		t.Fatal("no STATUS line when health failed")
	}
	healthy.Store(true)
	if m, ok := recv(t, c, 2*time.Second); !ok || m != "WATCHDOG=1" {
		t.Fatalf("recovered: want WATCHDOG=1, got %q", m)
	}
}
