package host

import (
	"path/filepath"
	"testing"
)

// BenchmarkCollector is one Update of each collector alone on the Raspberry
// Pi fixture, and of them all.
func BenchmarkCollector(b *testing.B) {
	for _, name := range append(CollectorNames(), "all") {
		b.Run(name, func(b *testing.B) {
			enabled := only(name)
			if name == "all" {
				enabled = nil
			}
			h, err := New(Options{Procfs: filepath.Join(fixtures, "proc"), Sysfs: filepath.Join(fixtures, "sys"),
				Rootfs: filepath.Join(fixtures, "rootfs"), Enabled: enabled})
			if err != nil {
				b.Fatal(err)
			}
			h.Update()
			b.ReportAllocs()
			for b.Loop() {
				h.Update()
			}
		})
	}
}
