package fsread

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOnce reads one attribute the way a poll does, opened afresh and
// through Handles, on real sysfs (where Handles issues a single pread) and
// on an ordinary file (fstat plus pread, as with the test fixtures).
func BenchmarkOnce(b *testing.B) {
	tmp := filepath.Join(b.TempDir(), "temp1_input")
	os.WriteFile(tmp, []byte("42000\n"), 0o644)
	files := map[string]string{
		"sysfs":    "/sys/class/net/lo/statistics/rx_bytes",
		"ordinary": tmp,
	}
	for kind, path := range files {
		if _, err := Once(path); err != nil {
			b.Logf("%s: %v", kind, err)
			continue
		}
		b.Run(kind+"/open-read-close", func(b *testing.B) {
			for b.Loop() {
				if _, err := Once(path); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/kept-open", func(b *testing.B) {
			h := NewHandles(8)
			for b.Loop() {
				if _, err := h.Once(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
