// Package sensors reads physical sensors from sysfs. Each source (hwmon,
// thermal zones, IIO, 1-wire, simulated) lives in its own file behind the
// Source interface and is registered in registry.go.
package sensors

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Kind is the physical quantity a sensor measures.
type Kind string

// The kinds we export. Values are always in the base unit of KindInfo.Unit.
const (
	Temperature Kind = "temperature"
	Voltage     Kind = "voltage"
	Current     Kind = "current"
	Power       Kind = "power"
	Fan         Kind = "fan"
	Humidity    Kind = "humidity"
	Pressure    Kind = "pressure"
	Illuminance Kind = "illuminance"
)

// KindInfo describes how a kind is exposed and which values are physically
// plausible; a reading outside [Min, Max] is garbage, not a measurement.
type KindInfo struct {
	Metric string // Prometheus metric name
	Unit   string // base unit, for JSON and help text
	Help   string
	Min    float64
	Max    float64
}

// Kinds maps every Kind to its exposition. Ranges are generous bounds of what
// any real sensor can report; they exist to reject driver garbage such as
// -273.15 °C or 0xFFFF sentinels, not to judge a hot device.
var Kinds = map[Kind]KindInfo{
	Temperature: {"edge_sensor_temperature_celsius", "celsius", "Temperature in degrees Celsius.", -100, 250},
	Voltage:     {"edge_sensor_voltage_volts", "volts", "Voltage in volts.", -1000, 1000},
	Current:     {"edge_sensor_current_amperes", "amperes", "Current in amperes.", -1000, 1000},
	Power:       {"edge_sensor_power_watts", "watts", "Power in watts.", 0, 100000},
	Fan:         {"edge_sensor_fan_speed_rpm", "rpm", "Fan speed in revolutions per minute.", 0, 100000},
	Humidity:    {"edge_sensor_humidity_ratio", "ratio", "Relative humidity as a ratio (0-1).", 0, 1},
	Pressure:    {"edge_sensor_pressure_pascals", "pascals", "Pressure in pascals.", 0, 2e7},
	Illuminance: {"edge_sensor_illuminance_lux", "lux", "Illuminance in lux.", 0, 2e5},
}

// LimitMetric is the name of the gauge family of the kind's limits: the
// reading's name with "limit" before the unit, e.g.
// edge_sensor_temperature_limit_celsius.
func (k KindInfo) LimitMetric() string {
	return strings.TrimSuffix(k.Metric, "_"+k.Unit) + "_limit_" + k.Unit
}

// Reading is one value of one sensor, in the base unit of its Kind.
type Reading struct {
	Name   string  // stable, unique across sources, [a-zA-Z0-9_]
	Kind   Kind    //
	Value  float64 // base unit
	Source string  // name of the Source that produced it
	Chip   string  // stable device name (hwmon chip, zone type, IIO name, w1 id)
	Label  string  // human label from the driver (*_label, zone type), may be empty
	Limits Limits  // the sensor's own limits, sorted by type; nil when the driver gives none
}

// Reasons a read fails. They label edge_sensor_read_errors_total.
const (
	ReasonIO       = "io"       // EIO, EAGAIN, ENODATA, ...: the driver refused
	ReasonVanished = "vanished" // the attribute or device disappeared
	ReasonEmpty    = "empty"    // the attribute read as nothing
	ReasonParse    = "parse"    // not a number
	ReasonRange    = "range"    // a number outside the physical range of its kind
	ReasonCRC      = "crc"      // 1-wire CRC check failed
	ReasonTimeout  = "timeout"  // the read did not finish in time
)

// Reasons lists every Reason*, so counters can start at zero.
var Reasons = []string{ReasonIO, ReasonVanished, ReasonEmpty, ReasonParse, ReasonRange, ReasonCRC, ReasonTimeout}

// ReadError is a failed read of one sensor. It never carries a value.
type ReadError struct {
	Name   string // sensor name when known, else the path
	Kind   Kind   // of the attribute that was tried; "" when no sensor was known
	Chip   string // as in Reading, when known
	Source string
	Reason string
	Err    error
}

func (e ReadError) Error() string {
	return fmt.Sprintf("%s: %s (%s): %v", e.Source, e.Name, e.Reason, e.Err)
}

// Result is what one Read of a Source found.
type Result struct {
	Readings []Reading
	Errors   []ReadError
	// LimitErrors are limits that could not be read or read as garbage.
	// They leave the limit out and say nothing about the reading.
	LimitErrors []ReadError
}

// Source is one kind of sensor hardware. Read must return an empty Result and
// a nil error when the subsystem is absent (no data is not an error); the
// error is for a failure of the source as a whole. Read must honour ctx.
type Source interface {
	Name() string
	Read(ctx context.Context) (Result, error)
}

// Check validates a value against the physical range of its kind.
func Check(k Kind, v float64) error {
	info, ok := Kinds[k]
	if !ok {
		return fmt.Errorf("unknown kind %q", k)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < info.Min || v > info.Max {
		return fmt.Errorf("%g %s outside physical range [%g, %g]", v, info.Unit, info.Min, info.Max)
	}
	return nil
}
