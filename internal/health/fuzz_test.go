package health

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSize: never panics, plain byte counts parse exactly, and a suffix
// multiplies by its power of 1024.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"150M", "1024", "1.5G", "", "M", "-1", "1e400", "NaN", "Inf", "0x10", "18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			return
		}
		_ = FormatBytes(v)
		t2 := strings.TrimSpace(s)
		if n, perr := strconv.ParseUint(t2, 10, 64); perr == nil && n < 1<<53 && v != n {
			t.Errorf("ParseSize(%q) = %d, want %d", s, v, n)
		}
		if n, perr := strconv.ParseUint(strings.TrimSuffix(t2, "K"), 10, 64); perr == nil && strings.HasSuffix(t2, "K") && n < 1<<40 && v != n<<10 {
			t.Errorf("ParseSize(%q) = %d, want %d", s, v, n<<10)
		}
	})
}
