package sensors

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// thermalSource reads /sys/class/thermal/thermal_zone* (type, temp in m°C).
//
// procfs's sysfs.ClassThermalZoneStats is not used: it also reads policy,
// mode and passive on every poll, joins all failures of a zone into one
// error (so the reason is lost), reports EINVAL from temp as a 0 °C
// reading, and has no way to give up on a hung read.
type thermalSource struct{ sysfsSource }

func (s *thermalSource) Read(ctx context.Context) (Result, error) {
	class, entries, c, err := s.start("class", "thermal")
	if err != nil {
		return Result{}, err
	}
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
		dir := filepath.Join(class, "thermal_zone"+strconv.Itoa(zone))
		// Zone numbers follow probe order and have no device link, so the
		// name carries the zone type too: a renumbering shows up as new
		// series instead of silently swapping two zones.
		name := "thermal_zone" + strconv.Itoa(zone)
		typ, err := s.readAttr(ctx, filepath.Join(dir, "type"))
		if err != nil {
			c.fail(name, Temperature, "", err)
			continue
		}
		if st := sanitize(typ); st != "" {
			name += "_" + st
		}
		raw, err := s.readAttr(ctx, filepath.Join(dir, "temp"))
		if err != nil {
			c.fail(name, Temperature, typ, err)
			continue
		}
		v, err := parseMilli(Temperature, raw)
		if err != nil {
			c.fail(name, Temperature, typ, fmt.Errorf("%s: %w", filepath.Join(dir, "temp"), err))
			continue
		}
		c.add(name, Temperature, v, typ, typ)
	}
	return c.result(ctx)
}
