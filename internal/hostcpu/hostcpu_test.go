package hostcpu

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	in := "cpu  100 10 50 800 40 0 0 0 30 0\ncpu0 1 1 1 1 1 0 0 0 0 0\nintr 1\n"
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Times{Busy: 160, Total: 1000}); got != want {
		t.Fatalf("got %+v want %+v", got, want)
	}
	for _, bad := range []string{"", "cpu 1 2\n", "cpu 1 2 x 4 5\n", "intr 5\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestMeter(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMeter(dir)
	write("cpu 100 0 0 900 0 0 0 0 0 0\n")
	if _, ok, err := m.Sample(); ok || err != nil {
		t.Fatalf("first sample: ok=%v err=%v", ok, err)
	}
	write("cpu 190 0 0 910 0 0 0 0 0 0\n") // 90 busy of 100
	r, ok, err := m.Sample()
	if !ok || err != nil || r != 0.9 {
		t.Fatalf("got %v %v %v", r, ok, err)
	}
	write("cpu 195 0 0 910 0 0 0 0 0 0\n") // 5 ticks: too short a window
	if _, ok, _ := m.Sample(); ok {
		t.Fatal("a window under MinTicks must not give a ratio")
	}
	write("cpu 200 0 0 930 0 0 0 0 0 0\n") // 30 ticks since the kept baseline, 10 busy
	if r, ok, _ := m.Sample(); !ok || r != 10.0/30 {
		t.Fatalf("got %v %v, want 1/3 over the longer window", r, ok)
	}
	os.Remove(filepath.Join(dir, "stat"))
	want := "cannot read host CPU times from " + filepath.Join(dir, "stat") + ": no such file or directory"
	if _, _, err := m.Sample(); err == nil || err.Error() != want {
		t.Fatalf("missing file: error %v, want %q", err, want)
	}
}
