package dashboard

import (
	"testing"
	"time"
)

// A fresh start shows its minutes on the smallest range that holds them,
// the hour once history fills it; no suggestion when nobody knows.
func TestDefaultRange(t *testing.T) {
	const max = 12*time.Hour + 15*time.Minute
	for _, c := range []struct {
		max, history time.Duration
		known        bool
		want         string
	}{
		{max, 0, true, "15m"}, // nothing stored yet
		{max, 4 * time.Minute, true, "15m"},
		{max, 15 * time.Minute, true, "15m"},
		{max, 16 * time.Minute, true, "1h"},
		{max, 59 * time.Minute, true, "1h"},
		{max, 3 * time.Hour, true, "1h"},           // never longer than an hour
		{max, 0, false, ""},                        // Prometheus not asked or not answering: no suggestion
		{30 * time.Minute, time.Hour, true, "15m"}, // the longest offered when 1h is not
		{10 * time.Minute, 0, true, ""},            // nothing offered
	} {
		if got := DefaultRange(c.max, c.history, c.known); got != c.want {
			t.Errorf("DefaultRange(%s, %s, %v) = %q, want %q", c.max, c.history, c.known, got, c.want)
		}
	}
}
