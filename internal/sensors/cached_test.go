package sensors

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// Reading through kept-open files must see exactly what opening each file
// afresh sees, poll after poll, while values change, files turn to garbage,
// vanish and come back, and whole chips go away.
func TestCachedReadsMatchUncached(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", fixture+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture: %v\n%s", err, out)
	}
	files := fsread.NewHandles(1024)
	cached := NewSources(Options{SysfsPath: dir, Files: files})
	uncached := NewSources(Options{SysfsPath: dir})
	hw := filepath.Join(dir, "devices/platform/edgemon.0/hwmon/hwmon2")
	thermal := filepath.Join(dir, "devices/virtual/thermal/thermal_zone0/temp")
	steps := []struct {
		what   string
		change func() error
	}{
		{"as found", func() error { return nil }},
		{"values change in place", func() error {
			if err := os.WriteFile(filepath.Join(hw, "temp1_input"), []byte("51500\n"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(thermal, []byte("61000\n"), 0o644)
		}},
		{"garbage", func() error { return os.WriteFile(filepath.Join(hw, "in1_input"), []byte("0x\xff\n"), 0o644) }},
		{"a limit changes", func() error { return os.WriteFile(filepath.Join(hw, "in0_max"), []byte("5300\n"), 0o644) }},
		{"label replaced by rename", func() error {
			tmp := filepath.Join(dir, "label.tmp")
			os.WriteFile(tmp, []byte("vbus\n"), 0o644)
			return os.Rename(tmp, filepath.Join(hw, "in0_label"))
		}},
		{"input vanishes", func() error { return os.Remove(filepath.Join(hw, "temp2_input")) }},
		{"input is back", func() error { return os.WriteFile(filepath.Join(hw, "temp2_input"), []byte("33000\n"), 0o644) }},
		{"chip unbound", func() error { return os.RemoveAll(filepath.Join(dir, "devices/platform/coretemp.0")) }},
		{"empty attribute", func() error { return os.WriteFile(thermal, nil, 0o644) }},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		// Two polls per step: the first may open files, the second reads
		// the descriptors kept from it.
		for poll := range 2 {
			for i := range cached {
				c, cerr := cached[i].Read(context.Background())
				u, uerr := uncached[i].Read(context.Background())
				if got, want := describe(c, cerr), describe(u, uerr); got != want {
					t.Fatalf("%s, poll %d, source %s:\ncached:   %s\nuncached: %s", step.what, poll, cached[i].Name(), got, want)
				}
			}
			files.Sweep()
		}
	}
	if files.Open() == 0 {
		t.Fatal("no file was kept open")
	}
}

func describe(r Result, err error) string {
	s := fmt.Sprintf("err=%v", err)
	for _, rd := range r.Readings {
		s += fmt.Sprintf(" %s=%g(%s)%v", rd.Name, rd.Value, rd.Label, rd.Limits)
	}
	for _, e := range r.Errors {
		s += fmt.Sprintf(" %s:%s", e.Name, e.Reason)
	}
	for _, e := range r.LimitErrors {
		s += fmt.Sprintf(" limit %s:%s", e.Name, e.Reason)
	}
	return s
}
