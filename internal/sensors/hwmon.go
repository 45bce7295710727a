package sensors

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// hwmonSource reads /sys/class/hwmon (Documentation/hwmon/sysfs-interface.rst).
type hwmonSource struct {
	sysfsSource
	limits *limitCache
}

// hwmonTypes maps an attribute prefix to its kind and the divisor from the
// sysfs unit to the base unit.
var hwmonTypes = map[string]struct {
	kind Kind
	div  float64
}{
	"temp":     {Temperature, 1e3}, // m°C
	"in":       {Voltage, 1e3},     // mV
	"curr":     {Current, 1e3},     // mA
	"power":    {Power, 1e6},       // µW
	"fan":      {Fan, 1},           // RPM
	"humidity": {Humidity, 1e5},    // milli-percent
}

var hwmonAttrRE = regexp.MustCompile(`^(temp|in|curr|power|fan|humidity)([0-9]+)_(input|average|min|max|lcrit|crit|emergency)$`)

// hwmonLimits are the limit attributes read next to a channel's input, in
// the input's unit, sorted. Hysteresis values are left out: they say when
// the chip's own alarm clears, which an alert rule decides for itself.
var hwmonLimits = []string{"crit", "emergency", "lcrit", "max", "min"}

// parseHwmon converts the content of a <type>N_input attribute.
func parseHwmon(typ, s string) (float64, error) {
	t, ok := hwmonTypes[typ]
	if !ok {
		return 0, errParse
	}
	return parseScaled(t.kind, s, t.div)
}

// hwmonChip is one hwmonN directory with its attributes, which live either
// in hwmonN itself or, with drivers of the old layout, in hwmonN/device.
type hwmonChip struct {
	name  string            // the chip's name, made unique among the chips
	attrs map[string]string // attribute name -> path
}

func (s *hwmonSource) Read(ctx context.Context) (Result, error) {
	class, dirs, c, err := s.start("class", "hwmon")
	if err != nil {
		return Result{}, err
	}
	s.limits.next()
	seen := map[string]int{}
	var chips []hwmonChip
	for _, d := range dirs {
		if !strings.HasPrefix(d, "hwmon") {
			continue
		}
		dir := filepath.Join(class, d)
		chip, ok := s.scanChip(ctx, &c, dir)
		if !ok {
			continue
		}
		// Two chips without a device link can share a driver name; number
		// the later ones rather than fall back to the unstable hwmonN.
		seen[chip.name]++
		if n := seen[chip.name]; n > 1 {
			chip.name += "_" + strconv.Itoa(n)
		}
		chips = append(chips, chip)
	}
	for _, chip := range chips {
		if ctx.Err() != nil {
			break
		}
		s.readChip(ctx, &c, chip)
	}
	return c.result(ctx)
}

// scanChip finds the chip name and its attribute files.
func (s *hwmonSource) scanChip(ctx context.Context, c *resultBuilder, dir string) (hwmonChip, bool) {
	attrs := map[string]string{}
	// The device directory first, so attributes in hwmonN win.
	for _, d := range []string{filepath.Join(dir, "device"), dir} {
		names, err := listDir(d)
		if err != nil {
			continue
		}
		for _, n := range names {
			if n == "name" || strings.HasSuffix(n, "_label") || hwmonAttrRE.MatchString(n) {
				attrs[n] = filepath.Join(d, n)
			}
		}
	}
	namePath, ok := attrs["name"]
	if !ok {
		return hwmonChip{}, false // not a sensor chip (or vanished)
	}
	name, err := s.readAttr(ctx, namePath)
	if err != nil {
		c.fail(dir, "", "", err)
		return hwmonChip{}, false
	}
	chip := sanitize(name)
	devLink := filepath.Join(dir, "device")
	if dev, err := resolveLinks(devLink, dir, devLink); err == nil {
		chip += "_" + deviceID(dev)
	}
	return hwmonChip{name: chip, attrs: attrs}, true
}

func (s *hwmonSource) readChip(ctx context.Context, c *resultBuilder, chip hwmonChip) {
	names := make([]string, 0, len(chip.attrs))
	for n := range chip.attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, attr := range names {
		if ctx.Err() != nil {
			return
		}
		// Labels and limits are read with their channel's input.
		if !strings.HasSuffix(attr, "_input") && !strings.HasSuffix(attr, "_average") {
			continue
		}
		m := hwmonAttrRE.FindStringSubmatch(attr)
		if m == nil {
			continue
		}
		typ, idx, suffix := m[1], m[2], m[3]
		channel := typ + idx
		if suffix == "average" {
			if typ != "power" {
				continue
			}
			if _, ok := chip.attrs[channel+"_input"]; ok {
				continue // power*_average only when there is no input
			}
		}
		name := "hwmon_" + chip.name + "_" + channel
		s.readOne(ctx, c, chip, name, typ, channel, chip.attrs[attr])
	}
}

// readValue reads an attribute of a channel of type typ (its input or one
// of its limits) in the base unit of the channel's kind.
func (s *hwmonSource) readValue(ctx context.Context, typ, path string) (float64, error) {
	raw, err := s.readAttr(ctx, path)
	if err != nil {
		return 0, err
	}
	v, err := parseHwmon(typ, raw)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func (s *hwmonSource) readOne(ctx context.Context, c *resultBuilder, chip hwmonChip, name, typ, channel, path string) {
	kind := hwmonTypes[typ].kind
	v, err := s.readValue(ctx, typ, path)
	if err != nil {
		c.fail(name, kind, chip.name, err)
		return
	}
	label := ""
	if lp, ok := chip.attrs[channel+"_label"]; ok {
		// A label that cannot be read would change the series identity;
		// better to report the sensor as failed than to flap its labels.
		label, err = s.readAttr(ctx, lp)
		if err != nil && reasonOf(err) != ReasonEmpty {
			c.fail(name, kind, chip.name, err)
			return
		}
	}
	c.add(name, kind, v, chip.name, label, s.readLimits(ctx, c, chip, name, typ, channel)...)
}

// readLimits returns the limits of one channel, read once every
// limitEvery polls. A limit that fails to read or parse, or lies outside
// the kind's physical range, is left out and counted.
func (s *hwmonSource) readLimits(ctx context.Context, c *resultBuilder, chip hwmonChip, name, typ, channel string) Limits {
	return s.limits.get(ctx, name, func() Limits {
		var out Limits
		for _, l := range hwmonLimits {
			path, ok := chip.attrs[channel+"_"+l]
			if !ok {
				continue
			}
			v, err := s.readValue(ctx, typ, path)
			if err != nil {
				c.failLimit(name, err)
				continue
			}
			out = append(out, Limit{Type: l, Value: v})
		}
		return out
	})
}
