package cgroup

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/golden"
	"github.com/edgeobs/edge-observability-stack/internal/testtree"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func TestCollectorGolden(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			c := NewCollector(Reader{Root: filepath.Join(fixtures, v)}, "edge-observability.slice")
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)

			// Nothing is read at scrape time: before the first poll the
			// collector exports nothing.
			if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
				t.Fatalf("before Update: %d metrics, %v; want 0", n, err)
			}
			if err := c.Update(); err != nil {
				t.Fatal(err)
			}

			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					t.Fatal(err)
				}
			}
			f, err := os.Open(golden.Path(t, "collector_"+v+".prom", buf.String()))
			if err != nil {
				t.Fatalf("%v (go test ./internal/cgroup -update writes it)", err)
			}
			defer f.Close()
			if err := testutil.GatherAndCompare(reg, f); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCollectorKeepsLastValuesOnError(t *testing.T) {
	root := t.TempDir()
	testtree.Write(t, root, map[string]string{
		"cgroup.controllers":     "memory",
		"s.slice/memory.current": "42",
	})
	c := NewCollector(Reader{Root: root}, "s.slice")
	if err := c.Update(); err != nil {
		t.Fatal(err)
	}
	testtree.Write(t, root, map[string]string{"s.slice/memory.current": "garbage"})
	if err := c.Update(); err == nil {
		t.Fatal("Update with a malformed file: want error")
	}
	want := `# HELP edge_unit_memory_bytes Memory charged to the unit's cgroup, page cache included (memory.current on cgroup v2, memory.usage_in_bytes on v1).
# TYPE edge_unit_memory_bytes gauge
edge_unit_memory_bytes{unit="s.slice"} 42
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "edge_unit_memory_bytes"); err != nil {
		t.Errorf("after a failed poll: %v", err)
	}

	// The slice going away is not an error: the metrics disappear.
	if err := os.RemoveAll(filepath.Join(root, "s.slice")); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Stats()); n != 0 {
		t.Errorf("after the slice vanished: %d stats, want 0", n)
	}
}

// Without the slice's cgroup (the stack not started by systemd) the collector says so in a
// sentence, on v1 and v2; with it, it does not.
func TestCollectorWarnsWithoutSlice(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		c := NewCollector(Reader{Root: filepath.Join(fixtures, v)}, "absent.slice")
		if got := c.Warnings(); got != nil {
			t.Errorf("%s, before Update: %q", v, got)
		}
		if err := c.Update(); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(c.Warnings(), "\n")
		want := "Not running under systemd: there is no absent.slice to measure, so no memory or CPU figures per unit and no memory budget; install the package for the budget."
		if got != want {
			t.Errorf("%s: Warnings() = %q, want %q", v, got, want)
		}
		c = NewCollector(Reader{Root: filepath.Join(fixtures, v)}, "edge-observability.slice")
		if err := c.Update(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Warnings(), "\n"); strings.Contains(got, "systemd") {
			t.Errorf("%s: the slice exists, yet Warnings() = %q", v, got)
		}
	}
}
