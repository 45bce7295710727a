package sensors

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// parserReasons are the only reasons a parser may report; io, vanished and
// timeout come from the read, never from content.
var parserReasons = []string{ReasonEmpty, ReasonParse, ReasonRange, ReasonCRC}

func checkParsed(t *testing.T, k Kind, v float64, err error) {
	t.Helper()
	if err != nil {
		if r := reasonOf(err); !slices.Contains(parserReasons, r) {
			t.Fatalf("parser error with reason %q: %v", r, err)
		}
		if v != 0 {
			t.Fatalf("error %v came with a value %g", err, v)
		}
		return
	}
	if cerr := Check(k, v); cerr != nil {
		t.Fatalf("parser returned a value that fails Check: %v", cerr)
	}
}

var hwmonTypeNames = []string{"temp", "in", "curr", "power", "fan", "humidity"}

func FuzzParseHwmon(f *testing.F) {
	for i, s := range []string{"45000\n", "-1250", "", "n/a", "-273150", "120000", "0", " 3312 ", "+5", "0x10", "9223372036854775807", "1e3", "NaN"} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, ti uint8, s string) {
		typ := hwmonTypeNames[int(ti)%len(hwmonTypeNames)]
		info := hwmonTypes[typ]
		v, err := parseHwmon(typ, s)
		checkParsed(t, info.kind, v, err)
		// Oracle: exactly the decimal integers parse, scaled by the divisor,
		// unless the result is physically impossible.
		n, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		switch {
		case perr != nil && err == nil:
			t.Fatalf("%q is not an integer but parsed as %g", s, v)
		case perr == nil && Check(info.kind, float64(n)/info.div) == nil && (err != nil || v != float64(n)/info.div):
			t.Fatalf("%q: got %g, %v; want %g", s, v, err, float64(n)/info.div)
		case perr == nil && Check(info.kind, float64(n)/info.div) != nil && reasonOf(err) != ReasonRange:
			t.Fatalf("%q: out of range but reason %q", s, reasonOf(err))
		}
	})
}

func FuzzParseW1Slave(f *testing.F) {
	f.Add("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n")
	f.Add("50 05 4b 46 7f ff 0c 10 1c : crc=00 NO\n50 05 4b 46 7f ff 0c 10 1c t=85000\n")
	f.Add("e6 ff 4b 46 ff ff 0c 10 6c : crc=6c YES\ne6 ff 4b 46 ff ff 0c 10 6c t=-1250\n")
	f.Add("ff ff ff ff ff ff ff ff ff : crc=c9 YES\nff ff ff ff ff ff ff ff ff t=-62\n")
	f.Add("00 : crc=00 YES\n00 t=999999999\n")
	f.Add("f0 ff\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseW1Slave(s)
		checkParsed(t, Temperature, v, err)
		first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
		fields := strings.Fields(first)
		crcLine := len(fields) >= 2 && strings.HasPrefix(fields[len(fields)-2], "crc=")
		if err == nil && !(crcLine && fields[len(fields)-1] == "YES") {
			t.Fatalf("value %g without a YES crc status in %q", v, s)
		}
		if crcLine && fields[len(fields)-1] == "NO" && reasonOf(err) != ReasonCRC {
			t.Fatalf("crc NO in %q reported as %v", s, err)
		}
	})
}

var iioTypeNames = []string{"temp", "humidityrelative", "pressure", "illuminance", "voltage"}

