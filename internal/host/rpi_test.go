package host

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

// piTree writes a Raspberry Pi's sysfs: the model, get_throttled on the
// device bound to raspberrypi-firmware (when word is not "-") and the
// rpi_volt hwmon (when alarm is not "-").
func piTree(t *testing.T, model, word, alarm string) string {
	t.Helper()
	sys := t.TempDir()
	dev := "devices/platform/soc/soc:firmware"
	files := map[string]string{"bus/platform/drivers/raspberrypi-firmware/uevent": "", dev + "/uevent": "DRIVER=raspberrypi-firmware"}
	if model != "" {
		files["firmware/devicetree/base/model"] = model + "\x00"
	}
	if word != "-" {
		files[dev+"/get_throttled"] = word
	}
	if alarm != "-" {
		files["class/hwmon/hwmon1/name"] = "rpi_volt"
		files["class/hwmon/hwmon1/in0_lcrit_alarm"] = alarm
	}
	files["class/hwmon/hwmon0/name"] = "cpu_thermal"
	testtree.Write(t, sys, files)
	if err := os.Symlink("../../../../"+dev, filepath.Join(sys, "bus/platform/drivers/raspberrypi-firmware/soc:firmware")); err != nil {
		t.Fatal(err)
	}
	return sys
}

func throttle(cond, state string) string {
	return `edge_rpi_throttle{condition="` + cond + `",state="` + state + `"}`
}

func TestRaspberryPiThrottling(t *testing.T) {
	pi4 := "Raspberry Pi 4 Model B Rev 1.4"
	all := func(now, boot [4]float64) map[string]float64 {
		m := map[string]float64{}
		for i, c := range throttleConditions {
			m[throttle(c, "now")], m[throttle(c, "since_boot")] = now[i], boot[i]
		}
		return m
	}
	for _, tc := range []struct {
		name, model, word, alarm string
		want                     map[string]float64
		reason                   string // of a counted read error
	}{
		{"healthy", pi4, "0", "0", all([4]float64{}, [4]float64{}), ""},
		{"under-voltage and throttled now", pi4, "50005", "1", all([4]float64{1, 0, 1, 0}, [4]float64{1, 0, 1, 0}), ""},
		{"occurred since boot only", pi4, "50000", "0", all([4]float64{}, [4]float64{1, 0, 1, 0}), ""},
		{"soft limit now, all since boot", pi4, "f0008", "0", all([4]float64{0, 0, 0, 1}, [4]float64{1, 1, 1, 1}), ""},
		{"other bits ignored", pi4, "fff0fff0", "0", all([4]float64{}, [4]float64{}), ""},
		{"no get_throttled: rpi_volt alone", pi4, "-", "1", map[string]float64{throttle("undervoltage", "now"): 1}, ""},
		{"Zero W: no under-voltage detection", "Raspberry Pi Zero W Rev 1.1", "50005", "0",
			map[string]float64{throttle("frequency_capped", "now"): 0, throttle("frequency_capped", "since_boot"): 0,
				throttle("throttled", "now"): 1, throttle("throttled", "since_boot"): 1,
				throttle("soft_temp_limit", "now"): 0, throttle("soft_temp_limit", "since_boot"): 0}, ""},
		{"Compute Module 4 without get_throttled", "Raspberry Pi Compute Module 4 Rev 1.0", "-", "0", map[string]float64{}, ""},
		{"get_throttled without rpi_volt is stale", pi4, "50005", "-", map[string]float64{}, ""},
		{"not a Raspberry Pi", "", "-", "-", map[string]float64{}, ""},
		{"garbage word: rpi_volt still says now", pi4, "5zz05", "1", map[string]float64{throttle("undervoltage", "now"): 1}, sensors.ReasonParse},
		{"prefixed word is garbage", pi4, "0x50005", "0", map[string]float64{throttle("undervoltage", "now"): 0}, sensors.ReasonParse},
		{"empty word", pi4, "", "0", map[string]float64{throttle("undervoltage", "now"): 0}, sensors.ReasonEmpty},
		{"garbage alarm, no word", pi4, "-", "2", map[string]float64{}, sensors.ReasonParse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := piTree(t, tc.model, tc.word, tc.alarm)
			h, err := New(Options{Procfs: t.TempDir(), Sysfs: sys, Enabled: only("rpi")})
			if err != nil {
				t.Fatal(err)
			}
			got := samples(t, h)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
			o := outcome(t, h, "rpi")
			var reasons []string
			for _, e := range o.ReadErrors {
				reasons = append(reasons, e.Reason)
				if !strings.HasPrefix(e.Name, sys) {
					t.Errorf("read error %q does not name the attribute", e.Name)
				}
			}
			switch {
			case tc.reason == "" && (o.Err != nil || len(reasons) > 0):
				t.Errorf("unexpected failure %v, read errors %v", o.Err, reasons)
			case tc.reason != "" && (o.Err == nil || !slices.Equal(reasons, []string{tc.reason})):
				t.Errorf("failure %v, read errors %v; want one %s error", o.Err, reasons, tc.reason)
			case tc.reason != "" && !strings.Contains(o.Err.Error(), sys):
				t.Errorf("failure %q does not name the file", o.Err)
			}
		})
	}
}
