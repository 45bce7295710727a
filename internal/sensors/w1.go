package sensors

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// w1Source reads 1-wire thermometers under /sys/bus/w1/devices.
//
// The DS18B20 power-on register value (85 °C) is not filtered: it is also a
// legitimate temperature, and the w1 driver only returns it after a failed
// conversion that the CRC usually catches.
type w1Source struct{ sysfsSource }

// w1Thermometers are the family codes of the w1_therm driver; other
// families (EEPROMs, switches) expose a differently formatted w1_slave.
var w1Thermometers = map[string]bool{
	"10": true, // DS18S20
	"22": true, // DS1822
	"28": true, // DS18B20
	"3b": true, // DS1825, MAX31850
	"42": true, // DS28EA00
}

// parseW1Slave parses the w1_therm w1_slave format:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
func parseW1Slave(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	lines := strings.Split(s, "\n")
	crc := strings.Fields(lines[0])
	if len(crc) < 2 || !strings.HasPrefix(crc[len(crc)-2], "crc=") {
		return 0, fmt.Errorf("%w: no crc in %q", errParse, lines[0])
	}
	switch crc[len(crc)-1] {
	case "YES":
	case "NO":
		return 0, fmt.Errorf("%w: %q", errCRC, strings.TrimSpace(lines[0]))
	default:
		return 0, fmt.Errorf("%w: crc status in %q", errParse, lines[0])
	}
	if len(lines) < 2 {
		return 0, fmt.Errorf("%w: w1_slave has no temperature line", errParse)
	}
	i := strings.LastIndex(lines[1], "t=")
	if i < 0 {
		return 0, fmt.Errorf("%w: no t= in %q", errParse, lines[1])
	}
	return parseMilli(Temperature, lines[1][i+2:])
}

func (s *w1Source) Read(ctx context.Context) (Result, error) {
	bus, entries, c, err := s.start("bus", "w1", "devices")
	if err != nil {
		return Result{}, err
	}
	for _, id := range entries {
		if ctx.Err() != nil {
			break
		}
		family, _, ok := strings.Cut(id, "-")
		if !ok || strings.HasPrefix(id, "w1_bus_master") || !w1Thermometers[strings.ToLower(family)] {
			continue
		}
		dir := filepath.Join(bus, id)
		name := "w1_" + sanitize(id)
		files, err := listDir(dir)
		if err != nil {
			c.fail(name, Temperature, id, err)
			continue
		}
		var v float64
		switch {
		case slices.Contains(files, "temperature"):
			var raw string
			path := filepath.Join(dir, "temperature")
			if raw, err = s.readAttr(ctx, path); err == nil {
				if v, err = parseMilli(Temperature, raw); err != nil {
					err = fmt.Errorf("%s: %w", path, err)
				}
			}
		case slices.Contains(files, "w1_slave"):
			var raw string
			path := filepath.Join(dir, "w1_slave")
			if raw, err = s.readAttr(ctx, path); err == nil {
				if v, err = parseW1Slave(raw); err != nil {
					err = fmt.Errorf("%s: %w", path, err)
				}
			}
		default:
			if len(files) == 0 {
				// Unplugged between listing the bus and listing the device.
				c.fail(name, Temperature, id, fmt.Errorf("%s: %w", dir, syscall.ENOENT))
			}
			continue
		}
		if err != nil {
			c.fail(name, Temperature, id, err)
			continue
		}
		c.add(name, Temperature, v, id, "")
	}
	return c.result(ctx)
}
