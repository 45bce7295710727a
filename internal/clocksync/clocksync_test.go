package clocksync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"
)

// fakeKernel answers adjtimex with a fixed maximum error or error, and
// records the modes it was called with.
type fakeKernel struct {
	maxerr int64
	err    error
	modes  []uint32
}

func (k *fakeKernel) Adjtimex(tx *unix.Timex) (int, error) {
	k.modes = append(k.modes, tx.Modes)
	if k.err != nil {
		return -1, k.err
	}
	tx.Maxerror = typeof(tx.Maxerror, k.maxerr)
	return unix.TIME_OK, nil
}

// typeof converts v to the type of the Timex field (int32 on 32-bit ARM).
func typeof[T int32 | int64](_ T, v int64) T { return T(v) }

// exposition is the collector's output: "absent" or the gauge's value.
func exposition(t *testing.T, c *Collector) string {
	t.Helper()
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if testutil.CollectAndCount(c) == 0 {
		return "absent"
	}
	return fmt.Sprint("edge_clock_synchronized ", testutil.ToFloat64(c))
}

func TestCollector(t *testing.T) {
	for _, tc := range []struct {
		name     string
		k        fakeKernel
		wantErr  bool
		metric   string
		warnings int
	}{
		{"synchronised (timesyncd keeps the maximum error small)", fakeKernel{maxerr: 37_000}, false, "edge_clock_synchronized 1", 0},
		{"just under the limit", fakeKernel{maxerr: maxErrorLimit - 1}, false, "edge_clock_synchronized 1", 0},
		{"unsynchronised (the kernel's limit of 16 s)", fakeKernel{maxerr: maxErrorLimit}, false, "edge_clock_synchronized 0", 1},
		{"denied by seccomp: unknown, nothing exported", fakeKernel{err: unix.EPERM}, true, "absent", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(&tc.k)
			if got := exposition(t, c); got != "absent" {
				t.Errorf("before Update: %q, want nothing", got)
			}
			err := c.Update()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Update() = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, unix.EPERM) {
				t.Errorf("Update() = %v, want it to wrap EPERM", err)
			}
			if got := exposition(t, c); got != tc.metric {
				t.Errorf("exposition %q, want %q", got, tc.metric)
			}
			if got := c.Warnings(); len(got) != tc.warnings || (len(got) == 1 && got[0] != Warning) {
				t.Errorf("Warnings() = %q, want %d", got, tc.warnings)
			}
			for _, m := range tc.k.modes {
				if m != 0 {
					t.Errorf("adjtimex called with modes %#x, want 0 (read only)", m)
				}
			}
		})
	}
}

// A status that becomes unknown drops the gauge instead of keeping the last value.
func TestCollectorForgetsOnError(t *testing.T) {
	k := &fakeKernel{maxerr: maxErrorLimit}
	c := New(k)
	if err := c.Update(); err != nil {
		t.Fatal(err)
	}
	k.err = unix.EPERM
	if err := c.Update(); err == nil {
		t.Fatal("Update() = nil with adjtimex failing")
	}
	if got := exposition(t, c); got != "absent" {
		t.Errorf("after a failed Update: %q, want nothing", got)
	}
	if got := c.Warnings(); got != nil {
		t.Errorf("after a failed Update: warnings %q, want none", got)
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timex")
	c := New(File{path})
	if err := c.Update(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: Update() = %v, want not-exist", err)
	}
	for content, want := range map[string]string{"maxerror=16000000\n": "edge_clock_synchronized 0", "maxerror=1000": "edge_clock_synchronized 1"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.Update(); err != nil {
			t.Fatal(err)
		}
		if got := exposition(t, c); got != want {
			t.Errorf("file %q: %q, want %q", content, got, want)
		}
	}
	os.WriteFile(path, []byte("16000000"), 0o644)
	if err := c.Update(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("malformed file: Update() = %v, want an error naming %s", err, path)
	}
}

// The real system call with modes 0 needs no capability; whatever the
// machine's clock, it answers and the gauge is 0 or 1.
func TestAdjtimexReal(t *testing.T) {
	c := New(Adjtimex{})
	if err := c.Update(); err != nil {
		t.Fatalf("adjtimex(modes=0): %v", err)
	}
	if got := exposition(t, c); got != "edge_clock_synchronized 0" && got != "edge_clock_synchronized 1" {
		t.Errorf("exposition %q", got)
	}
}
