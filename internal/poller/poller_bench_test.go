package poller

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeobs/edge-observability-stack/internal/config"
	"github.com/edgeobs/edge-observability-stack/internal/events"
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
	"github.com/edgeobs/edge-observability-stack/internal/sensors/sensorstest"
)

var benchSizes = []int{10, 100, 1000}

// benchPoller polls a generated hwmon tree of n sensors through the real
// sources. With files set, attributes stay open between polls, as in the
// daemon; without, every read opens its file.
func benchPoller(b *testing.B, n int, files *fsread.Handles) *Poller {
	return benchPollerOf(b, n, files, sensorstest.WriteHwmonTree, 0)
}

// benchPollerOf is benchPoller over the tree write makes, with sensors'
// limits re-read every limitEvery polls (0: the default).
func benchPollerOf(b *testing.B, n int, files *fsread.Handles, write func(string, int) error, limitEvery int) *Poller {
	b.Helper()
	dir := b.TempDir()
	if err := write(dir, n); err != nil {
		b.Fatal(err)
	}
	p := New(slog.New(slog.NewTextHandler(io.Discard, nil)), b.TempDir(), events.New())
	if files != nil {
		p.KeepFilesOpen(files)
		b.Cleanup(files.Sweep) // every file was last read before the last poll's Sweep
	}
	p.Reconfigure(config.Default(), sensors.NewSources(sensors.Options{SysfsPath: dir, Files: files, LimitEvery: limitEvery}))
	if v := p.PollOnce(context.Background()); len(v.Sensors) != n || v.Errors != 0 {
		b.Fatalf("first poll: %d sensors, %d errors; want %d, 0", len(v.Sensors), v.Errors, n)
	}
	return p
}

// BenchmarkPollOnce is one full poll: every sysfs read, the cache update
// and the pre-rendered JSON and metric samples.
func BenchmarkPollOnce(b *testing.B) {
	for _, n := range benchSizes {
		for _, files := range []string{"fresh", "kept"} {
			b.Run(fmt.Sprintf("sensors=%d/files=%s", n, files), func(b *testing.B) {
				var kept *fsread.Handles
				if files == "kept" {
					kept = fsread.NewHandles(fsread.DefaultMax)
				}
				p := benchPoller(b, n, kept)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if v := p.PollOnce(ctx); len(v.Sensors) != n {
						b.Fatalf("%d sensors, want %d", len(v.Sensors), n)
					}
				}
			})
		}
	}
}

// BenchmarkPollOnceLimits is BenchmarkPollOnce with files kept, over a tree
// whose sensors each have two limits, read every poll or every
// DefaultLimitEvery polls as the daemon does.
func BenchmarkPollOnceLimits(b *testing.B) {
	for _, n := range benchSizes {
		for _, every := range []int{1, sensors.DefaultLimitEvery} {
			b.Run(fmt.Sprintf("sensors=%d/every=%d", n, every), func(b *testing.B) {
				p := benchPollerOf(b, n, fsread.NewHandles(fsread.DefaultMax), sensorstest.WriteHwmonTreeWithLimits, every)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if v := p.PollOnce(ctx); len(v.Sensors) != n || len(v.Sensors[0].Limits) != 2 {
						b.Fatalf("%d sensors, want %d with 2 limits each", len(v.Sensors), n)
					}
				}
			})
		}
	}
}

// BenchmarkGather is the scrape-time work of the poller's collector: turning
// the cached samples into metric families (no I/O).
func BenchmarkGather(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			p := benchPoller(b, n, nil)
			reg := prometheus.NewRegistry()
			reg.MustRegister(Collector{P: p})
			b.ReportAllocs()
			for b.Loop() {
				mfs, err := reg.Gather()
				if err != nil || len(mfs) == 0 {
					b.Fatalf("gather: %d families, %v", len(mfs), err)
				}
			}
		})
	}
}
