package sensors

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// iioSource reads /sys/bus/iio/devices/iio:device* following the units of
// Documentation/ABI/testing/sysfs-bus-iio: a channel is either processed
// (in_<type>[N]_input) or raw, where value = (raw + offset) * scale.
type iioSource struct{ sysfsSource }

// iioTypes maps an IIO channel type to our kind and the factor from its ABI
// unit to the base unit.
var iioTypes = map[string]struct {
	kind Kind
	mul  float64
}{
	"temp":             {Temperature, 1e-3}, // m°C
	"humidityrelative": {Humidity, 1e-5},    // milli-percent
	"pressure":         {Pressure, 1e3},     // kPa
	"illuminance":      {Illuminance, 1},    // lux
	"voltage":          {Voltage, 1e-3},     // mV
}

// in_<type>[<index>][_<modifier>]_<input|raw>; differential channels
// (in_voltage0-voltage1_raw) are left out on purpose.
var iioChanRE = regexp.MustCompile(`^in_(temp|humidityrelative|pressure|illuminance|voltage)([0-9]*)(?:_([a-z]+))?_(input|raw)$`)

// parseIIO computes (raw + offset) * scale in the channel's ABI unit and
// converts it to the base unit of typ. Empty offset means 0 and empty scale
// means 1, as the ABI specifies for absent attributes; for a processed
// channel pass the _input content as raw and leave the others empty.
func parseIIO(typ, raw, offset, scale string) (float64, error) {
	t, ok := iioTypes[typ]
	if !ok {
		return 0, errParse
	}
	r, err := parseDecimal(raw)
	if err != nil {
		return 0, err
	}
	o, sc := 0.0, 1.0
	if offset != "" {
		if o, err = parseDecimal(offset); err != nil {
			return 0, err
		}
	}
	if scale != "" {
		if sc, err = parseDecimal(scale); err != nil {
			return 0, err
		}
	}
	return checked(t.kind, (r+o)*sc*t.mul)
}

type iioChannel struct {
	id, typ, idx, mod string
	path              string
	processed         bool
}

func (s *iioSource) Read(ctx context.Context) (Result, error) {
	bus, entries, c, err := s.start("bus", "iio", "devices")
	if err != nil {
		return Result{}, err
	}
	seen := map[string]int{}
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if !strings.HasPrefix(e, "iio:device") {
			continue // triggers and buffers
		}
		dir := filepath.Join(bus, e)
		name, err := s.readAttr(ctx, filepath.Join(dir, "name"))
		if err != nil {
			c.fail(dir, "", "", err)
			continue
		}
		// iio:deviceN follows probe order; the parent device (bus address)
		// is what stays put across boots.
		chip := sanitize(name)
		if real, err := resolveLinks(dir, dir); err == nil {
			chip += "_" + deviceID(filepath.Dir(real))
		}
		seen[chip]++
		if n := seen[chip]; n > 1 {
			chip += "_" + strconv.Itoa(n)
		}
		s.readDevice(ctx, &c, dir, chip)
	}
	return c.result(ctx)
}

func (s *iioSource) readDevice(ctx context.Context, c *resultBuilder, dir, chip string) {
	files, err := listDir(dir)
	if err != nil {
		c.fail(dir, "", "", err)
		return
	}
	present := make(map[string]bool, len(files))
	for _, f := range files {
		present[f] = true
	}
	chans := iioChannels(dir, files)
	for _, id := range slices.Sorted(maps.Keys(chans)) {
		if ctx.Err() != nil {
			return
		}
		ch := chans[id]
		name := "iio_" + chip + "_" + id
		v, label, err := s.readChannel(ctx, dir, present, ch)
		if err != nil {
			c.fail(name, iioTypes[ch.typ].kind, chip, err)
			continue
		}
		c.add(name, iioTypes[ch.typ].kind, v, chip, label)
	}
}

// iioChannels finds the channels among a device's files, by id.
func iioChannels(dir string, files []string) map[string]iioChannel {
	chans := map[string]iioChannel{}
	for _, f := range files {
		m := iioChanRE.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		ch := iioChannel{typ: m[1], idx: m[2], mod: m[3], path: filepath.Join(dir, f), processed: m[4] == "input"}
		ch.id = ch.typ + ch.idx
		if ch.mod != "" {
			ch.id += "_" + ch.mod
		}
		// A driver may offer both; the processed value already has the
		// driver's calibration applied.
		if old, ok := chans[ch.id]; ok && old.processed {
			continue
		}
		chans[ch.id] = ch
	}
	return chans
}

// readChannel reads a channel's value, from its raw value, offset and scale
// unless the driver gives it processed, and its label.
func (s *iioSource) readChannel(ctx context.Context, dir string, present map[string]bool, ch iioChannel) (v float64, label string, err error) {
	raw, err := s.readAttr(ctx, ch.path)
	if err != nil {
		return 0, "", err
	}
	var offset, scale string
	if !ch.processed {
		if offset, err = s.shared(ctx, dir, present, ch, "offset"); err != nil {
			return 0, "", err
		}
		if scale, err = s.shared(ctx, dir, present, ch, "scale"); err != nil {
			return 0, "", err
		}
	}
	if v, err = parseIIO(ch.typ, raw, offset, scale); err != nil {
		return 0, "", fmt.Errorf("%s (offset %q, scale %q): %w", ch.path, offset, scale, err)
	}
	if lf := "in_" + ch.id + "_label"; present[lf] {
		if label, err = s.readAttr(ctx, filepath.Join(dir, lf)); err != nil && reasonOf(err) != ReasonEmpty {
			return 0, "", err
		}
	}
	return v, label, nil
}

// shared reads the most specific existing <attr> for ch: per channel, then
// shared by type (with and without modifier). Absent everywhere is "".
func (s *iioSource) shared(ctx context.Context, dir string, present map[string]bool, ch iioChannel, attr string) (string, error) {
	mod := ""
	if ch.mod != "" {
		mod = "_" + ch.mod
	}
	for _, f := range []string{
		"in_" + ch.typ + ch.idx + mod + "_" + attr,
		"in_" + ch.typ + mod + "_" + attr,
		"in_" + ch.typ + "_" + attr,
	} {
		if present[f] {
			return s.readAttr(ctx, filepath.Join(dir, f))
		}
	}
	return "", nil
}
