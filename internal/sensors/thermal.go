package sensors

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// thermalSource reads /sys/class/thermal/thermal_zone* (type, temp in m°C)
// and the zones' trip points (trip_point_N_type, trip_point_N_temp).
//
// procfs's sysfs.ClassThermalZoneStats is not used: it also reads policy,
// mode and passive on every poll, joins all failures of a zone into one
// error (so the reason is lost), reports EINVAL from temp as a 0 °C
// reading, and has no way to give up on a hung read.
type thermalSource struct {
	sysfsSource
	limits *limitCache
}

// tripTypes are the trip point types of the kernel's thermal framework, in
// Limits order. A zone may have several trips of one type (a fan's stages);
// the lowest is the limit, where the kernel first acts.
var tripTypes = []string{"active", "critical", "hot", "passive"}

func (s *thermalSource) Read(ctx context.Context) (Result, error) {
	class, entries, c, err := s.start("class", "thermal")
	if err != nil {
		return Result{}, err
	}
	s.limits.next()
	var zones []int
	for _, e := range entries {
		n, ok := strings.CutPrefix(e, "thermal_zone")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			zones = append(zones, i)
		}
	}
	slices.Sort(zones)
	for _, zone := range zones {
		if ctx.Err() != nil {
			break
		}
		s.readZone(ctx, &c, filepath.Join(class, "thermal_zone"+strconv.Itoa(zone)), zone)
	}
	return c.result(ctx)
}

// readZone reads one zone's type, temperature and trip points.
func (s *thermalSource) readZone(ctx context.Context, c *resultBuilder, dir string, zone int) {
	// Zone numbers follow probe order and have no device link, so the
	// name carries the zone type too: a renumbering shows up as new
	// series instead of silently swapping two zones.
	name := "thermal_zone" + strconv.Itoa(zone)
	typ, err := s.readAttr(ctx, filepath.Join(dir, "type"))
	if err != nil {
		c.fail(name, Temperature, "", err)
		return
	}
	if st := sanitize(typ); st != "" {
		name += "_" + st
	}
	raw, err := s.readAttr(ctx, filepath.Join(dir, "temp"))
	if err != nil {
		c.fail(name, Temperature, typ, err)
		return
	}
	v, err := parseMilli(Temperature, raw)
	if err != nil {
		c.fail(name, Temperature, typ, fmt.Errorf("%s: %w", filepath.Join(dir, "temp"), err))
		return
	}
	c.add(name, Temperature, v, typ, typ, s.readTrips(ctx, c, dir, name)...)
}

// readTrips returns the lowest trip point of each type of the zone in dir,
// read once every limitEvery polls. A trip whose type is unknown or whose
// temperature fails to read or parse, or is out of range (the kernel's
// THERMAL_TEMP_INVALID, -274 °C, among others), is left out and counted.
func (s *thermalSource) readTrips(ctx context.Context, c *resultBuilder, dir, name string) Limits {
	return s.limits.get(ctx, name, func() Limits {
		entries, err := listDir(dir)
		if err != nil {
			c.failLimit(name, err)
			return nil
		}
		slices.Sort(entries)
		var out Limits
		for _, e := range entries {
			n, isTrip := strings.CutPrefix(e, "trip_point_")
			n, isType := strings.CutSuffix(n, "_type")
			if !isTrip || !isType {
				continue
			}
			l, err := s.readTrip(ctx, filepath.Join(dir, "trip_point_"+n))
			if err != nil {
				c.failLimit(name, err)
				continue
			}
			if i := slices.IndexFunc(out, func(x Limit) bool { return x.Type == l.Type }); i >= 0 {
				out[i].Value = min(out[i].Value, l.Value)
				continue
			}
			out = append(out, l)
		}
		sortLimits(out)
		return out
	})
}

// readTrip reads the trip point whose attributes start with prefix.
func (s *thermalSource) readTrip(ctx context.Context, prefix string) (Limit, error) {
	typ, err := s.readAttr(ctx, prefix+"_type")
	if err != nil {
		return Limit{}, err
	}
	if !slices.Contains(tripTypes, typ) {
		return Limit{}, fmt.Errorf("%s_type: %w: trip type %q", prefix, errUnknown, typ)
	}
	raw, err := s.readAttr(ctx, prefix+"_temp")
	if err != nil {
		return Limit{}, err
	}
	v, err := parseMilli(Temperature, raw)
	if err != nil {
		return Limit{}, fmt.Errorf("%s_temp: %w", prefix, err)
	}
	return Limit{Type: typ, Value: v}, nil
}
