package dashboard

import (
	"time"

	"github.com/prometheus/common/model"
)

// Document is the body of GET /api/dashboard: what the built-in page needs
// to draw itself.
type Document struct {
	Version string `json:"version"`
	// History is false when the daemon has no Prometheus to query
	// (--prometheus.url empty): the page then shows current values only.
	History        bool     `json:"history"`
	RefreshSeconds int      `json:"refresh_seconds"`
	Ranges         []string `json:"ranges"`
	// DefaultRange is the range the page starts on until its user picks
	// one: the smallest offered range that holds the stored history, at
	// most DefaultRangeMax; "" when that history is not known (the page
	// then starts on the hour).
	DefaultRange string `json:"default_range"`
	// MaxPoints is the most points per series a range query may ask for.
	MaxPoints int      `json:"max_points"`
	Warnings  []string `json:"warnings"`
	Panels    []Panel  `json:"panels"`
}

// RefreshSeconds is how often the page re-queries: Prometheus scrapes every 15s.
const RefreshSeconds = 15

// ranges the page offers; 12h is Prometheus's retention on the device.
var ranges = []time.Duration{15 * time.Minute, time.Hour, 6 * time.Hour, 12 * time.Hour}

// Ranges returns the time ranges the page offers that fit within max, in
// Prometheus's duration syntax ("15m", "1h").
func Ranges(max time.Duration) []string {
	out := []string{}
	for _, r := range offered(max) {
		out = append(out, model.Duration(r).String())
	}
	return out
}

func offered(max time.Duration) []time.Duration {
	var out []time.Duration
	for _, r := range ranges {
		if r <= max {
			out = append(out, r)
		}
	}
	return out
}

// DefaultRangeMax is the range the page starts on once the stored history
// is at least that long: longer ones cost more to draw on every visit.
const DefaultRangeMax = time.Hour

// DefaultRange is the range the page starts on, of those that fit within
// max: the smallest that holds the stored history (history long), so that
// a fresh start does not leave its first minutes in the right-most pixels
// of an hour, and DefaultRangeMax once history fills that. "" when the
// history's length is not known, or no range is offered.
func DefaultRange(max, history time.Duration, known bool) string {
	choice := time.Duration(0)
	for _, r := range offered(max) {
		if !known || r > DefaultRangeMax {
			break
		}
		choice = r
		if r >= history {
			break
		}
	}
	if choice == 0 {
		return ""
	}
	return model.Duration(choice).String()
}
