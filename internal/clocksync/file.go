package clocksync

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// File is a Kernel that reads the maximum error from a file, one line
// "maxerror=<microseconds>", re-read at each call. It lets tests of the
// whole daemon set the clock's status (edge-sensord's hidden
// --clock.timex-file); a missing file fails as a denied adjtimex does.
type File struct{ Path string }

// Adjtimex implements Kernel.
func (f File) Adjtimex(tx *unix.Timex) (int, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return 0, err
	}
	// Into the field itself: it is int32 on 32-bit ARM, int64 elsewhere.
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "maxerror=%d", &tx.Maxerror); err != nil {
		return 0, fmt.Errorf("%s: want \"maxerror=<microseconds>\": %w", f.Path, err)
	}
	return unix.TIME_OK, nil
}
