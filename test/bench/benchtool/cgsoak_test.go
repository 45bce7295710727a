package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A v1 memory hierarchy and a v2 one, each with a child group holding this
// test's own process: both are found and read with their own file names.
func TestCgroupSample(t *testing.T) {
	self := strconv.Itoa(os.Getpid()) + "\n"
	for _, tc := range []struct {
		name, sub       string
		files           map[string]string
		usage, peak     int64
		anon, pageCache int64
	}{
		{"v1", "memory", map[string]string{"memory.usage_in_bytes": "3000\n", "memory.max_usage_in_bytes": "4000\n",
			"memory.stat": "cache 1\nrss 2\ntotal_cache 100\ntotal_rss 200\n"}, 3000, 4000, 200, 100},
		{"v2", "", map[string]string{"memory.current": "5000\n", "memory.peak": "6000\n",
			"memory.stat": "anon 300\nfile 400\n"}, 5000, 6000, 300, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, tc.sub, "a.slice")
			writeTestFile(t, filepath.Join(dir, "cgroup.procs"), "")
			writeTestFile(t, filepath.Join(dir, "b.service", "cgroup.procs"), self)
			for f, c := range tc.files {
				writeTestFile(t, filepath.Join(dir, f), c)
			}
			g, err := openCgroup(root, "a", "/a.slice")
			if err != nil {
				t.Fatal(err)
			}
			s := g.sample()
			writeTestFile(t, filepath.Join(root, "unified", "a.slice", "cpu.stat"), "usage_usec 1234\nuser_usec 1000\n")
			if g, _ = openCgroup(root, "a", "/a.slice"); g.cpuUsec() != 1234 {
				t.Errorf("CPU %d µs, want 1234 from cpu.stat", g.cpuUsec())
			}
			if s.usage != tc.usage || s.peak != tc.peak || s.anon != tc.anon || s.file != tc.pageCache {
				t.Errorf("got usage %d peak %d anon %d file %d", s.usage, s.peak, s.anon, s.file)
			}
			if len(s.procs) != 1 || s.procs[0].pid != os.Getpid() || s.procs[0].pssKiB <= 0 {
				t.Errorf("processes %+v: want this one, with its PSS", s.procs)
			}
		})
	}
	if _, err := openCgroup(t.TempDir(), "x", "/none.slice"); err == nil {
		t.Error("a group without memory files: no error")
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
