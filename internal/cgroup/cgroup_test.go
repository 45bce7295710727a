package cgroup

import (
	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"

	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixtures = "../../test/fixtures/cgroup"

func u64(v uint64) *uint64 { return &v }

func TestSliceFixtures(t *testing.T) {
	tests := []struct {
		root    string
		version int
		want    []Stats
	}{
		{
			root:    "v2",
			version: 2,
			want: []Stats{
				{Unit: "edge-observability.slice", Version: 2, MemoryBytes: u64(138412032), MemoryMax: u64(157286400), CPUSeconds: 123.456789, OOMKills: u64(2), IOWriteBytes: u64(3670016)},
				{Unit: "edge-sensord.service", Version: 2, MemoryBytes: u64(12582912), MemoryMax: u64(33554432), MemoryHigh: u64(25165824), CPUSeconds: 4.5, OOMKills: u64(0), IOWriteBytes: u64(0)},
				{Unit: "grafana-server.service", Version: 2, MemoryBytes: u64(41943040), CPUSeconds: 20.956789, OOMKills: u64(0)},
				{Unit: "prometheus.service", Version: 2, MemoryBytes: u64(83886080), MemoryMax: u64(100663296), MemoryHigh: u64(88080384), CPUSeconds: 98, OOMKills: u64(2), IOWriteBytes: u64(3670016)},
			},
		},
		{
			root:    "v1",
			version: 1,
			want: []Stats{
				{Unit: "edge-observability.slice", Version: 1, MemoryBytes: u64(138412032), MemoryMax: u64(157286400), CPUSeconds: 123.456789, OOMKills: u64(1)},
				{Unit: "edge-sensord.service", Version: 1, MemoryBytes: u64(12582912), MemoryMax: u64(33554432), CPUSeconds: 4.5, OOMKills: u64(0)},
				{Unit: "grafana-server.service", Version: 1, MemoryBytes: u64(41943040), CPUSeconds: 20.956789, OOMKills: u64(0)},
				{Unit: "prometheus.service", Version: 1, MemoryBytes: u64(83886080), MemoryMax: u64(100663296), CPUSeconds: 98, OOMKills: u64(1)},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.root, func(t *testing.T) {
			// Read afresh, and through kept-open files (twice: the second
			// read uses the descriptors of the first).
			files := fsread.NewHandles(64)
			for i, r := range []Reader{{Root: filepath.Join(fixtures, tc.root)}, {Root: filepath.Join(fixtures, tc.root), Files: files}, {Root: filepath.Join(fixtures, tc.root), Files: files}} {
				v, err := r.Version()
				if err != nil || v != tc.version {
					t.Fatalf("read %d: Version() = %d, %v; want %d", i, v, err, tc.version)
				}
				got, err := r.Slice("edge-observability.slice")
				if err != nil {
					t.Fatal(err)
				}
				assertStats(t, got, tc.want)
			}
			if files.Open() == 0 {
				t.Fatal("no cgroup file kept open")
			}
		})
	}
}

func assertStats(t *testing.T, got, want []Stats) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d stats, want %d:\n%s", len(got), len(want), dump(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		// CPU seconds come from a division; compare with a tolerance far
		// below the counters' resolution.
		if d := g.CPUSeconds - w.CPUSeconds; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: CPUSeconds = %v, want %v", w.Unit, g.CPUSeconds, w.CPUSeconds)
		}
		g.CPUSeconds, w.CPUSeconds = 0, 0
		if !reflect.DeepEqual(g, w) {
			t.Errorf("stats[%d]:\n got %s\nwant %s", i, dump([]Stats{g}), dump([]Stats{w}))
		}
	}
}

func dump(ss []Stats) string {
	p := func(v *uint64) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s v%d mem=%s max=%s high=%s cpu=%g oom=%s io_w=%s\n", s.Unit, s.Version, p(s.MemoryBytes), p(s.MemoryMax), p(s.MemoryHigh), s.CPUSeconds, p(s.OOMKills), p(s.IOWriteBytes))
	}
	return b.String()
}

func TestSliceMissingIsEmpty(t *testing.T) {
	for _, root := range []string{"v1", "v2"} {
		got, err := Reader{Root: filepath.Join(fixtures, root)}.Slice("nope.slice")
		if err != nil || len(got) != 0 {
			t.Errorf("%s: Slice(nope.slice) = %v, %v; want empty, nil", root, got, err)
		}
	}
}

