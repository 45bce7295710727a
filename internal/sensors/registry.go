package sensors

import (
	"github.com/edgeobs/edge-observability-stack/internal/fsread"

	"cmp"
	"slices"
	"time"
)

// Options selects and roots the sources.
type Options struct {
	SysfsPath string // usually /sys
	Simulate  bool   // add the simulated source
	// Enabled leaves out the sources it returns false for; nil keeps all.
	Enabled func(name string) bool
	// ReadTimeout bounds one attribute read; 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Files keeps attributes open from poll to poll (its owner sweeps it
	// after each poll); nil opens, reads and closes each one.
	Files *fsread.Handles
	// LimitEvery is how many polls sensors' limits are kept before they are
	// read again; 0 means DefaultLimitEvery, 1 reads them every poll.
	LimitEvery int
}

// registry is the one list of sources, in registration order, and the one
// place their names are written; a new source is added here.
var registry = []struct {
	name string
	new  func(o Options, base sysfsSource) Source
}{
	{"hwmon", func(o Options, b sysfsSource) Source { return &hwmonSource{b, newLimitCache(o.LimitEvery)} }},
	{"thermal", func(o Options, b sysfsSource) Source { return &thermalSource{b, newLimitCache(o.LimitEvery)} }},
	{"iio", func(_ Options, b sysfsSource) Source { return &iioSource{b} }},
	{"w1", func(_ Options, b sysfsSource) Source { return &w1Source{b} }},
	{"simulated", func(o Options, _ sysfsSource) Source {
		if !o.Simulate {
			return nil
		}
		return &simulatedSource{}
	}},
}

// SourceNames lists every source name in registration order.
func SourceNames() []string {
	names := make([]string, len(registry))
	for i, e := range registry {
		names[i] = e.name
	}
	return names
}

// NewSources makes the registered sources that o enables: those of sysfs
// rooted at o.SysfsPath, plus simulated when o.Simulate.
func NewSources(o Options) []Source {
	timeout := o.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	r := attrReader{timeout: timeout, files: o.Files}
	var out []Source
	for _, e := range registry {
		if o.Enabled != nil && !o.Enabled(e.name) {
			continue
		}
		if s := e.new(o, sysfsSource{name: e.name, sysfs: o.SysfsPath, attrReader: r}); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func sortReadings(r []Reading) {
	slices.SortFunc(r, func(a, b Reading) int { return cmp.Compare(a.Name, b.Name) })
}

func sortResult(r *Result) {
	sortReadings(r.Readings)
	byName := func(a, b ReadError) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortStableFunc(r.Errors, byName)
	slices.SortStableFunc(r.LimitErrors, byName)
}
