package events

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEveryReasonStartsAtZeroAndIncCountsChanges(t *testing.T) {
	c := New()
	want := `# HELP sensor_failed_events_total Failure events by reason: read_error (a sensor read failed), stale (a sensor went stale), route_error (an HTTP handler failed), cpu_spike (host CPU went over the threshold).
# TYPE sensor_failed_events_total counter
sensor_failed_events_total{reason="cpu_spike"} 0
sensor_failed_events_total{reason="read_error"} 0
sensor_failed_events_total{reason="route_error"} 1
sensor_failed_events_total{reason="stale"} 0
`
	before := c.Changes()
	c.Inc(RouteError)
	if c.Changes() != before+1 || c.Value(RouteError) != 1 || c.Value(Stale) != 0 {
		t.Fatalf("changes %d -> %d, route_error %v, stale %v", before, c.Changes(), c.Value(RouteError), c.Value(Stale))
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