func TestSliceNestedV2(t *testing.T) {
	got := sliceOf(t, map[string]string{
		"cgroup.controllers": "cpu memory",
		"foo.slice/edge-observability.slice/memory.current":                           "100",
		"foo.slice/edge-observability.slice/memory.max":                               "max",
		"foo.slice/edge-observability.slice/a.service/memory.current":                 "40",
		"foo.slice/edge-observability.slice/b.scope/memory.current":                   "50",
		"foo.slice/edge-observability.slice/inner.slice/memory.current":               "10",
		"foo.slice/edge-observability.slice/inner.slice/c.service/memory.current":     "10",
		"foo.slice/edge-observability.slice/not-a-unit/memory.current":                "1",
		"foo.slice/edge-observability.slice/a.service/payload.service/memory.current": "1",
	}, "/foo.slice/edge-observability.slice/")
	assertStats(t, got, []Stats{
		{Unit: "edge-observability.slice", Version: 2, MemoryBytes: u64(100)},
		{Unit: "a.service", Version: 2, MemoryBytes: u64(40)},
		{Unit: "b.scope", Version: 2, MemoryBytes: u64(50)},
		{Unit: "inner.slice", Version: 2, MemoryBytes: u64(10)},
	})
}

func TestSliceNestedV1CPUOnlyUnit(t *testing.T) {
	got := sliceOf(t, map[string]string{
		"memory/foo.slice/x.slice/memory.usage_in_bytes":           "300",
		"memory/foo.slice/x.slice/a.service/memory.usage_in_bytes": "200",
		"cpuacct/foo.slice/x.slice/cpuacct.usage":                  "3000000000",
		"cpuacct/foo.slice/x.slice/a.service/cpuacct.usage":        "1000000000",
		"cpuacct/foo.slice/x.slice/b.service/cpuacct.usage":        "2000000000",
	}, "foo.slice/x.slice")
	assertStats(t, got, []Stats{
		{Unit: "x.slice", Version: 1, MemoryBytes: u64(300), CPUSeconds: 3},
		{Unit: "a.service", Version: 1, MemoryBytes: u64(200), CPUSeconds: 1},
		{Unit: "b.service", Version: 1, CPUSeconds: 2},
	})
}

func TestV1Limits(t *testing.T) {
	tests := []struct {
		limit string
		want  *uint64
	}{
		{"9223372036854771712", nil}, // 64-bit kernel, 4 KiB pages
		{"9223372036854710272", nil}, // 64-bit kernel, 64 KiB pages
		{"8796093018112", nil},       // 32-bit kernel (armv7), 4 KiB pages
		{"8796093014016", u64(8796093014016)},
		{"157286400", u64(157286400)},
	}
	for _, tc := range tests {
		got := sliceOf(t, map[string]string{
			"memory/s.slice/memory.usage_in_bytes": "1",
			"memory/s.slice/memory.limit_in_bytes": tc.limit,
			// Kernels before 4.13 have no oom_kill line.
			"memory/s.slice/memory.oom_control": "oom_kill_disable 0\nunder_oom 0",
		}, "s.slice")
		assertStats(t, got, []Stats{{Unit: "s.slice", Version: 1, MemoryBytes: u64(1), MemoryMax: tc.want}})
	}
}

func TestErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := (Reader{Root: empty}).Slice("s.slice"); err == nil {
		t.Error("Slice on a directory that is no cgroup mount: want error")
	}
	if _, err := (Reader{Root: filepath.Join(fixtures, "v2")}).Slice("../v1"); err == nil {
		t.Error("Slice with ..: want error")
	}
	bad := t.TempDir()
	testtree.Write(t, bad, map[string]string{
		"cgroup.controllers":           "memory",
		"s.slice/memory.current":       "12k",
		"s.slice/a.service/memory.max": "max",
	})
	if _, err := (Reader{Root: bad}).Slice("s.slice"); err == nil || !strings.Contains(err.Error(), "memory.current") {
		t.Errorf("malformed memory.current: err = %v, want one naming the file", err)
	}
	badLimit := t.TempDir()
	testtree.Write(t, badLimit, map[string]string{
		"cgroup.controllers":  "memory",
		"s.slice/memory.high": "unlimited",
	})
	if _, err := (Reader{Root: badLimit}).Slice("s.slice"); err == nil || !strings.Contains(err.Error(), "memory.high") {
		t.Errorf("malformed memory.high: err = %v, want one naming the file", err)
	}
}

func TestParseKeyedSkipsOddLines(t *testing.T) {
	kv := parseKeyed([]byte("usage_usec 10\nsome 1 2\nweird x\n\nnr_periods 3\n"))
	if !reflect.DeepEqual(kv, map[string]uint64{"usage_usec": 10, "nr_periods": 3}) {
		t.Errorf("parseKeyed = %v", kv)
	}
}

