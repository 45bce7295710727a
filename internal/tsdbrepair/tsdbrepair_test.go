package tsdbrepair

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testdata/01M8BJ1Y5R1RWHPQQNEM35C825 is a block written by Prometheus 2.42.
const good = "01M8BJ1Y5R1RWHPQQNEM35C825"

// dataDir copies the good block into a fresh data directory under the name
// given, next to a WAL, and returns the directory.
func dataDir(t *testing.T, names ...string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "metrics2")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if out, err := exec.Command("cp", "-a", filepath.Join("testdata", good), filepath.Join(d, n)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	if err := os.MkdirAll(filepath.Join(d, "wal"), 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGoodBlockStays(t *testing.T) {
	d := dataDir(t, good)
	if err := CheckBlock(filepath.Join(d, good)); err != nil {
		t.Fatalf("a block written by Prometheus fails the check: %v", err)
	}
	moved, err := Repair(d, time.Now())
	if err != nil || len(moved) != 0 {
		t.Fatalf("Repair moved %v (err %v)", moved, err)
	}
}

func TestBrokenBlocksMovedAside(t *testing.T) {
	const bad = "01M8BJ1Y5R1RWHPQQNEM35C8ZZ"
	cases := []struct {
		name   string
		breakf func(t *testing.T, block string)
		reason string
	}{
		{"empty index", func(t *testing.T, b string) { truncate(t, filepath.Join(b, "index"), 0) }, "index: 0 bytes"},
		{"zeroed index", func(t *testing.T, b string) { zero(t, filepath.Join(b, "index")) }, "index: bad magic"},
		{"index cut short", func(t *testing.T, b string) { truncate(t, filepath.Join(b, "index"), 20000) }, "checksum"},
		{"no index", func(t *testing.T, b string) { remove(t, filepath.Join(b, "index")) }, "no such file"},
		{"empty meta.json", func(t *testing.T, b string) { truncate(t, filepath.Join(b, "meta.json"), 0) }, "meta.json: unreadable"},
		{"empty chunk segment", func(t *testing.T, b string) { truncate(t, filepath.Join(b, "chunks", "000001"), 0) }, "chunks/000001: 0 bytes"},
		{"zeroed chunk segment", func(t *testing.T, b string) { zero(t, filepath.Join(b, "chunks", "000001")) }, "chunks/000001: bad magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := dataDir(t, good, bad)
			c.breakf(t, filepath.Join(d, bad))
			now := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
			moved, err := Repair(d, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(moved) != 1 || moved[0].Block != bad || !strings.Contains(moved[0].Reason, c.reason) {
				t.Fatalf("moved %+v, want %s with a reason containing %q", moved, bad, c.reason)
			}
			for _, keep := range []string{good, "wal"} {
				if _, err := os.Stat(filepath.Join(d, keep)); err != nil {
					t.Errorf("%s no longer in the data directory: %v", keep, err)
				}
			}
			if _, err := os.Stat(filepath.Join(d, bad)); !os.IsNotExist(err) {
				t.Errorf("broken block still in the data directory (%v)", err)
			}
			// Nothing is deleted: the block is whole in the quarantine, with a note.
			q := QuarantineDir(d)
			if _, err := os.Stat(filepath.Join(q, bad, "meta.json")); err != nil {
				t.Errorf("quarantined block incomplete: %v", err)
			}
			list, err := List(q)
			if err != nil || len(list) != 1 || list[0].Block != bad || !list[0].Time.Equal(now) || list[0].Reason != moved[0].Reason {
				t.Fatalf("List = %+v (err %v), want the moved block with its time and reason", list, err)
			}
			// A second run finds nothing more.
			if again, err := Repair(d, now); err != nil || len(again) != 0 {
				t.Fatalf("second Repair moved %v (err %v)", again, err)
			}
		})
	}
}

func TestMissingDataDir(t *testing.T) {
	moved, err := Repair(filepath.Join(t.TempDir(), "none"), time.Now())
	if err != nil || moved != nil {
		t.Fatalf("Repair of a missing dir: %v %v", moved, err)
	}
	if l, err := List(filepath.Join(t.TempDir(), "none")); err != nil || l != nil {
		t.Fatalf("List of a missing dir: %v %v", l, err)
	}
}

func truncate(t *testing.T, p string, n int64) {
	t.Helper()
	if err := os.Truncate(p, n); err != nil {
		t.Fatal(err)
	}
}

func zero(t *testing.T, p string) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, st.Size()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
