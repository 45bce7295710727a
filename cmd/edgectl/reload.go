package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/cmddoc"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

func init() { commands["sensord-reload"] = runSensordReload }

// runSensordReload is edge-sensord.service's ExecReload: it sends SIGHUP and
// waits for the daemon's verdict, so `systemctl reload` returns when the new
// configuration is live and fails when the daemon refused it.
func runSensordReload(args []string, stdout, stderr io.Writer) int {
	fs := cmddoc.NewFlagSet("edgectl sensord-reload", stderr)
	pid := fs.Int("pid", 0, "process ID of edge-sensord (in the unit: $MAINPID)")
	dir := fs.String("runtime-dir", reload.RuntimeDir(), "edge-sensord's runtime directory, where it records each reload (default: $RUNTIME_DIRECTORY)")
	timeout := fs.Duration("timeout", 20*time.Second, "how long to wait for the daemon to finish reloading")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: edgectl sensord-reload --pid PID [flags]\n\n"+
			"Sends SIGHUP to edge-sensord and waits until it has re-read its configuration.\n"+
			"Exit status: 0 reloaded, 1 the daemon refused the new configuration (it keeps\n"+
			"running the old one) or did not answer, 2 usage error.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "edgectl sensord-reload: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	case *pid <= 0:
		fmt.Fprintln(stderr, "edgectl sensord-reload: --pid must be a process ID")
		return exitUsage
	case *timeout <= 0:
		fmt.Fprintln(stderr, "edgectl sensord-reload: --timeout must be positive")
		return exitUsage
	}
	signal := func() error {
		if err := syscall.Kill(*pid, syscall.SIGHUP); err != nil {
			return fmt.Errorf("SIGHUP to %d: %w", *pid, err)
		}
		return nil
	}
	if *dir == "" {
		if err := signal(); err != nil {
			fmt.Fprintf(stderr, "edgectl sensord-reload: %v\n", err)
			return exitFailure
		}
		fmt.Fprintln(stdout, "edge-sensord: reload requested (no --runtime-dir: not waiting for it)")
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := reload.Trigger(ctx, *dir, 10*time.Millisecond, signal)
	switch {
	case errors.Is(err, reload.ErrNotReported):
		fmt.Fprintf(stdout, "edge-sensord: reload requested (%v)\n", err)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "edgectl sensord-reload: %v\n", err)
		return exitFailure
	case r.Err != "":
		fmt.Fprintf(stderr, "edge-sensord: reload failed, running configuration kept: %s\n", r.Err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "edge-sensord: configuration reloaded (reload %d)\n", r.Seq)
	return exitOK
}
