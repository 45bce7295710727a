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
			dir := b.TempDir()
			if err := sensorstest.WriteHwmonTree(dir, n); err != nil {
				b.Fatal(err)
			}
			sources := NewSources(Options{SysfsPath: dir})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				for _, s := range sources {
					res, err := s.Read(ctx)
					if err != nil || len(res.Errors) != 0 {
						b.Fatalf("%s: %v %v", s.Name(), err, res.Errors)
					}
					got += len(res.Readings)
				}
				if got != n {
					b.Fatalf("read %d sensors, want %d", got, n)
				}
			}
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
				dir := b.TempDir()
				if err := sensorstest.WriteHwmonTreeWithLimits(dir, n); err != nil {
					b.Fatal(err)
				}
				sources := NewSources(Options{SysfsPath: dir, LimitEvery: every})
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					got := 0
					for _, s := range sources {
						res, err := s.Read(ctx)
						if err != nil || len(res.Errors) != 0 || len(res.LimitErrors) != 0 {
							b.Fatalf("%s: %v %v %v", s.Name(), err, res.Errors, res.LimitErrors)
						}
						for _, r := range res.Readings {
							got += len(r.Limits)
						}
					}
					if got != 2*n {
						b.Fatalf("read %d limits, want %d", got, 2*n)
					}
				}
			})
		}
	}
}
