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
	for _, r := range ranges {
		if r <= max {
			out = append(out, model.Duration(r).String())
		}
	}
	return out
}
