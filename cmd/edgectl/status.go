package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/health"
)

// dialSystemd is replaced in tests.
var dialSystemd = func(ctx context.Context) (health.Systemd, func(), error) {
	d, err := health.DialSystemd(ctx)
	if err != nil {
		return nil, nil, err
	}
	return d, d.Close, nil
}

// clockKernel is where status reads the clock's status, as edge-sensord
// does; replaced in tests.
var clockKernel clocksync.Kernel = clocksync.Adjtimex{}

// sensordRuntimeDir is edge-sensord's RuntimeDirectory= (its unit's); the
// tests clear it.
var sensordRuntimeDir = "/run/edge-sensord"

// unavailableSystemd stands in when systemd cannot be reached, so the report
// says why the states are unknown.
type unavailableSystemd struct{ err error }

func (u unavailableSystemd) UnitStates(context.Context, []string) (map[string]health.UnitState, error) {
	return nil, u.err
}

// statusFlags are the flags of edgectl status.
type statusFlags struct {
	asJSON, noSystemd                                                          *bool
	promURL, budget, cgroupfs, procfs, rootfs, check, slice, units, quarantine *string
	sensordDir                                                                 *string
	window, timeout                                                            *time.Duration
	minSuccess                                                                 *float64
}

func newStatusFlags(fs *cmdLine) statusFlags {
	return statusFlags{
		asJSON:     fs.Bool("json", false, "print the report as JSON"),
		promURL:    fs.String("prometheus.url", "http://127.0.0.1:9090", "base URL of Prometheus; empty skips the scrape checks"),
		window:     fs.Duration("window", 5*time.Minute, "window of the scrape success ratio"),
		minSuccess: fs.Float64("min-success", 0.999, "lowest acceptable share of successful scrapes per target over --window"),
		budget:     fs.String("budget", "150M", "memory budget of the slice when it has no MemoryMax of its own; when given, it also applies below the slice's MemoryMax (K, M, G suffixes are base 1024)"),
		cgroupfs:   fs.String("path.cgroupfs", cgroup.DefaultRoot, "cgroup filesystem mount point"),
		procfs:     fs.String("path.procfs", "/proc", "procfs mount point (the kernel command line explains a controller that is off)"),
		rootfs:     fs.String("path.rootfs", "/", "root filesystem of the device (where the boot files the fix names are)"),
		check:      fs.String("check", "", `"cgroup": only whether the kernel enforces the memory budget, and the fix when it does not (no systemd, no Prometheus)`),
		slice:      fs.String("slice", "edge-observability.slice", "slice unit to report, or its cgroup path relative to --path.cgroupfs"),
		units:      fs.String("units", "edge-sensord.service,prometheus.service", "comma-separated units that must be active even when they have no cgroup"),
		quarantine: fs.String("tsdb.quarantine", "/var/lib/prometheus/metrics2/quarantine", "where edgectl prometheus-exec moves TSDB blocks Prometheus could not open; empty skips this check"),
		sensordDir: fs.String("sensord.runtime-dir", sensordRuntimeDir, "edge-sensord's runtime directory, where it records whether its last reload succeeded; empty skips this check"),
		noSystemd:  fs.Bool("no-systemd", false, "do not ask systemd; a unit counts as active when it has a cgroup"),
		timeout:    fs.Duration("timeout", 15*time.Second, "overall time limit"),
	}
}

// options checks the flags and makes the checks' options of them.
func (f statusFlags) options(fs *flag.FlagSet) (health.Options, error) {
	b, err := health.ParseSize(*f.budget)
	switch {
	case err != nil:
		return health.Options{}, fmt.Errorf("--budget: %v", err)
	case *f.window <= 0:
		return health.Options{}, errors.New("--window must be positive")
	case *f.minSuccess < 0 || *f.minSuccess > 1:
		return health.Options{}, errors.New("--min-success must be between 0 and 1")
	case *f.slice == "":
		return health.Options{}, errors.New("--slice must not be empty")
	case *f.check != "" && *f.check != "cgroup":
		return health.Options{}, fmt.Errorf("--check: unknown check %q (only \"cgroup\")", *f.check)
	}
	opts := health.Options{
		Cgroup:            cgroup.Reader{Root: *f.cgroupfs, Procfs: *f.procfs},
		Rootfs:            *f.rootfs,
		Slice:             *f.slice,
		Budget:            b,
		EnforceBudget:     flagGiven(fs, "budget"),
		PrometheusURL:     *f.promURL,
		Window:            *f.window,
		MinSuccess:        *f.minSuccess,
		TSDBQuarantine:    *f.quarantine,
		Clock:             clockKernel,
		SensordRuntimeDir: *f.sensordDir,
	}
	opts.Host, _ = os.Hostname()
	for _, u := range strings.Split(*f.units, ",") {
		if u = strings.TrimSpace(u); u != "" {
			opts.Expect = append(opts.Expect, u)
		}
	}
	return opts, nil
}

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newCmdLine("status", stdout, stderr)
	f := newStatusFlags(fs)
	if code, ok := fs.parseNoArgs(args); !ok {
		return code
	}
	opts, err := f.options(fs.FlagSet)
	if err != nil {
		return fs.usageError("%v", err)
	}
	if *f.check == "cgroup" {
		return writeReport(stdout, stderr, health.CheckCgroup(opts), *f.asJSON, health.WriteVerdict)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *f.timeout)
	defer cancel()
	if !*f.noSystemd {
		sd, closeFn := connectSystemd(ctx, stderr)
		defer closeFn()
		opts.Systemd = sd
	}
	return writeReport(stdout, stderr, health.Check(ctx, opts), *f.asJSON, health.WriteTable)
}

// connectSystemd asks systemd over D-Bus, or says why it cannot and lets
// the report call the states unknown.
func connectSystemd(ctx context.Context, stderr io.Writer) (health.Systemd, func()) {
	sd, closeFn, err := dialSystemd(ctx)
	if err != nil {
		slog.New(slog.NewTextHandler(stderr, nil)).Error("cannot query unit states; is systemd running? use --no-systemd to derive states from cgroups", "err", err)
		return unavailableSystemd{err: err}, func() {}
	}
	return sd, closeFn
}

// writeReport prints the report as JSON or with text and returns its exit code.
func writeReport(stdout, stderr io.Writer, r health.Report, asJSON bool, text func(io.Writer, health.Report) error) int {
	write := text
	if asJSON {
		write = health.WriteJSON
	}
	if err := write(stdout, r); err != nil {
		fmt.Fprintf(stderr, "edgectl status: %v\n", err)
		return exitcode.Unknown
	}
	return r.ExitCode
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
