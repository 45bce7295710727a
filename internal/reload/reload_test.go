package reload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no record: %v, want ErrNotExist", err)
	}
	for _, r := range []Result{{Seq: 0}, {Seq: 7, Err: "config.yml:2: field \"x\": unknown field\nsecond line"}, {Seq: 8}} {
		if err := Record(dir, r); err != nil {
			t.Fatal(err)
		}
		got, err := Read(dir)
		if r.Err != "" {
			r.Err = "config.yml:2: field \"x\": unknown field second line"
		}
		if err != nil || got != r {
			t.Fatalf("Read after Record(%+v) = %+v, %v", r, got, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, FileName)); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("record not readable by every user (edgectl status): %v %v", st.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, FileName+".*")); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
	for _, bad := range []string{"", "x ok\n", "3\n", "3 maybe\n"} {
		os.WriteFile(filepath.Join(dir, FileName), []byte(bad), 0o644)
		if r, err := Read(dir); err == nil {
			t.Errorf("Read(%q) = %+v, want an error", bad, r)
		}
	}
}

func TestRuntimeDir(t *testing.T) {
	t.Setenv("RUNTIME_DIRECTORY", "/run/a:/run/b")
	if d := RuntimeDir(); d != "/run/a" {
		t.Fatalf("RuntimeDir() = %q", d)
	}
	t.Setenv("RUNTIME_DIRECTORY", "")
	if d := RuntimeDir(); d != "" {
		t.Fatalf("RuntimeDir() = %q without the variable", d)
	}
}

func TestTrigger(t *testing.T) {
	dir := t.TempDir()
	Record(dir, Result{Seq: 3})
	ctx := context.Background()

	// The daemon records the reload a little after the signal.
	for _, want := range []Result{{Seq: 4}, {Seq: 5, Err: "bad file"}} {
		signals := 0
		got, err := Trigger(ctx, dir, time.Millisecond, func() error {
			signals++
			go func() {
				time.Sleep(20 * time.Millisecond)
				Record(dir, want)
			}()
			return nil
		})
		if err != nil || got != want || signals != 1 {
			t.Fatalf("Trigger = %+v, %v after %d signals; want %+v", got, err, signals, want)
		}
	}

	// A daemon that never answers: the deadline ends the wait.
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := Trigger(tctx, dir, time.Millisecond, func() error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent daemon: %v", err)
	}

	// The signal cannot be sent: no waiting.
	boom := errors.New("no such process")
	if _, err := Trigger(ctx, dir, time.Millisecond, func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed signal: %v", err)
	}

	// The daemon exits during the reload and its runtime directory goes.
	if _, err := Trigger(ctx, dir, time.Millisecond, func() error {
		return os.Remove(filepath.Join(dir, FileName))
	}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record gone mid-reload: %v", err)
	}

	// No record at all: signal anyway, say the outcome is unknown.
	signals := 0
	if _, err := Trigger(ctx, t.TempDir(), time.Millisecond, func() error { signals++; return nil }); !errors.Is(err, ErrNotReported) || signals != 1 {
		t.Fatalf("no record: %v after %d signals", err, signals)
	}
}
