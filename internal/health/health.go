// Package health answers edgectl status: is the stack healthy and within its
// budget? The memory and CPU of the units in the slice (cgroups), their
// systemd state, the kernel's enforcement of the limits, Prometheus's view of
// its targets and the alerts that fire, and the clock against the stored
// samples.
package health

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/clocksync"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
)

// Options configure Check.
type Options struct {
	Cgroup cgroup.Reader
	Slice  string // e.g. "edge-observability.slice"
	// Budget is the memory budget of the slice when it has no memory limit
	// of its own. With EnforceBudget it applies on top of the slice's
	// limit (the lower one wins).
	Budget        uint64
	EnforceBudget bool
	// Expect lists units that must be in the slice and active even when
	// nothing else knows about them (a stopped unit has no cgroup).
	Expect []string
	// Systemd reports unit states; nil means states are derived from the
	// presence of a cgroup only.
	Systemd Systemd
	// PrometheusURL is the base URL of Prometheus; "" skips those checks.
	PrometheusURL string
	// Rootfs is where the device's root filesystem is ("" means /): the
	// fix for a memory controller that is off names a file under it.
	Rootfs     string
	Window     time.Duration // for the scrape success ratio
	MinSuccess float64       // lowest acceptable success ratio
	HTTPClient *http.Client  // nil: a client with a 10s timeout
	// Host is the device's name, for the dashboard's address as another
	// machine on the network reaches it; "" leaves the address out.
	Host string
	// TSDBQuarantine is where prometheus-exec moves blocks Prometheus could
	// not open; "" skips that check.
	TSDBQuarantine string
	// Clock is the kernel whose clock status is checked, read as
	// edge-sensord reads it; nil skips the check.
	Clock clocksync.Kernel
	// SensordRuntimeDir is where edge-sensord records its reloads; ""
	// skips that check.
	SensordRuntimeDir string
}

