package health

import (
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/tsdbrepair"
)

// checkQuarantine reports the TSDB blocks that prometheus-exec moved aside
// because Prometheus could not open them (after a power cut): their samples
// are gone from queries, which an operator should know until they delete
// the directory.
func (r *Report) checkQuarantine(dir string) {
	moved, err := tsdbrepair.List(dir)
	if err != nil {
		r.unknown("prometheus: quarantined TSDB blocks: %v", err)
		return
	}
	for _, m := range moved {
		when := "at an unknown time"
		if !m.Time.IsZero() {
			when = m.Time.UTC().Format(time.RFC3339)
		}
		r.problem("prometheus: TSDB block %s was unreadable at start (%s) and was moved to %s %s so that Prometheus could start; its samples are not queryable; remove that directory once inspected",
			m.Block, m.Reason, m.To, when)
	}
}
