package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/version"
	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

type flags struct {
	web          *web.FlagConfig
	configFile   string
	sysfs        string
	procfs       string
	cgroupfs     string
	slice        string
	simulate     bool
	timexFile    string
	pollInterval time.Duration
	staleAfter   int
	cpuThreshold float64
	maxRequests  int
	maxProcs     int
	gcPercent    int
	pageout      bool
	log          *promslog.Config
	promURL      string
	queries      webapi.QueryLimits
	host         hostFlags
	// paths are the --path.* flags, each the root of the files read below it.
	paths []pathFlag
}

// pathFlag is a --path.* flag: a directory every read of its kind is rooted at.
type pathFlag struct {
	name string
	dir  *string
}

// pathFlag defines a --path.* flag; validatePaths checks every one.
func (f *flags) pathFlag(app *kingpin.Application, name, help, def string, dir *string) {
	app.Flag(name, help).Default(def).StringVar(dir)
	f.paths = append(f.paths, pathFlag{name, dir})
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	app := kingpin.New("edge-sensord", "Reads the device's sensors and the monitoring stack's cgroup accounting and serves them to Prometheus.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	app.Version(fmt.Sprintf("edge-sensord %s (revision %s, %s)", version.Version, version.Revision, runtime.Version()))
	app.HelpFlag.Short('h')
	f := &flags{log: &promslog.Config{}}
	f.web = kingpinflag.AddFlags(app, ":8000")
	app.Flag("config.file", "Optional YAML configuration (poll_interval, stale_after, cpu_spike_threshold, sources, ignore); re-read on SIGHUP.").StringVar(&f.configFile)
	f.pathFlag(app, "path.sysfs", "sysfs mount point.", "/sys", &f.sysfs)
	f.pathFlag(app, "path.procfs", "procfs mount point.", "/proc", &f.procfs)
	f.pathFlag(app, "path.cgroupfs", "cgroup filesystem mount point.", "/sys/fs/cgroup", &f.cgroupfs)
	app.Flag("cgroup.slice", "systemd slice whose units' memory and CPU are exported.").Default("edge-observability.slice").StringVar(&f.slice)
	app.Flag("sensors.simulate", "Add simulated sensors (for machines without any). Never on by default.").BoolVar(&f.simulate)
	app.Flag("clock.timex-file", "Read the clock's maximum error from this file (\"maxerror=<microseconds>\") instead of adjtimex(2); for tests.").
		Hidden().StringVar(&f.timexFile)
	typed(app, "poll.interval", "How often sensors are read.", "5s", &f.pollInterval, time.ParseDuration)
	typed(app, "sensors.stale-after", "Poll intervals without a good read after which a sensor is stale.", "3", &f.staleAfter, strconv.Atoi)
	typed(app, "cpu.spike-threshold", "Host CPU use ratio above which sensor_cpu_spike is 1.", "0.9", &f.cpuThreshold,
		func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	typed(app, "web.max-requests", "Maximum concurrent HTTP requests; more get 503 at once.", "16", &f.maxRequests, strconv.Atoi)
	app.Flag("runtime.gomaxprocs", "CPUs the Go runtime may use at once (GOMAXPROCS). One is enough to read sensors and serve a cache, and spares the cross-CPU wake-ups of the scheduler.").
		Envar("GOMAXPROCS").Default("1").SetValue(flagValue[int]{"runtime.gomaxprocs", &f.maxProcs, strconv.Atoi})
	app.Flag("runtime.gogc", "Heap growth, in percent, that triggers a garbage collection (GOGC), or \"off\". The daemon's live heap is about 1 MiB; at Go's default of 100 its heap grows to 4 MiB between collections.").
		Envar("GOGC").Default("25").SetValue(flagValue[int]{"runtime.gogc", &f.gcPercent, parseGOGC})
	app.Flag("runtime.pageout", "Once started, give the kernel back the executable's pages that only start-up touched (MADV_PAGEOUT); those still in use are read back on demand.").
		Default("true").BoolVar(&f.pageout)
	f.queryFlags(app)
	f.addHostFlags(app)
	promslogflag.AddFlags(app, f.log)
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	if f.maxProcs < 1 {
		return nil, fmt.Errorf("--runtime.gomaxprocs must be >= 1, got %d", f.maxProcs)
	}
	return f, nil
}

// queryFlags configure the dashboard's query proxy to Prometheus.
func (f *flags) queryFlags(app *kingpin.Application) {
	d := webapi.DefaultQueryLimits()
	app.Flag("prometheus.url", "Prometheus whose data the dashboard shows (the panels' own queries and its alerts only); empty turns history off.").
		Default("http://127.0.0.1:9090").StringVar(&f.promURL)
	typed(app, "dashboard.max-range", "Longest time range of a dashboard range query.", model.Duration(d.MaxRange).String(), &f.queries.MaxRange, parseDuration)
	typed(app, "dashboard.max-points", "Most points per series of a dashboard range query ((end-start)/step+1).", strconv.Itoa(d.MaxPoints), &f.queries.MaxPoints, strconv.Atoi)
	typed(app, "dashboard.max-queries", "Dashboard queries forwarded to Prometheus at once; more get 503 at once.", strconv.Itoa(d.MaxConcurrent), &f.queries.MaxConcurrent, strconv.Atoi)
	typed(app, "dashboard.max-queries-per-client", "Of those, the most from one client address (IPv6: one /64).", strconv.Itoa(d.MaxPerClient), &f.queries.MaxPerClient, strconv.Atoi)
	typed(app, "dashboard.query-timeout", "Longest a dashboard query may take; then it is cancelled in Prometheus and answered 503. Keep it below Prometheus's --query.timeout.", model.Duration(d.Timeout).String(), &f.queries.Timeout, parseDuration)
	typed(app, "dashboard.max-request-size", "Largest body a dashboard request may carry (413 above; none is read).", units.Base2Bytes(d.MaxBodyBytes).String(), &f.queries.MaxBodyBytes,
		func(s string) (int64, error) { b, err := units.ParseBase2Bytes(s); return int64(b), err })
}

func parseDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// parseGOGC reads GOGC's syntax: a percentage, or "off" (-1).
func parseGOGC(s string) (int, error) {
	if s == "off" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 1 {
		err = fmt.Errorf("must be >= 1 or \"off\", got %d", n)
	}
	return n, err
}

// flagValue parses a flag and names it in the error, which kingpin's typed
// flags do not ("time: invalid duration" alone does not say which flag).
type flagValue[T any] struct {
	name  string
	p     *T
	parse func(string) (T, error)
}

func (v flagValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s=%s: %w", v.name, s, err)
	}
	*v.p = x
	return nil
}

func (v flagValue[T]) String() string { return fmt.Sprint(*v.p) }

func typed[T any](app *kingpin.Application, name, help, def string, p *T, parse func(string) (T, error)) {
	app.Flag(name, help).Default(def).SetValue(flagValue[T]{name, p, parse})
}

// baseConfig is what the flags say; the config file, if any, overrides it.
// The flags' values go through the same checks as the file's.
func (f *flags) baseConfig() (config.Config, error) {
	c := config.Default()
	c.PollInterval, c.StaleAfter, c.CPUSpikeThreshold = f.pollInterval, f.staleAfter, f.cpuThreshold
	if err := c.Validate(); err != nil {
		var re *config.RangeError
		if errors.As(err, &re) {
			return c, fmt.Errorf("--%s %s", settingFlags[re.Field], re.Msg)
		}
		return c, err
	}
	return c, nil
}

// settingFlags names the flag of each setting of the config file.
var settingFlags = map[string]string{
	"poll_interval":       "poll.interval",
	"stale_after":         "sensors.stale-after",
	"cpu_spike_threshold": "cpu.spike-threshold",
}

// loadConfig reads the flags and the files they name, and checks them all.
func (f *flags) loadConfig() (config.Config, error) {
	cfg, err := f.baseConfig()
	if err == nil && f.configFile != "" {
		cfg, err = config.Load(f.configFile, cfg, sensors.SourceNames())
	}
	if err == nil {
		err = f.validatePaths()
	}
	if err == nil {
		err = f.validateWeb()
	}
	return cfg, err
}

// validatePaths refuses a --path.* root that is not a directory: a typo
// would otherwise look like a machine without sensors or host metrics. A
// root without the files of a subsystem is fine (no data, not an error).
func (f *flags) validatePaths() error {
	for _, p := range f.paths {
		st, err := os.Stat(*p.dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("--%s=%s: no such directory", p.name, *p.dir)
		case err != nil:
			return fmt.Errorf("--%s=%s: %w", p.name, *p.dir, errors.Unwrap(err))
		case !st.IsDir():
			return fmt.Errorf("--%s=%s: not a directory", p.name, *p.dir)
		}
	}
	return nil
}

func (f *flags) sources(c config.Config, files *fsread.Handles) []sensors.Source {
	// A hung attribute must time out well inside the poll interval, so that
	// it costs one sensor, not the whole source.
	timeout := min(sensors.DefaultReadTimeout, c.PollInterval/2)
	return sensors.NewSources(sensors.Options{SysfsPath: f.sysfs, Simulate: f.simulate, Enabled: c.SourceEnabled, ReadTimeout: timeout, Files: files})
}

// clockKernel is where the clock's status comes from: the kernel, or the
// file tests name.
func (f *flags) clockKernel() clocksync.Kernel {
	if f.timexFile != "" {
		return clocksync.File{Path: f.timexFile}
	}
	return clocksync.Adjtimex{}
}

// validateWeb checks --web.config.file, which exporter-toolkit reads only
// when serving.
func (f *flags) validateWeb() error {
	if f.web.WebConfigFile == nil || *f.web.WebConfigFile == "" {
		return nil
	}
	if err := web.Validate(*f.web.WebConfigFile); err != nil {
		return fmt.Errorf("invalid web configuration %s: %w", *f.web.WebConfigFile, err)
	}
	return nil
}