func TestParseIOWritten(t *testing.T) {
	for in, want := range map[string]uint64{
		"": 0, // io.stat exists but the cgroup has done no IO yet
		"179:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n":                   8192,
		"179:0 rbytes=1 wbytes=10 rios=1 wios=1\n254:0 rbytes=0 wbytes=5 rios=0 wios=1\n": 15,
		"8:0 wbytes=x wbytes=-1 rbytes=7\n8:16 wbytes=3 cost.usage=9\n":                   3, // malformed values are skipped
	} {
		if got := parseIOWritten([]byte(in)); got != want {
			t.Errorf("parseIOWritten(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSlicePath(t *testing.T) {
	for in, want := range map[string]string{
		"edge-observability.slice": "edge.slice/edge-observability.slice",
		"a-b-c.slice":              "a.slice/a-b.slice/a-b-c.slice",
		"system.slice":             "system.slice",
		"-.slice":                  "-.slice",
		"a--b.slice":               "a--b.slice",
		"foo.service":              "foo.service",
	} {
		if got := SlicePath(in); got != filepath.FromSlash(want) {
			t.Errorf("SlicePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSliceUnitNameFallsBackToLiteralPath(t *testing.T) {
	root := t.TempDir()
	testtree.Write(t, root, map[string]string{
		"cgroup.controllers":                                "memory",
		"edge-observability.slice/memory.current":           "7",
		"edge-observability.slice/x.service/memory.current": "7",
	})
	got, err := Reader{Root: root}.Slice("edge-observability.slice")
	if err != nil {
		t.Fatal(err)
	}
	assertStats(t, got, []Stats{
		{Unit: "edge-observability.slice", Version: 2, MemoryBytes: u64(7)},
		{Unit: "x.service", Version: 2, MemoryBytes: u64(7)},
	})

	// Where systemd puts it wins over the literal path.
	testtree.Write(t, root, map[string]string{"edge.slice/edge-observability.slice/memory.current": "9"})
	got, err = Reader{Root: root}.Slice("edge-observability.slice")
	if err != nil {
		t.Fatal(err)
	}
	assertStats(t, got, []Stats{{Unit: "edge-observability.slice", Version: 2, MemoryBytes: u64(9)}})
}

func TestSliceV1HybridUnifiedCPU(t *testing.T) {
	got := sliceOf(t, map[string]string{
		// CPU accounting off: no cpuacct cgroups below the root.
		"cpu,cpuacct/cpuacct.usage":                                                        "1",
		"memory/edge.slice/edge-observability.slice/memory.usage_in_bytes":                 "300",
		"memory/edge.slice/edge-observability.slice/a.service/memory.usage_in_bytes":       "200",
		"unified/cgroup.controllers":                                                       "",
		"unified/edge.slice/edge-observability.slice/cpu.stat":                             "usage_usec 3000000\nuser_usec 1",
		"unified/edge.slice/edge-observability.slice/a.service/cpu.stat":                   "usage_usec 2500000",
		"unified/edge.slice/edge-observability.slice/b.service/cpu.stat":                   "usage_usec 500000",
		"unified/edge.slice/edge-observability.slice/a.service/cgroup.procs":               "",
		"systemd/edge.slice/edge-observability.slice/b.service/cgroup.procs":               "",
		"unified/edge.slice/edge-observability.slice/not-a-unit/cpu.stat":                  "usage_usec 1",
		"memory/edge.slice/edge-observability.slice/a.service/memory.oom_control":          "oom_kill 4",
		"memory/edge.slice/edge-observability.slice/a.service/memory.limit_in_bytes":       "1048576",
		"memory/edge.slice/edge-observability.slice/memory.limit_in_bytes":                 "9223372036854771712",
		"memory/edge.slice/edge-observability.slice/a.service/memory.kmem.usage_in_bytes":  "5",
		"memory/edge.slice/edge-observability.slice/a.service/memory.memsw.usage_in_bytes": "6",
	}, "edge-observability.slice")
	assertStats(t, got, []Stats{
		{Unit: "edge-observability.slice", Version: 1, MemoryBytes: u64(300), CPUSeconds: 3},
		{Unit: "a.service", Version: 1, MemoryBytes: u64(200), MemoryMax: u64(1048576), CPUSeconds: 2.5, OOMKills: u64(4)},
		{Unit: "b.service", Version: 1, CPUSeconds: 0.5},
	})
}

// sliceOf is the stats of slice in a cgroup tree of files.
func sliceOf(t *testing.T, files map[string]string, slice string) []Stats {
	t.Helper()
	root := t.TempDir()
	testtree.Write(t, root, files)
	got, err := Reader{Root: root}.Slice(slice)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
