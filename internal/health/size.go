package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a byte size the way systemd's MemoryMax= does: a plain
// number of bytes or one with a K, M, G or T suffix (base 1024).
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M', 'm':
			mult = 1 << 20
		case 'G', 'g':
			mult = 1 << 30
		case 'T', 't':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || !(f >= 0) || math.IsInf(f, 0) || t == "" || strings.ContainsAny(t, "xXpPnN") {
		return 0, fmt.Errorf("invalid size %q (want bytes or a number with K, M, G or T suffix)", s)
	}
	v := f * float64(mult)
	if v >= 1<<64 {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return uint64(v), nil
}

// FormatBytes renders a byte count with a binary unit, as systemctl does.
func FormatBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%c", float64(b)/float64(div), "KMGTP"[exp])
}
