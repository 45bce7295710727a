package host

import (
	"maps"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

func TestMMCWear(t *testing.T) {
	life := func(dev, typ string) string {
		return `edge_mmc_life_time_used_ratio{device="` + dev + `",type="` + typ + `"}`
	}
	eol := func(dev string) string { return `edge_mmc_pre_eol{device="` + dev + `"}` }
	for _, tc := range []struct {
		name, lifeTime, preEOL string // "-": the attribute does not exist
		want                   map[string]float64
		reason                 string
	}{
		{"new eMMC", "0x01 0x01", "0x01", map[string]float64{life("mmcblk0", "A"): 0.1, life("mmcblk0", "B"): 0.1, eol("mmcblk0"): 1}, ""},
		{"worn", "0x0a 0x09", "0x02", map[string]float64{life("mmcblk0", "A"): 1.0, life("mmcblk0", "B"): 0.9, eol("mmcblk0"): 2}, ""},
		{"exceeded", "0x0b 0x0b", "0x03", map[string]float64{life("mmcblk0", "A"): 1.1, life("mmcblk0", "B"): 1.1, eol("mmcblk0"): 3}, ""},
		{"not defined", "0x00 0x00", "0x00", map[string]float64{}, ""},
		{"type B only", "0x00 0x03", "-", map[string]float64{life("mmcblk0", "B"): 0.3}, ""},
		{"microSD card", "-", "-", map[string]float64{}, ""},
		{"band out of range", "0x0c 0x01", "0x01", map[string]float64{eol("mmcblk0"): 1}, sensors.ReasonParse},
		{"one estimate", "0x01", "0x01", map[string]float64{eol("mmcblk0"): 1}, sensors.ReasonParse},
		{"decimal pre-EOL", "0x01 0x01", "1", map[string]float64{life("mmcblk0", "A"): 0.1, life("mmcblk0", "B"): 0.1}, sensors.ReasonParse},
		{"undefined pre-EOL state", "0x01 0x01", "0x04", map[string]float64{life("mmcblk0", "A"): 0.1, life("mmcblk0", "B"): 0.1}, sensors.ReasonParse},
		{"empty life_time", "", "0x01", map[string]float64{eol("mmcblk0"): 1}, sensors.ReasonEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := t.TempDir()
			files := map[string]string{"block/mmcblk0/device/type": "MMC", "block/mmcblk0boot0/device/life_time": "0x05 0x05",
				"block/loop0/size": "0"}
			if tc.lifeTime != "-" {
				files["block/mmcblk0/device/life_time"] = tc.lifeTime
			}
			if tc.preEOL != "-" {
				files["block/mmcblk0/device/pre_eol_info"] = tc.preEOL
			}
			testtree.Write(t, sys, files)
			h, err := New(Options{Procfs: t.TempDir(), Sysfs: sys, Enabled: only("mmc")})
			if err != nil {
				t.Fatal(err)
			}
			if got := samples(t, h); !maps.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
			o := outcome(t, h, "mmc")
			if tc.reason == "" && (o.Err != nil || len(o.ReadErrors) != 0) {
				t.Errorf("unexpected failure %v, %v", o.Err, o.ReadErrors)
			}
			if tc.reason != "" && (o.Err == nil || len(o.ReadErrors) != 1 || o.ReadErrors[0].Reason != tc.reason) {
				t.Errorf("failure %v, read errors %v; want one %s error", o.Err, o.ReadErrors, tc.reason)
			}
		})
	}
}
