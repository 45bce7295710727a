package main

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/host"
)

// hostFlags select and tune the host collectors the way node_exporter's
// flags do: --[no-]collector.<name> for each, and
// --collector.disable-defaults to keep only those named on the command line.
type hostFlags struct {
	rootfs          string
	enabled         map[string]*bool
	setByUser       map[string]*bool
	disableDefaults bool
	mountTimeout    time.Duration
	mountsExclude   *regexp.Regexp
	fsTypesExclude  *regexp.Regexp
}

func (f *flags) addHostFlags(app *kingpin.Application) {
	h := &f.host
	h.enabled, h.setByUser = map[string]*bool{}, map[string]*bool{}
	f.pathFlag(app, "path.rootfs", "Root filesystem the mount points of the host's mount table are below (node_exporter's flag: a host root mounted into a container).",
		"/", &h.rootfs)
	for _, name := range host.CollectorNames() {
		h.enabled[name], h.setByUser[name] = new(bool), new(bool)
		app.Flag("collector."+name, fmt.Sprintf("Enable the %s host collector: %s.", name, host.CollectorHelp(name))).
			Default("true").IsSetByUser(h.setByUser[name]).BoolVar(h.enabled[name])
	}
	app.Flag("collector.disable-defaults", "Turn off every host collector not enabled on the command line with --collector.<name>.").
		BoolVar(&h.disableDefaults)
	typed(app, "collector.filesystem.mount-timeout", "How long statfs of a mount point may take in a poll; a mount that does not answer is reported (node_filesystem_device_error 1) and not tried again until it does.",
		host.DefaultMountTimeout.String(), &h.mountTimeout, parsePositiveDuration)
	typed(app, "collector.filesystem.mount-points-exclude", "Regular expression of mount points the filesystem collector leaves out.",
		host.DefaultMountPointsExclude, &h.mountsExclude, regexp.Compile)
	typed(app, "collector.filesystem.fs-types-exclude", "Regular expression of filesystem types the filesystem collector leaves out.",
		host.DefaultFSTypesExclude, &h.fsTypesExclude, regexp.Compile)
}

func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("must be positive")
	}
	return d, err
}

// collectorEnabled is node_exporter's rule: a collector named on the
// command line is as the flag says; the others are on unless
// --collector.disable-defaults.
func (h *hostFlags) collectorEnabled(name string) bool {
	if *h.setByUser[name] {
		return *h.enabled[name]
	}
	return !h.disableDefaults
}

// newHost makes the host collectors the flags enable; it fails when a
// --path flag does not name a directory.
func (f *flags) newHost(log *slog.Logger, files *fsread.Handles) (*host.Host, error) {
	return host.New(host.Options{Log: log, Files: files,
		Procfs: f.procfs, Sysfs: f.sysfs, Rootfs: f.host.rootfs,
		Enabled:      f.host.collectorEnabled,
		MountTimeout: f.host.mountTimeout, MountPointsExclude: f.host.mountsExclude, FSTypesExclude: f.host.fsTypesExclude,
	})
}
