package sensors

import (
	"github.com/edgeobs/edge-observability-stack/internal/fsread"

	"cmp"
	"slices"
	"time"
)

// Options selects and roots the sources.
type Options struct {
	SysfsPath string          // usually /sys
	Simulate  bool            // add the simulated source
	Disabled  map[string]bool // source names to leave out
	// ReadTimeout bounds one attribute read; 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Files keeps attributes open from poll to poll (its owner sweeps it
	// after each poll); nil opens, reads and closes each one.
	Files *fsread.Handles
}

// SourceNames lists every source name in registration order.
func SourceNames() []string {
	return []string{"hwmon", "thermal", "iio", "w1", "simulated"}
}

// NewSources is the one place sources are registered: hwmon, thermal, iio
// and w1 rooted at o.SysfsPath, plus simulated when o.Simulate, minus the
// disabled ones.
func NewSources(o Options) []Source {
	timeout := o.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	r := attrReader{timeout: timeout, files: o.Files}
	all := []Source{
		&hwmonSource{sysfs: o.SysfsPath, attrReader: r},
		&thermalSource{sysfs: o.SysfsPath, attrReader: r},
		&iioSource{sysfs: o.SysfsPath, attrReader: r},
		&w1Source{sysfs: o.SysfsPath, attrReader: r},
	}
	if o.Simulate {
		all = append(all, &simulatedSource{})
	}
	out := all[:0]
	for _, s := range all {
		if !o.Disabled[s.Name()] {
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
	slices.SortStableFunc(r.Errors, func(a, b ReadError) int { return cmp.Compare(a.Name, b.Name) })
}