func FuzzParseIIO(f *testing.F) {
	f.Add(uint8(0), "23450", "", "")
	f.Add(uint8(0), "500", "-100", "62.500000")
	f.Add(uint8(1), "3000", "600", "12.500000")
	f.Add(uint8(2), "101.325", "", "")
	f.Add(uint8(3), "1000", "", "0.833333")
	f.Add(uint8(4), "1650", "", "2.000000")
	f.Add(uint8(4), "0x1f", "", "")
	f.Add(uint8(4), "", "", "")
	f.Add(uint8(2), "99999999999999999999", "1", "99999999999")
	f.Add(uint8(0), "1", "inf", "nan")
	f.Fuzz(func(t *testing.T, ti uint8, raw, offset, scale string) {
		typ := iioTypeNames[int(ti)%len(iioTypeNames)]
		v, err := parseIIO(typ, raw, offset, scale)
		checkParsed(t, iioTypes[typ].kind, v, err)
		if err == nil && !decimalRE.MatchString(strings.TrimSpace(raw)) {
			t.Fatalf("raw %q is not a decimal but gave %g", raw, v)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0.010000000", "-12.5", "101.325", "+3", "1e5", "NaN", "Inf", "0x1p3", "1_000", ".5", "5.", "", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseDecimal(s)
		if err != nil {
			if r := reasonOf(err); r != ReasonEmpty && r != ReasonParse && r != ReasonRange {
				t.Fatalf("reason %q", r)
			}
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%q gave %g", s, v)
		}
		if strings.ContainsAny(strings.TrimSpace(s), "eEpPxXnNiI_ \t\n") {
			t.Fatalf("%q is not plain decimal but parsed as %g", s, v)
		}
		if want, _ := strconv.ParseFloat(strings.TrimSpace(s), 64); want != v {
			t.Fatalf("%q: got %g, strconv says %g", s, v, want)
		}
	})
}

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		got    func() (float64, error)
		want   float64
		reason string
	}{
		{"milli", func() (float64, error) { return parseMilli(Temperature, "45000\n") }, 45, ""},
		{"milli negative", func() (float64, error) { return parseMilli(Temperature, "-1250") }, -1.25, ""},
		{"milli empty", func() (float64, error) { return parseMilli(Temperature, " ") }, 0, ReasonEmpty},
		{"milli float", func() (float64, error) { return parseMilli(Temperature, "45.5") }, 0, ReasonParse},
		{"milli hex", func() (float64, error) { return parseMilli(Temperature, "0x10") }, 0, ReasonParse},
		{"milli absolute zero", func() (float64, error) { return parseMilli(Temperature, "-273150") }, 0, ReasonRange},
		{"hwmon power", func() (float64, error) { return parseHwmon("power", "6275000") }, 6.275, ""},
		{"hwmon humidity", func() (float64, error) { return parseHwmon("humidity", "45500") }, 0.455, ""},
		{"hwmon humidity 120%", func() (float64, error) { return parseHwmon("humidity", "120000") }, 0, ReasonRange},
		{"hwmon fan negative", func() (float64, error) { return parseHwmon("fan", "-1") }, 0, ReasonRange},
		{"w1 yes", func() (float64, error) { return parseW1Slave("a : crc=57 YES\na t=23125\n") }, 23.125, ""},
		{"w1 no", func() (float64, error) { return parseW1Slave("a : crc=57 NO\na t=23125\n") }, 0, ReasonCRC},
		{"w1 one line", func() (float64, error) { return parseW1Slave("a : crc=57 YES\n") }, 0, ReasonParse},
		{"w1 no t", func() (float64, error) { return parseW1Slave("a : crc=57 YES\na\n") }, 0, ReasonParse},
		{"w1 garbage status", func() (float64, error) { return parseW1Slave("a : crc=57 MAYBE\na t=1\n") }, 0, ReasonParse},
		{"iio defaults", func() (float64, error) { return parseIIO("illuminance", "12", "", "") }, 12, ""},
		{"iio kPa", func() (float64, error) { return parseIIO("pressure", "101.325", "", "") }, 101325, ""},
		{"iio offset scale", func() (float64, error) { return parseIIO("temp", "500", "-100", "62.5") }, 25, ""},
		{"iio bad scale", func() (float64, error) { return parseIIO("temp", "500", "", "1e3") }, 0, ReasonParse},
		{"iio overflow", func() (float64, error) { return parseIIO("pressure", "1"+strings.Repeat("0", 400), "", "") }, 0, ReasonRange},
		{"iio unknown type", func() (float64, error) { return parseIIO("accel", "1", "", "") }, 0, ReasonParse},
	} {
		v, err := tc.got()
		switch {
		case tc.reason == "" && (err != nil || math.Abs(v-tc.want) > 1e-12):
			t.Errorf("%s: got %g, %v; want %g", tc.name, v, err, tc.want)
		case tc.reason != "" && (err == nil || reasonOf(err) != tc.reason):
			t.Errorf("%s: got %g, %v; want reason %s", tc.name, v, err, tc.reason)
		}
	}
}
