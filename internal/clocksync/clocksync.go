// Package clocksync exports whether the kernel considers the system clock
// synchronised (edge_clock_synchronized), and warns while it is not: a device
// without a real-time clock boots with a wrong time, and every sample time is
// off until NTP sets it.
//
// The test is systemd's (timedated's NTPSynchronized, which `edgectl status`
// reads): the kernel's maximum error, from adjtimex(2) with modes 0, is below
// 16 s. It holds for any NTP client that disciplines the kernel clock
// (systemd-timesyncd, chrony, ntpd). The STA_UNSYNC flag alone is not used:
// chrony leaves it set unless rtcsync is on.
package clocksync

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// maxErrorLimit is the kernel's NTP_PHASE_LIMIT, 16 s in microseconds: the
// kernel raises the maximum error by 500 ppm of elapsed time since an NTP
// client last set it, and stops at this value when the clock is unsynchronised.
const maxErrorLimit = 16_000_000

// Warning is what people see while the clock is not synchronised.
const Warning = "The system clock is not synchronised (no NTP): times of readings and charts may be wrong."

// Kernel is the one system call the package makes, so that tests can fake it.
type Kernel interface {
	// Adjtimex is adjtimex(2); tx.Modes is 0, so it only reads.
	Adjtimex(tx *unix.Timex) (state int, err error)
}

// Adjtimex is the real system call.
type Adjtimex struct{}

// Adjtimex implements Kernel.
func (Adjtimex) Adjtimex(tx *unix.Timex) (int, error) { return unix.Adjtimex(tx) }

var desc = prometheus.NewDesc("edge_clock_synchronized",
	"1 when the kernel's system clock is synchronised by NTP (maximum error below 16 s, as systemd's NTPSynchronized), 0 when not; absent when unknown.", nil, nil)

// Collector reads the status once per poll (Update) and exposes it. It is a
// poller.Updater, a poller.Warner and a prometheus.Collector.
type Collector struct {
	kernel Kernel

	mu     sync.RWMutex
	known  bool
	synced bool
}

// New makes a collector reading from k; nothing is known before Update.
func New(k Kernel) *Collector { return &Collector{kernel: k} }

// Update reads the kernel's status. On error (seccomp or a container
// denying adjtimex) the status becomes unknown and nothing is exported.
func (c *Collector) Update() error {
	var tx unix.Timex // Modes 0: read only, needs no capability
	_, err := c.kernel.Adjtimex(&tx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.known = err == nil
	c.synced = err == nil && int64(tx.Maxerror) < maxErrorLimit
	if err != nil {
		return fmt.Errorf("clock status: adjtimex: %w", err)
	}
	return nil
}

// Synchronized returns the last status read and whether it is known.
func (c *Collector) Synchronized() (synced, known bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.synced, c.known
}

// Warnings implements poller.Warner: Warning while the clock is known to be
// unsynchronised.
func (c *Collector) Warnings() []string {
	if synced, known := c.Synchronized(); known && !synced {
		return []string{Warning}
	}
	return nil
}

// Describe implements prometheus.Collector. The gauge may be absent, so the
// collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	synced, known := c.Synchronized()
	if !known {
		return
	}
	v := 0.0
	if synced {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
}
