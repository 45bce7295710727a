package sensors

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// copyFixture returns a writable copy of the sysfs fixture.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", fixture+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture: %v\n%s", err, out)
	}
	return dir
}

// limitsOf returns the limits of the named reading, and whether it was read.
func limitsOf(res Result, name string) (Limits, bool) {
	for _, r := range res.Readings {
		if r.Name == name {
			return r.Limits, true
		}
	}
	return nil, false
}

// A limit is read on the sensor's first poll and then once every
// LimitEvery polls: a changed limit shows at the next re-read, a garbage
// one is counted at each re-read (not at every poll) and left out, and a
// removed one is simply absent.
func TestLimitsReadEveryNPolls(t *testing.T) {
	dir := copyFixture(t)
	maxPath := filepath.Join(dir, "devices/platform/soc/3f804000.i2c/i2c-1/1-0048/hwmon/hwmon1/temp1_max")
	var maxReads, failedCritReads atomic.Int32
	withReadFile(t, func(path string) (string, error) {
		switch path {
		case filepath.Join(dir, "class/hwmon/hwmon1/temp1_max"):
			maxReads.Add(1)
		case filepath.Join(dir, "class/hwmon/hwmon2/temp1_crit"): // of a reading that fails
			failedCritReads.Add(1)
		}
		return readOnce(path)
	})
	const name = "hwmon_lm75_i2c_1_0048_temp1"
	var src Source
	for _, s := range NewSources(Options{SysfsPath: dir, LimitEvery: 3}) {
		if s.Name() == "hwmon" {
			src = s
		}
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(maxPath, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		change    func()
		want      Limits // limits after this poll
		limitErrs int    // limit errors of the sensor in this poll
	}{
		{func() {}, Limits{{"max", 80}}, 0},                   // poll 1: read
		{func() { write("70000\n") }, Limits{{"max", 80}}, 0}, // 2: kept
		{func() {}, Limits{{"max", 80}}, 0},                   // 3: kept
		{func() {}, Limits{{"max", 70}}, 0},                   // 4: read again
		{func() { write("hot\n") }, Limits{{"max", 70}}, 0},   // 5: kept
		{func() {}, Limits{{"max", 70}}, 0},                   // 6: kept
		{func() {}, nil, 1},                                   // 7: garbage, counted, left out
		{func() {}, nil, 0},                                   // 8: not counted again until the next read
		{func() { os.Remove(maxPath) }, nil, 0},               // 9
		{func() {}, nil, 0},                                   // 10: read again: gone, no error
	}
	for i, step := range steps {
		step.change()
		res, err := src.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, ok := limitsOf(res, name)
		if !ok || !sameLimits(got, step.want) {
			t.Errorf("poll %d: limits %v (read %v), want %v", i+1, got, ok, step.want)
		}
		n := 0
		for _, e := range res.LimitErrors {
			if e.Name == name {
				n++
				if e.Reason != ReasonParse {
					t.Errorf("poll %d: limit error %v, want reason parse", i+1, e)
				}
			}
		}
		if n != step.limitErrs {
			t.Errorf("poll %d: %d limit errors of %s, want %d: %v", i+1, n, name, step.limitErrs, res.LimitErrors)
		}
		if len(res.Errors) != 4 {
			t.Errorf("poll %d: reading errors %v, want the fixture's 4: a limit is no fault of the reading", i+1, res.Errors)
		}
	}
	// Polls 1, 4, 7 read the file; poll 10 found it gone in the directory listing.
	if n := maxReads.Load(); n != 3 {
		t.Errorf("temp1_max read %d times in 10 polls, want 3", n)
	}
	if n := failedCritReads.Load(); n != 0 {
		t.Errorf("the limit of a reading that fails was read %d times", n)
	}
}

// With LimitEvery 1 a changed trip point shows at the next poll.
func TestLimitsEveryPoll(t *testing.T) {
	dir := copyFixture(t)
	var src Source
	for _, s := range NewSources(Options{SysfsPath: dir, LimitEvery: 1}) {
		if s.Name() == "thermal" {
			src = s
		}
	}
	const name = "thermal_zone0_acpitz"
	for i, crit := range []string{"105000", "98000", "99000"} {
		if err := os.WriteFile(filepath.Join(dir, "devices/virtual/thermal/thermal_zone0/trip_point_0_temp"), []byte(crit+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := src.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := limitsOf(res, name)
		if len(got) == 0 || got[0].Type != "critical" || got[0].Value*1000 != mustFloat(t, crit) {
			t.Errorf("poll %d: limits %v, want critical %s m°C first", i+1, got, crit)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	n, err := parseInt(s)
	if err != nil {
		t.Fatal(err)
	}
	return float64(n)
}

// The cache forgets sensors that no poll asked for during a whole period,
// and keeps nothing from a read that the poll's context cut short.
func TestLimitCacheForgetsAndSkipsCutReads(t *testing.T) {
	c := newLimitCache(2)
	reads := 0
	read := func() Limits { reads++; return Limits{{"max", 1}} }
	ctx := context.Background()
	c.next()
	c.get(ctx, "a", read)
	c.get(ctx, "b", read)
	c.next() // poll 2: only a is asked for; the sweep at poll 2 keeps both (b was used at poll 1)
	c.get(ctx, "a", read)
	c.next() // poll 3: a is read again (2 polls old)
	c.get(ctx, "a", read)
	c.next() // poll 4: sweep; b was last used at poll 1
	if _, ok := c.m["b"]; ok {
		t.Error("b still cached two polls after its last use")
	}
	if _, ok := c.m["a"]; !ok {
		t.Error("a forgotten although used at poll 3")
	}
	if reads != 3 {
		t.Errorf("%d reads, want 3 (a at polls 1 and 3, b at poll 1)", reads)
	}
	cut, cancel := context.WithCancel(ctx)
	cancel()
	if got := c.get(cut, "c", read); len(got) != 1 {
		t.Errorf("cut read returned %v", got)
	}
	if _, ok := c.m["c"]; ok {
		t.Error("a read cut short by its context was kept")
	}
}

func TestLimitsJSON(t *testing.T) {
	for _, tc := range []struct {
		in   Limits
		want string
	}{
		{Limits{{"crit", 100}, {"max", 80.5}}, `{"crit":100,"max":80.5}`},
		{Limits{{"min", -0.25}}, `{"min":-0.25}`},
		{Limits{}, `{}`},
		{Limits{{"max", 1e-7}, {"min", 1e21}}, `{"max":1e-7,"min":1e+21}`},
		{Limits{{"crit", 100000}, {"lcrit", -40}}, `{"crit":100000,"lcrit":-40}`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.in, b, err, tc.want)
		}
		// Numbers as encoding/json writes them.
		m := map[string]float64{}
		for _, l := range tc.in {
			m[l.Type] = l.Value
		}
		if std, _ := json.Marshal(m); string(std) != string(b) {
			t.Errorf("%v: %s, encoding/json writes %s", tc.in, b, std)
		}
	}
	// Inside a struct with omitempty, no limits means no key.
	b, _ := json.Marshal(struct {
		L Limits `json:"limits,omitempty"`
	}{})
	if strings.Contains(string(b), "limits") {
		t.Errorf("empty limits marshalled as %s", b)
	}
}

func TestLimitMetricNames(t *testing.T) {
	want := map[Kind]string{
		Temperature: "edge_sensor_temperature_limit_celsius",
		Voltage:     "edge_sensor_voltage_limit_volts",
		Current:     "edge_sensor_current_limit_amperes",
		Power:       "edge_sensor_power_limit_watts",
		Fan:         "edge_sensor_fan_speed_limit_rpm",
		Humidity:    "edge_sensor_humidity_limit_ratio",
		Pressure:    "edge_sensor_pressure_limit_pascals",
		Illuminance: "edge_sensor_illuminance_limit_lux",
	}
	for k, info := range Kinds {
		if got := info.LimitMetric(); got != want[k] {
			t.Errorf("%s: %s, want %s", k, got, want[k])
		}
	}
}
