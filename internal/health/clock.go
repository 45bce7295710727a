package health

import (
	"context"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
)

// checkClock warns while the clock is not synchronised. A warning, not a
// failure: the budget, the units and scraping are fine with a wrong clock,
// and a device without a real-time clock boots with one every time until
// NTP reaches a server, so a boot-time health check would fail on healthy
// devices. But samples and alerts carry the wrong time meanwhile: say so.
// The status is read as edge-sensord reads it (clocksync: the kernel's
// maximum error, the test of systemd's NTPSynchronized), so that the two
// warn together, with systemd or without.
func (r *Report) checkClock(o Options) {
	if o.Clock == nil {
		return
	}
	c := clocksync.New(o.Clock)
	if err := c.Update(); err != nil {
		r.warn("cannot tell whether the system clock is synchronised: %v", err)
		return
	}
	if synced, _ := c.Synchronized(); !synced {
		r.warn("the system clock is not synchronised (no NTP; systemd's NTPSynchronized=no): sample and alert times are off until it is; a device without a real-time clock boots with a wrong time. Check `timedatectl timesync-status` and that an NTP server is reachable")
	}
}

// aheadSlack is how far the newest stored sample may be ahead of the clock:
// scrapes are stamped when they start, on this machine's clock, so anything
// beyond a moment means the clock went back.
const aheadSlack = time.Minute

// checkStoredAhead: samples stored ahead of the system clock mean that the
// clock went back (a device without a real-time clock booting with an old
// time, or NTP correcting it). Prometheus then rejects every new sample (out
// of order, or a duplicate of the newest timestamp, which its scrape-time
// alignment reuses) until the clock passes the newest one, and scrapes still
// succeed, so nothing else shows the loss. A failure to ask is only a
// warning: the rest of the report stands without it.
func (r *Report) checkStoredAhead(ctx context.Context, c promClient, o Options) {
	newest, ok, err := c.headMaxTime(ctx)
	if err != nil {
		r.warn("Prometheus at %s: cannot compare its newest sample with the clock: %v", o.PrometheusURL, err)
		return
	}
	if ahead := time.Until(newest); ok && ahead > aheadSlack {
		r.problem("Prometheus holds samples stamped up to %s, %s ahead of the system clock: the clock went back, and Prometheus stores nothing new (it rejects the samples as out of order or duplicates) until the clock passes that time. Check `timedatectl` and `journalctl -u systemd-timesyncd`",
			newest.UTC().Format(time.RFC3339), ahead.Round(time.Second))
	}
}
