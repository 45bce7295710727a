package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"

	webapi "github.com/edgeobs/edge-observability-stack/internal/web"
)

// BenchmarkDaemonPoll is one poll of the daemon as main wires it, on the
// Raspberry Pi fixture (its thermal zone, the cgroup v2 tree, and, with
// host=on, every host collector on its procfs, sysfs and root filesystem):
// sensor sources, cgroup accounting, the clock, the host collectors, the
// Go runtime's and the process's own metrics, and the view of the poll.
// host=off is the poll as it was before the host collectors.
func BenchmarkDaemonPoll(b *testing.B) {
	root, _ := filepath.Abs("../../test/fixtures")
	fix := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	for _, tc := range []struct{ name, flag string }{{"host=off", "--collector.disable-defaults"}, {"host=on", "--collector.cpu"}} {
		b.Run(tc.name, func(b *testing.B) {
			f, err := parseFlags([]string{"--path.sysfs=" + fix("host", "sys"), "--path.procfs=" + fix("host", "proc"),
				"--path.rootfs=" + fix("host", "rootfs"), "--path.cgroupfs=" + fix("cgroup", "v2"),
				"--clock.timex-file=" + fix("clock", "synchronized"), tc.flag}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			cfg, err := f.loadConfig()
			if err != nil {
				b.Fatal(err)
			}
			queries, _ := webapi.NewQueryProxy("", f.queries)
			d, err := newDaemon(f, cfg, queries, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			d.poller.PollOnce(ctx) // files opened, buffers sized
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				d.poller.PollOnce(ctx)
			}
			b.StopTimer()
			// CPU time, user and system, of the process: on a machine shared
			// with other work, wall time per poll also counts the waits for a CPU.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			d.files.Sweep()
			d.files.Sweep() // closes what the last poll kept open
		})
	}
}

// processCPU is the CPU time the process has used, user and system, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
