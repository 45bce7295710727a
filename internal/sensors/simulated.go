package sensors

import (
	"context"
	"math"
	"sync/atomic"
)

// simulatedSource produces deterministic readings of every kind for machines without
// sensors (CI, containers, demos). Every Read advances a step counter and
// each value is a pure function of it, so tests can predict the output.
type simulatedSource struct {
	step atomic.Uint64
}

func (s *simulatedSource) Name() string { return "simulated" }

type simSensor struct {
	name, label string
	kind        Kind
	value       func(step float64) float64
	limits      Limits // as a chip would report them; never crossed by value
}

// wave oscillates around mid with amplitude amp and the given period in steps.
func wave(mid, amp, period, step float64) float64 {
	return mid + amp*math.Sin(2*math.Pi*step/period)
}

var simSensors = []simSensor{
	{"simulated_cpu_temp", "CPU", Temperature, func(n float64) float64 { return wave(55, 10, 60, n) }, Limits{{"crit", 90}, {"max", 80}}},
	{"simulated_board_temp", "Board", Temperature, func(n float64) float64 { return wave(40, 3, 120, n) }, nil},
	{"simulated_ambient_temp", "Ambient", Temperature, func(n float64) float64 { return wave(22, 1.5, 720, n) }, nil},
	{"simulated_vin", "Vin", Voltage, func(n float64) float64 { return wave(5.05, 0.05, 30, n) }, Limits{{"max", 5.25}, {"min", 4.75}}},
	{"simulated_humidity", "Humidity", Humidity, func(n float64) float64 { return wave(0.45, 0.1, 360, n) }, nil},
	{"simulated_pressure", "Pressure", Pressure, func(n float64) float64 { return wave(101325, 250, 1440, n) }, nil},
	{"simulated_fan1", "Fan", Fan, func(n float64) float64 { return math.Round(wave(2400, 600, 60, n)) }, Limits{{"min", 600}}},
	{"simulated_load_current", "Load", Current, func(n float64) float64 { return wave(0.8, 0.2, 45, n) }, nil},
	{"simulated_load_power", "Load", Power, func(n float64) float64 { return wave(5.05, 0.05, 30, n) * wave(0.8, 0.2, 45, n) }, nil},
	{"simulated_light", "Light", Illuminance, func(n float64) float64 { return wave(300, 250, 1440, n) }, nil},
}

// simulatedReadings returns the readings of a given step, sorted by name.
func simulatedReadings(step uint64) []Reading {
	out := make([]Reading, 0, len(simSensors))
	for _, s := range simSensors {
		out = append(out, Reading{Name: s.name, Kind: s.kind, Value: s.value(float64(step)), Source: "simulated", Chip: "simulated", Label: s.label, Limits: s.limits})
	}
	sortReadings(out)
	return out
}

func (s *simulatedSource) Read(ctx context.Context) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	step := s.step.Add(1) - 1
	return Result{Readings: simulatedReadings(step)}, nil
}
