package sensors

import (
	"context"
	"errors"
	"math"
	"testing"
)

const fixture = "../../test/fixtures/sysfs"

// wantErr is a failed read: the sensor, why, and the kind and chip the
// source tried to read, which /sensor shows for a sensor never read.
type wantErr struct {
	name, reason string
	kind         Kind
	chip         string
}

func readSource(t *testing.T, name, sysfs string) Result {
	t.Helper()
	for _, s := range NewSources(Options{SysfsPath: sysfs}) {
		if s.Name() == name {
			res, err := s.Read(context.Background())
			if err != nil {
				t.Fatalf("%s: Read: %v", name, err)
			}
			return res
		}
	}
	t.Fatalf("no source %q", name)
	return Result{}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func sameLimits(a, b Limits) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !near(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// checkErrors compares read errors by sensor name and reason, in order, and
// by kind and chip where want names them.
func checkErrors(t *testing.T, what string, got []ReadError, want []wantErr) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d %s, want %d: %v", len(got), what, len(want), got)
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Name != w.name || g.Reason != w.reason || (w.kind != "" && g.Kind != w.kind) || (w.chip != "" && g.Chip != w.chip) {
			t.Errorf("%s %d: got %s/%s %s on %q (%v), want %s/%s %s on %q", what, i, g.Name, g.Reason, g.Kind, g.Chip, g.Err, w.name, w.reason, w.kind, w.chip)
		}
	}
}

func checkResult(t *testing.T, got Result, want []Reading, wantErrs []wantErr, wantLimitErrs ...wantErr) {
	t.Helper()
	checkErrors(t, "limit errors", got.LimitErrors, wantLimitErrs)
	if len(got.Readings) != len(want) {
		t.Errorf("got %d readings, want %d", len(got.Readings), len(want))
	}
	for i := range min(len(got.Readings), len(want)) {
		g, w := got.Readings[i], want[i]
		if g.Name != w.Name || g.Kind != w.Kind || g.Source != w.Source || g.Chip != w.Chip || g.Label != w.Label ||
			!near(g.Value, w.Value) || !sameLimits(g.Limits, w.Limits) {
			t.Errorf("reading %d:\n got  %+v\n want %+v", i, g, w)
		}
	}
	checkErrors(t, "errors", got.Errors, wantErrs)
}

func TestHwmonFixture(t *testing.T) {
	const (
		core = "coretemp_platform_coretemp_0"
		edge = "edgemon_platform_edgemon_0"
		adt  = "adt7475_i2c_1_002e"
		lm75 = "lm75_i2c_1_0048"
	)
	r := func(name string, k Kind, v float64, chip, label string, limits ...Limit) Reading {
		return Reading{Name: "hwmon_" + name, Kind: k, Value: v, Source: "hwmon", Chip: chip, Label: label, Limits: limits}
	}
	l := func(typ string, v float64) Limit { return Limit{typ, v} }
	want := []Reading{
		r("acpitz_temp1", Temperature, 27.8, "acpitz", "", l("crit", 105)),                    // no device link
		r(adt+"_fan1", Fan, 1200, adt, "", l("min", 0)),                                       // old layout, attributes in device/
		r(adt+"_temp1", Temperature, 38, adt, "", l("crit", 100)),                             //
		r(core+"_temp1", Temperature, 45, core, "Package id 0", l("crit", 100), l("max", 80)), // temp1_crit_alarm is no limit
		r(core+"_temp2", Temperature, 43, core, "Core 0", l("crit", 100), l("max", 80)),
		r(core+"_temp3", Temperature, 44, core, "Core 1"),
		r(edge+"_curr1", Current, 1.25, edge, "vin", l("max", 3)), // curr1_crit out of range
		r(edge+"_fan1", Fan, 2400, edge, "case", l("min", 600)),
		r(edge+"_humidity1", Humidity, 0.455, edge, "", l("max", 0.8)),
		r(edge+"_in0", Voltage, 5.02, edge, "vin", l("crit", 5.5), l("lcrit", 4.5), l("max", 5.25), l("min", 4.75)),
		r(edge+"_in1", Voltage, 3.312, edge, "3v3", l("max", 3.465)), // in1_min is not a number
		r(edge+"_power1", Power, 6.275, edge, "vin", l("max", 10)),   // power1_average, no input; power1_crit empty
		r(edge+"_power2", Power, 1.5, edge, ""),                      // input wins over average
		r(lm75+"_temp1", Temperature, 23.5, lm75, "", l("max", 80)),  // temp1_max_hyst is left out
	}
	errs := []wantErr{
		{"hwmon_" + edge + "_humidity2", ReasonRange, Humidity, edge},
		{"hwmon_" + edge + "_temp1", ReasonEmpty, Temperature, edge},
		{"hwmon_" + edge + "_temp2", ReasonParse, Temperature, edge},
		{"hwmon_" + edge + "_temp3", ReasonRange, Temperature, edge},
	}
	limitErrs := []wantErr{
		{name: "hwmon_" + edge + "_curr1", reason: ReasonRange},
		{name: "hwmon_" + edge + "_in1", reason: ReasonParse},
		{name: "hwmon_" + edge + "_power1", reason: ReasonEmpty},
	}
	checkResult(t, readSource(t, "hwmon", fixture), want, errs, limitErrs...)
}

