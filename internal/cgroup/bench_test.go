package cgroup

import (
	"path/filepath"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// BenchmarkCollectorPoll is the cgroup part of each daemon poll on the
// fixture trees, files kept open as in the daemon: Detect alone, the
// slice's accounting alone (Update before Detect existed), and the whole Update. On the tree without
// memory, Detect also reads /proc/cmdline and /proc/cgroups to say why.
func BenchmarkCollectorPoll(b *testing.B) {
	for _, tc := range []struct{ tree, proc string }{{"v2", "pi-6.12-enabled"}, {"v2-nomemory", "pi-6.12"}, {"v1", "pi-5.15"}} {
		r := Reader{Root: filepath.Join(fixtures, tc.tree), Procfs: filepath.Join(procFixtures, tc.proc), Files: fsread.NewHandles(fsread.DefaultMax)}
		b.Run("tree="+tc.tree+"/detect", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Detect(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("tree="+tc.tree+"/slice", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Slice("edge-observability.slice"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("tree="+tc.tree+"/poll", func(b *testing.B) {
			c := NewCollector(r, "edge-observability.slice")
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Update(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
