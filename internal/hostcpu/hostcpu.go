// Package hostcpu measures host CPU use from /proc/stat between two samples,
// so the daemon can flag CPU spikes that put scrapes at risk.
package hostcpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
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

// MinTicks is the shortest window (in USER_HZ ticks summed over all CPUs)
// that yields a ratio.
const MinTicks = 20

// Meter turns successive /proc/stat samples into a usage ratio.
type Meter struct {
	path string
	last Times
	have bool
	// Files, when set, keeps the stat file open between samples.
	Files *fsread.Handles
}

// NewMeter reads <procfs>/stat.
func NewMeter(procfs string) *Meter {
	return &Meter{path: filepath.Join(procfs, "stat")}
}

// Sample returns host CPU use in [0, 1] since the previous call. ok is false
// on the first call, or when the counters did not advance (nothing to compare).
func (m *Meter) Sample() (ratio float64, ok bool, err error) {
	read := fsread.File
	if m.Files != nil {
		read = m.Files.File
	}
	data, err := read(m.path)
	if err != nil {
		return 0, false, fsread.Explain("host CPU times", err)
	}
	t, err := Parse(data)
	if err != nil {
		return 0, false, fmt.Errorf("host CPU times in %s: %w", m.path, err)
	}
	if !m.have || t.Total < m.last.Total || t.Busy < m.last.Busy {
		m.last, m.have = t, true // first sample, or counters reset
		return 0, false, nil
	}
	// With USER_HZ=100 a window of a few ticks can only read 0, 1/3, 2/3, 1:
	// keep the baseline until it is long enough to mean something.
	if t.Total-m.last.Total < MinTicks {
		return 0, false, nil
	}
	prev := m.last
	m.last = t
	r := float64(t.Busy-prev.Busy) / float64(t.Total-prev.Total)
	return min(max(r, 0), 1), true, nil
}
