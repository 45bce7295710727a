package sensors

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/sensors/sensorstest"
)

// BenchmarkReadAll reads every source over generated hwmon trees to show
// how a poll scales with the number of sensors.
func BenchmarkReadAll(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			benchReadAll(b, sensorstest.WriteHwmonTree, n, 0, 0)
		})
	}
}

// BenchmarkReadAllLimits is BenchmarkReadAll over a tree whose sensors each
// have two limits, read every poll or kept for DefaultLimitEvery polls as
// the daemon does; BenchmarkReadAll is the same tree without limits.
func BenchmarkReadAllLimits(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, every := range []int{1, DefaultLimitEvery} {
			b.Run(fmt.Sprintf("sensors=%d/every=%d", n, every), func(b *testing.B) {
				benchReadAll(b, sensorstest.WriteHwmonTreeWithLimits, n, every, 2)
			})
		}
	}
}

// benchReadAll reads every source of the tree write makes with n sensors,
// each with limits limits, re-read every limitEvery polls.
func benchReadAll(b *testing.B, write func(string, int) error, n, limitEvery, limits int) {
	dir := b.TempDir()
	if err := write(dir, n); err != nil {
		b.Fatal(err)
	}
	sources := NewSources(Options{SysfsPath: dir, LimitEvery: limitEvery})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, gotLimits := 0, 0
		for _, s := range sources {
			res, err := s.Read(ctx)
			if err != nil || len(res.Errors) != 0 || len(res.LimitErrors) != 0 {
				b.Fatalf("%s: %v %v %v", s.Name(), err, res.Errors, res.LimitErrors)
			}
			got += len(res.Readings)
			for _, r := range res.Readings {
				gotLimits += len(r.Limits)
			}
		}
		if got != n || gotLimits != limits*n {
			b.Fatalf("read %d sensors with %d limits, want %d with %d", got, gotLimits, n, limits*n)
		}
	}
}
