package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// runSensordReload is edge-sensord.service's ExecReload: it sends SIGHUP and
// waits for the daemon's verdict, so `systemctl reload` returns when the new
// configuration is live and fails when the daemon refused it.
func runSensordReload(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("sensord-reload", stdout, stderr)
	pid := c.Int("pid", 0, "process ID of edge-sensord (in the unit: $MAINPID)")
	dir := c.String("runtime-dir", reload.RuntimeDir(), "edge-sensord's runtime directory, where it records each reload (default: $RUNTIME_DIRECTORY)")
	timeout := c.Duration("timeout", 20*time.Second, "how long to wait for the daemon to finish reloading")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	switch {
	case *pid <= 0:
		return c.usageError("--pid must be a process ID")
	case *timeout <= 0:
		return c.usageError("--timeout must be positive")
	}
	signal := func() error {
		if err := syscall.Kill(*pid, syscall.SIGHUP); err != nil {
			return fmt.Errorf("SIGHUP to %d: %w", *pid, err)
		}
		return nil
	}
	if *dir == "" {
		if err := signal(); err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(stdout, "edge-sensord: reload requested (no --runtime-dir: not waiting for it)")
		return exitcode.OK
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := reload.Trigger(ctx, *dir, 10*time.Millisecond, signal)
	switch {
	case errors.Is(err, reload.ErrNotReported):
		fmt.Fprintf(stdout, "edge-sensord: reload requested (%v)\n", err)
		return exitcode.OK
	case err != nil:
		return c.fail(err)
	case r.Err != "":
		fmt.Fprintf(stderr, "edge-sensord: reload failed, running configuration kept: %s\n", r.Err)
		return exitcode.Failure
	}
	fmt.Fprintf(stdout, "edge-sensord: configuration reloaded (reload %d)\n", r.Seq)
	return exitcode.OK
}
