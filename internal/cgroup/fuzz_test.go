package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzSliceFiles feeds arbitrary content into the files of a v2 unit and a
// v1 unit: reading must never panic, and whatever is reported must be what
// the files say.
func FuzzSliceFiles(f *testing.F) {
	f.Add("12582912", "max", "low 0\noom_kill 3\n", "usage_usec 4500000\n")
	f.Add("0", "33554432", "oom_kill 18446744073709551615", "usage_usec x\nusage_usec 1")
	f.Add(" 7 \n", "max\n", "", "")
	f.Add("-1", "1e3", "oom_kill -1", "usage_usec 99999999999999999999")
	f.Fuzz(func(t *testing.T, current, max, events, cpuStat string) {
		root := t.TempDir()
		files := map[string]string{
			"cgroup.controllers":               "memory",
			"s.slice/memory.current":           current,
			"s.slice/memory.max":               max,
			"s.slice/memory.events":            events,
			"s.slice/cpu.stat":                 cpuStat,
			"s.slice/a.service/memory.current": "1",
		}
		for p, c := range files {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		stats, err := Reader{Root: root}.Slice("s.slice")
		wantCur, curErr := strconv.ParseUint(strings.TrimSpace(current), 10, 64)
		if curErr != nil {
			if err == nil {
				t.Fatalf("memory.current %q accepted: %+v", current, stats)
			}
			return
		}
		m := strings.TrimSpace(max)
		wantMax, maxErr := strconv.ParseUint(m, 10, 64)
		if maxErr != nil && m != "max" {
			if err == nil {
				t.Fatalf("memory.max %q accepted: %+v", max, stats)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid files rejected: %v", err)
		}
		if len(stats) != 2 || stats[0].Unit != "s.slice" || stats[1].Unit != "a.service" {
			t.Fatalf("stats %+v", stats)
		}
		s := stats[0]
		if s.MemoryBytes == nil || *s.MemoryBytes != wantCur {
			t.Errorf("MemoryBytes %v, want %d", s.MemoryBytes, wantCur)
		}
		if (m == "max") != (s.MemoryMax == nil) || (s.MemoryMax != nil && *s.MemoryMax != wantMax) {
			t.Errorf("memory.max %q gave %v", max, s.MemoryMax)
		}
		if s.OOMKills != nil && !strings.Contains(events, "oom_kill") {
			t.Errorf("OOMKills %d without an oom_kill line", *s.OOMKills)
		}
		if s.CPUSeconds < 0 || (s.CPUSeconds != 0 && !strings.Contains(cpuStat, "usage_usec")) {
			t.Errorf("CPUSeconds %v from %q", s.CPUSeconds, cpuStat)
		}
	})
}
