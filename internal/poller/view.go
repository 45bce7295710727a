package poller

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// View is an immutable snapshot built at the end of each poll.
type View struct {
	Time      time.Time
	Duration  time.Duration
	Sensors   []Sensor            // sorted by name
	byName    map[string][]byte   // JSON of each sensor
	all       []byte              // JSON of all sensors
	metrics   []prometheus.Metric // pre-computed exposition
	Errors    int                 // sensors not OK in this poll
	Stale     int                 //
	CPU       float64             // host CPU use ratio, -1 when unknown
	CPUSpike  bool                //
	Warnings  []string            // of the Warners, as of this poll
	PerSource map[string]sourceStat
	// PerCollector is the outcome of each collector of the CollectorSets.
	PerCollector map[string]sourceStat
	interval     time.Duration
}

// buildView snapshots the cache: the JSON of /sensor and the exposition are
// built here, once per poll, so that handlers only copy them.
func (p *Poller) buildView(now time.Time, dur time.Duration, cpu float64, spike bool) *View {
	v := &View{Time: now, Duration: dur, CPU: cpu, CPUSpike: spike,
		byName: make(map[string][]byte, len(p.sensors)), PerSource: maps.Clone(p.stats),
		PerCollector: maps.Clone(p.collectors), interval: p.cfg.PollInterval}
	for _, s := range p.sensors {
		c := *s
		if s.Value != nil {
			val := *s.Value
			c.Value = &val
		}
		v.Sensors = append(v.Sensors, c)
		switch s.Status {
		case StatusError:
			v.Errors++
		case StatusStale:
			v.Stale++
		}
	}
	sort.Slice(v.Sensors, func(i, j int) bool { return v.Sensors[i].Name < v.Sensors[j].Name })
	var err error
	if v.all, err = json.Marshal(v.Sensors); err != nil {
		panic(err) // only plain strings, numbers and times: cannot fail
	}
	if v.Sensors == nil {
		v.all = []byte("[]")
	}
	for _, s := range v.Sensors {
		b, _ := json.Marshal(s)
		v.byName[s.Name] = b
	}
	v.metrics = p.buildMetrics(v)
	return v
}

// View returns the latest snapshot.
func (p *Poller) View() *View { return p.view.Load() }

// SensorJSON returns the JSON of one sensor, or ok=false when unknown.
func (v *View) SensorJSON(name string) ([]byte, bool) {
	b, ok := v.byName[name]
	return b, ok
}

// AllJSON returns the JSON array of all sensors.
func (v *View) AllJSON() []byte { return v.all }

// StatusLine is the one-line summary for systemctl status.
func (v *View) StatusLine(now time.Time) string {
	s := fmt.Sprintf("%d sensors, last poll %s ago (took %s), %d errors, %d stale",
		len(v.Sensors), now.Sub(v.Time).Round(time.Millisecond), v.Duration.Round(10*time.Microsecond), v.Errors, v.Stale)
	if v.CPUSpike {
		s += ", host CPU spike"
	}
	for _, w := range v.Warnings {
		s += "; " + w
	}
	// A newline would start a new sd_notify assignment.
	return strings.ReplaceAll(s, "\n", " ")
}
