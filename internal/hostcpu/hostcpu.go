// Package hostcpu measures host CPU use from /proc/stat between two samples,
// so the daemon can flag CPU spikes that put scrapes at risk.
package hostcpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Times are the aggregate "cpu" line of /proc/stat in USER_HZ ticks.
type Times struct {
	Busy, Total uint64
}

// Parse reads the aggregate cpu line of a /proc/stat file.
func Parse(data []byte) (Times, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 5 {
			return Times{}, fmt.Errorf("short cpu line: %q", sc.Text())
		}
		var t Times
		for i, s := range f[1:] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return Times{}, fmt.Errorf("cpu field %d: %w", i+1, err)
			}
			// guest and guest_nice (fields 9, 10) are already in user and nice.
			if i >= 8 {
				break
			}
			t.Total += v
			// idle (4) and iowait (5) are the only fields in which the CPU did no work.
			if i != 3 && i != 4 {
				t.Busy += v
			}
		}
		return t, nil
	}
	return Times{}, errors.New("no aggregate cpu line")
}

// Meter turns successive /proc/stat samples into a usage ratio.
type Meter struct {
	path string
	last Times
	have bool
}

// NewMeter reads <procfs>/stat.
func NewMeter(procfs string) *Meter {
	return &Meter{path: filepath.Join(procfs, "stat")}
}

// Sample returns host CPU use in [0, 1] since the previous call. ok is false
// on the first call, or when the counters did not advance (nothing to compare).
func (m *Meter) Sample() (ratio float64, ok bool, err error) {
	data, err := os.ReadFile(m.path)
	if err != nil {
		return 0, false, err
	}
	t, err := Parse(data)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", m.path, err)
	}
	prev, had := m.last, m.have
	m.last, m.have = t, true
	if !had || t.Total <= prev.Total || t.Busy < prev.Busy {
		return 0, false, nil
	}
	return float64(t.Busy-prev.Busy) / float64(t.Total-prev.Total), true, nil
}