func TestThermalFixture(t *testing.T) {
	zone := func(name string, v float64, typ string, limits ...Limit) Reading {
		return Reading{Name: name, Kind: Temperature, Value: v, Source: "thermal", Chip: typ, Label: typ, Limits: limits}
	}
	want := []Reading{
		zone("thermal_zone0_acpitz", 27.8, "acpitz", Limit{"critical", 105}, Limit{"hot", 100}, Limit{"passive", 95}),
		// Unused trips of x86_pkg_temp read 0: exported as the driver reports them.
		zone("thermal_zone1_x86_pkg_temp", 46, "x86_pkg_temp", Limit{"passive", 0}),
		// The lowest trip of each type: the first fan stage, the first passive trip.
		zone("thermal_zone3_soc_thermal", 52, "soc-thermal", Limit{"active", 50}, Limit{"critical", 95}, Limit{"passive", 70}),
	}
	// thermal_zone2's temp is garbage, so its trip is not read; thermal_zone3 has a trip of an
	// unknown type and one at THERMAL_TEMP_INVALID.
	limitErrs := []wantErr{{name: "thermal_zone3_soc_thermal", reason: ReasonParse}, {name: "thermal_zone3_soc_thermal", reason: ReasonRange}}
	checkResult(t, readSource(t, "thermal", fixture), want, []wantErr{{"thermal_zone2_cpu_thermal", ReasonRange, Temperature, "cpu-thermal"}}, limitErrs...)
}

func TestIIOFixture(t *testing.T) {
	const (
		ads  = "ads1015_i2c_1_0049"
		bh   = "bh1750_i2c_1_0023"
		bme  = "bme280_i2c_1_0076"
		hts  = "hts221_i2c_1_005f"
		iio_ = "iio_"
	)
	r := func(chip, ch string, k Kind, v float64, label string) Reading {
		return Reading{Name: iio_ + chip + "_" + ch, Kind: k, Value: v, Source: "iio", Chip: chip, Label: label}
	}
	want := []Reading{
		r(ads, "voltage0", Voltage, 3.3, "battery"), // 1650 * shared scale 2.0 mV
		r(ads, "voltage1", Voltage, 3.0, ""),        // 1000 * own scale 3.0 mV
		r(bh, "illuminance", Illuminance, 833.333, ""),
		r(bme, "humidityrelative", Humidity, 0.45123, ""),
		r(bme, "pressure", Pressure, 101325, ""),
		r(bme, "temp", Temperature, 23.45, ""),
		r(hts, "humidityrelative", Humidity, 0.45, ""), // (3000+600)*12.5 m%
		r(hts, "temp", Temperature, 25, ""),            // (500-100)*62.5 m°C
	}
	errs := []wantErr{
		{iio_ + ads + "_voltage2", ReasonEmpty, Voltage, ads},
		{iio_ + ads + "_voltage3", ReasonParse, Voltage, ads},
	}
	checkResult(t, readSource(t, "iio", fixture), want, errs)
}

func TestW1Fixture(t *testing.T) {
	r := func(id string, v float64) Reading {
		return Reading{Name: "w1_" + sanitize(id), Kind: Temperature, Value: v, Source: "w1", Chip: id}
	}
	want := []Reading{
		r("10-000802b4ab12", -1.25),
		r("28-000005e2fdc3", 23.125),
		r("28-0000075a1b2c", 21.5), // temperature file wins over w1_slave
	}
	errs := []wantErr{
		{"w1_28_00000a0b0c0d", ReasonParse, Temperature, "28-00000a0b0c0d"},
		{"w1_28_0316a2795bff", ReasonCRC, Temperature, "28-0316a2795bff"}, // crc NO: no value although t=85000 is present
	}
	got := readSource(t, "w1", fixture)
	checkResult(t, got, want, errs)
	for _, e := range got.Errors {
		if e.Reason == ReasonCRC && !errors.Is(e.Err, errCRC) {
			t.Errorf("crc error does not wrap errCRC: %v", e.Err)
		}
	}
}

func TestEmptySysfs(t *testing.T) {
	for _, dir := range []string{t.TempDir(), t.TempDir() + "/does-not-exist"} {
		for _, s := range NewSources(Options{SysfsPath: dir}) {
			res, err := s.Read(context.Background())
			if err != nil || len(res.Readings) != 0 || len(res.Errors) != 0 {
				t.Errorf("%s on %s: got %+v, %v; want nothing", s.Name(), dir, res, err)
			}
		}
	}
}

func TestAllReadingsPassCheck(t *testing.T) {
	for _, s := range NewSources(Options{SysfsPath: fixture, Simulate: true}) {
		res, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Readings) == 0 {
			t.Errorf("%s: no readings from the fixture", s.Name())
		}
		for _, r := range res.Readings {
			if err := Check(r.Kind, r.Value); err != nil || r.Source != s.Name() || r.Name != sanitize(r.Name) {
				t.Errorf("%s: bad reading %+v: %v", s.Name(), r, err)
			}
		}
	}
}