// Unit is one row of the report.
type Unit struct {
	Unit            string  `json:"unit"`
	UnitState               // from systemd, or derived from the cgroup
	InCgroup        bool    `json:"in_cgroup"`
	MemoryBytes     *uint64 `json:"memory_bytes"` // null without memory accounting
	MemoryMaxBytes  *uint64 `json:"memory_max_bytes,omitempty"`
	MemoryHighBytes *uint64 `json:"memory_high_bytes,omitempty"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	OOMKills        *uint64 `json:"oom_kills,omitempty"`
	IOWriteBytes    *uint64 `json:"io_write_bytes,omitempty"` // since the unit started; null without IO accounting
}

// Total is the slice as a whole against its budget.
type Total struct {
	Slice        string     `json:"slice"`
	State        *UnitState `json:"state,omitempty"`
	MemoryBytes  *uint64    `json:"memory_bytes"` // null without memory accounting
	BudgetBytes  uint64     `json:"budget_bytes"`
	BudgetSource string     `json:"budget_source"` // "slice" (its memory limit) or "flag"
	CPUSeconds   float64    `json:"cpu_seconds"`
	IOWriteBytes *uint64    `json:"io_write_bytes,omitempty"`
	OverBudget   bool       `json:"over_budget"`
}

// Prometheus is the scrape health part of the report.
type Prometheus struct {
	URL    string `json:"url"`
	Window string `json:"window"`
	// Error is why Prometheus could not be asked for its targets, which are
	// then null (unknown), not an empty list.
	Error   string   `json:"error,omitempty"`
	Targets []Target `json:"targets"`
}

// Report is the result of Check.
type Report struct {
	CgroupVersion int `json:"cgroup_version,omitempty"`
	// MemoryBudget says whether the kernel enforces the memory limits, and
	// if not, why and how to fix it; nil when the cgroups cannot be read.
	MemoryBudget *Enforcement `json:"memory_budget,omitempty"`
	// Controllers are the kernel's memory and cpu controllers.
	Controllers []cgroup.Controller `json:"controllers,omitempty"`
	Units       []Unit              `json:"units"`
	Total       Total               `json:"total"`
	Prometheus  *Prometheus         `json:"prometheus,omitempty"`
	// Alerts are Prometheus's firing and pending alerts (empty without
	// Prometheus).
	Alerts []Alert `json:"alerts"`
	// Dashboard is edge-sensord's page, at the port Prometheus scrapes it on.
	Dashboard string `json:"dashboard,omitempty"`
	// Problems are definite failures; Unknown explains what could not be
	// checked.
	// Warnings are worth knowing but do not change the exit code.
	Problems []string `json:"problems"`
	Unknown  []string `json:"unknown"`
	Warnings []string `json:"warnings"`
	Status   string   `json:"status"` // ok, unhealthy or unknown
	ExitCode int      `json:"exit_code"`
}

// Check gathers the report. It never fails: what cannot be determined is
// listed in Report.Unknown and reflected in the exit code. A definite problem
// outranks an unknown: the exit code is 1 if anything is known to be wrong.
func Check(ctx context.Context, o Options) Report {
	r := newReport(o)
	r.checkUnits(ctx, o)
	r.checkClock(o)
	if o.PrometheusURL != "" {
		r.checkPrometheus(ctx, o)
		r.Dashboard = dashboardURL(o.Host, r.Prometheus)
	}
	if o.TSDBQuarantine != "" {
		r.checkQuarantine(o.TSDBQuarantine)
	}
	if o.SensordRuntimeDir != "" {
		r.checkSensordReload(o.SensordRuntimeDir)
	}
	r.finish()
	return r
}

// CheckCgroup is the part of Check that asks neither systemd nor
// Prometheus: does the kernel enforce the budget (MemoryBudget)?
func CheckCgroup(o Options) Report {
	r := newReport(o)
	if v, err := o.Cgroup.Version(); err != nil {
		r.unknown("reading cgroups: %v", err)
	} else {
		r.CgroupVersion = v
		r.checkControllers(o)
	}
	r.finish()
	return r
}

func newReport(o Options) Report {
	return Report{Units: []Unit{}, Alerts: []Alert{}, Problems: []string{}, Unknown: []string{}, Warnings: []string{}, Total: Total{Slice: o.Slice}}
}

// finish sets the status: a definite problem outranks an unknown, and
// warnings do not count.
func (r *Report) finish() {
	switch {
	case len(r.Problems) > 0:
		r.Status, r.ExitCode = "unhealthy", exitcode.Failure
	case len(r.Unknown) > 0:
		r.Status, r.ExitCode = "unknown", exitcode.Unknown
	default:
		r.Status, r.ExitCode = "ok", exitcode.OK
	}
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Report) unknown(format string, args ...any) {
	r.Unknown = append(r.Unknown, fmt.Sprintf(format, args...))
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func (r *Report) checkUnits(ctx context.Context, o Options) {
	sliceStats, byUnit, cgErr := r.readCgroups(o)
	names := r.unitNames(ctx, o, byUnit)
	states, sdErr := r.unitStates(ctx, o, names)
	r.checkSliceAndSystemd(o, sliceStats == nil && cgErr == nil, sdErr)
	for _, n := range names {
		s, in := byUnit[n]
		u := Unit{Unit: n, InCgroup: in, MemoryBytes: s.MemoryBytes, MemoryMaxBytes: s.MemoryMax,
			MemoryHighBytes: s.MemoryHigh, CPUSeconds: s.CPUSeconds, OOMKills: s.OOMKills, IOWriteBytes: s.IOWriteBytes}
		switch {
		case o.Systemd == nil && cgErr == nil:
			u.UnitState = cgroupState(in)
		case states != nil:
			u.UnitState = states[n]
		}
		r.checkState(u)
		r.checkLoop(u)
		r.Units = append(r.Units, u)
	}
	if st, ok := states[sliceUnitName(o.Slice)]; ok {
		r.Total.State = &st
	}
	r.Total.BudgetBytes, r.Total.BudgetSource = o.Budget, "flag"
	if sliceStats == nil {
		return
	}
	r.checkSliceBudget(o, *sliceStats)
}

// checkSliceAndSystemd reports a slice without a cgroup and a systemd that
// did not answer; when there is no systemd at all, one sentence says both:
// nothing started the stack under systemd, so there is no slice to measure.
func (r *Report) checkSliceAndSystemd(o Options, noSlice bool, sdErr error) {
	switch {
	case noSlice && errors.Is(sdErr, ErrNoBus):
		r.problem("%s", cgroup.NoSlice(o.Slice))
		return
	case noSlice:
		r.problem("slice %s has no cgroup (nothing running in it)", o.Slice)
	}
	if sdErr != nil {
		r.unknown("unit states from systemd: %v", sdErr)
	}
}

// readCgroups reads the slice's accounting and the kernel's controllers:
// the slice itself, and its units by name.
func (r *Report) readCgroups(o Options) (*cgroup.Stats, map[string]cgroup.Stats, error) {
	if v, err := o.Cgroup.Version(); err == nil {
		r.CgroupVersion = v
		r.checkControllers(o)
	}
	stats, err := o.Cgroup.Slice(o.Slice)
	if err != nil {
		r.unknown("reading cgroups: %v", err)
	}
	byUnit := map[string]cgroup.Stats{}
	var slice *cgroup.Stats
	for i, s := range stats {
		if i == 0 {
			slice = &stats[0] // Slice lists the slice itself first
			continue
		}
		byUnit[s.Unit] = s
	}
	return slice, byUnit, err
}

// unitNames lists, sorted, the units with a cgroup in the slice, the
// expected ones, and those systemd places in the slice.
func (r *Report) unitNames(ctx context.Context, o Options, byUnit map[string]cgroup.Stats) []string {
	names := map[string]bool{}
	for n := range byUnit {
		names[n] = true
	}
	for _, n := range o.Expect {
		names[n] = true
	}
	if l, ok := o.Systemd.(SliceLister); ok {
		members, err := l.SliceUnits(ctx, sliceUnitName(o.Slice))
		if err != nil {
			r.unknown("listing units of %s: %v", o.Slice, err)
		}
		for _, n := range members {
			names[n] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// unitStates asks systemd about the units and the slice; nil without
// systemd or when it cannot answer (and why).
func (r *Report) unitStates(ctx context.Context, o Options, names []string) (map[string]UnitState, error) {
	if o.Systemd == nil {
		return nil, nil
	}
	return o.Systemd.UnitStates(ctx, append(names, sliceUnitName(o.Slice)))
}

// checkState reports a unit that is not active.
func (r *Report) checkState(u Unit) {
	if u.ActiveState == "" || u.ActiveState == "active" {
		return
	}
	desc := u.ActiveState
	if u.SubState != "" {
		desc += " (" + u.SubState + ")"
	}
	if u.LoadState != "" && u.LoadState != "loaded" {
		desc += ", " + u.LoadState
	}
	r.problem("%s is %s", u.Unit, desc)
}

// checkSliceBudget compares the slice's memory with its limit and the budget.
func (r *Report) checkSliceBudget(o Options, slice cgroup.Stats) {
	r.Total.MemoryBytes = slice.MemoryBytes
	r.Total.CPUSeconds = slice.CPUSeconds
	r.Total.IOWriteBytes = slice.IOWriteBytes
	flagApplies := o.Budget > 0 && (o.EnforceBudget || slice.MemoryMax == nil)
	if limit := slice.MemoryMax; limit != nil && (!flagApplies || *limit <= o.Budget) {
		r.Total.BudgetBytes, r.Total.BudgetSource = *limit, "slice"
	}
	if slice.MemoryBytes == nil {
		return // no memory accounting: checkControllers said so
	}
	used := *slice.MemoryBytes
	if limit := slice.MemoryMax; limit != nil && used >= *limit {
		r.Total.OverBudget = true
		r.problem("slice %s uses %s, at its memory limit %s", o.Slice, FormatBytes(used), FormatBytes(*limit))
	}
	if flagApplies && used > o.Budget {
		r.Total.OverBudget = true
		r.problem("slice %s uses %s, over the budget %s", o.Slice, FormatBytes(used), FormatBytes(o.Budget))
	}
}

// cgroupState is the best guess without systemd: a unit with a cgroup runs.
func cgroupState(in bool) UnitState {
	if in {
		return UnitState{ActiveState: "active", SubState: "cgroup"}
	}
	return UnitState{ActiveState: "inactive", SubState: "no-cgroup"}
}

// sliceUnitName turns a cgroup path like "foo.slice/bar.slice" into the unit
// name "bar.slice".
func sliceUnitName(slice string) string {
	s := strings.Trim(slice, "/")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (r *Report) checkPrometheus(ctx context.Context, o Options) {
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	c := promClient{base: o.PrometheusURL, http: hc}
	p := &Prometheus{URL: o.PrometheusURL, Window: model.Duration(o.Window).String(), Targets: []Target{}}
	r.Prometheus = p

	targets, err := c.targets(ctx)
	if err != nil {
		p.Targets, p.Error = nil, err.Error()
		r.unknown("Prometheus at %s: %v", o.PrometheusURL, err)
		return
	}
	if len(targets) == 0 {
		r.problem("Prometheus at %s has no active scrape targets", o.PrometheusURL)
	}
	ratios, err := c.successRatios(ctx, o.Window)
	if err != nil {
		r.unknown("Prometheus at %s: scrape success ratio: %v", o.PrometheusURL, err)
	}
	for i := range targets {
		t := &targets[i]
		if v, ok := ratios[[2]string{t.Job, t.Instance}]; ok {
			t.SuccessRatio = &v
		}
		switch t.Health {
		case "up":
			// Scraped but nothing stored over the window: the scrape commit
			// fails (a full disk under the TSDB) and `up` shows stale data.
			if err == nil && t.SuccessRatio == nil {
				r.problem("target %s/%s: scraped but no samples stored over %s (is Prometheus's storage full, or did the clock go back?)",
					t.Job, t.Instance, model.Duration(o.Window))
			}
		case "down":
			msg := fmt.Sprintf("target %s/%s is down", t.Job, t.Instance)
			if t.LastError != "" {
				msg += ": " + t.LastError
			}
			r.problem("%s", msg)
		default:
			r.unknown("target %s/%s not scraped yet (health %q)", t.Job, t.Instance, t.Health)
		}
		if t.SuccessRatio != nil && *t.SuccessRatio < o.MinSuccess {
			r.problem("target %s/%s: %.2f%% of scrapes succeeded over %s, below %.2f%%",
				t.Job, t.Instance, 100**t.SuccessRatio, model.Duration(o.Window), 100*o.MinSuccess)
		}
	}
	p.Targets = targets
	r.checkStoredAhead(ctx, c, o)
	r.checkAlerts(ctx, c, o)
}

// dashboardURL is edge-sensord's page on host, at the port of Prometheus's
// edge-sensord target: the address the daemon really listens on, which a
// loopback target does not show to other machines.
func dashboardURL(host string, p *Prometheus) string {
	if host == "" || p == nil {
		return ""
	}
	for _, t := range p.Targets {
		if t.Job != "edge-sensord" {
			continue
		}
		if _, port, err := net.SplitHostPort(t.Instance); err == nil {
			return "http://" + net.JoinHostPort(host, port) + "/"
		}
	}
	return ""
}
