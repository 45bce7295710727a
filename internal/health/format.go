package health

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for humans.
func WriteTable(w io.Writer, r Report) error {
	var buf bytes.Buffer
	if err := writeTable(&buf, r); err != nil {
		return err
	}
	// tabwriter pads empty trailing cells; drop the padding.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimRight(l[:len(l)-1], " ") + "\n"
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, ""))
	return err
}

func writeTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "UNIT\tSTATE\tMEMORY\tLIMIT\tCPU\tWRITTEN\tRESTARTS\tOOM KILLS")
	enforced := r.MemoryBudget == nil || r.MemoryBudget.Enforced
	for _, u := range r.Units {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Unit, stateString(u.UnitState),
			memString(u.InCgroup, u.MemoryBytes), limitString(enforced, u.MemoryMaxBytes, u.MemoryHighBytes),
			cpuString(u.InCgroup, u.CPUSeconds), memString(u.InCgroup, u.IOWriteBytes), optU32(u.NRestarts), optU64(u.OOMKills))
	}
	t := r.Total
	state := "-"
	if t.State != nil {
		state = stateString(*t.State)
	}
	pct := ""
	if t.BudgetBytes > 0 && t.MemoryBytes != nil {
		pct = fmt.Sprintf(" (%.0f%%)", 100*float64(*t.MemoryBytes)/float64(t.BudgetBytes))
	}
	budget := budgetString(t.BudgetBytes) + " budget (" + t.BudgetSource + ")"
	if !enforced {
		budget = "NOT enforced"
	}
	fmt.Fprintf(tw, "%s (total)\t%s\t%s%s\t%s\t%s\t%s\t\t\n", t.Slice, state,
		memString(true, t.MemoryBytes), pct, budget, cpuString(true, t.CPUSeconds), memString(true, t.IOWriteBytes))
	if err := tw.Flush(); err != nil {
		return err
	}

	if p := r.Prometheus; p != nil {
		if err := writeTargets(w, *p); err != nil {
			return err
		}
	}
	if err := writeAlerts(w, r); err != nil {
		return err
	}
	if r.Dashboard != "" {
		fmt.Fprintf(w, "\nDashboard: %s\n", r.Dashboard)
	}
	fmt.Fprintln(w)
	writeFindings(w, r)
	_, err := fmt.Fprintf(w, "status: %s\n", strings.ToUpper(r.Status))
	return err
}

// writeTargets writes Prometheus's targets, or why they are not known.
func writeTargets(w io.Writer, p Prometheus) error {
	switch {
	case p.Error != "": // the cause; what it has as targets is unknown
		fmt.Fprintf(w, "\nPrometheus %s: %s\n", p.URL, p.Error)
	case len(p.Targets) == 0:
		fmt.Fprintf(w, "\nPrometheus %s: no targets\n", p.URL)
	default:
		fmt.Fprintf(w, "\nPrometheus %s\n", p.URL)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(p.Targets) > 0 {
		fmt.Fprintf(tw, "JOB\tINSTANCE\tHEALTH\tSUCCESS (%s)\tLAST ERROR\n", p.Window)
	}
	for _, t := range p.Targets {
		ratio := "-"
		if t.SuccessRatio != nil {
			ratio = strconv.FormatFloat(100**t.SuccessRatio, 'f', 2, 64) + "%"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Job, t.Instance, t.Health, ratio, t.LastError)
	}
	return tw.Flush()
}

// writeAlerts lists the firing and pending alerts (after Prometheus's
// targets, which they are read with).
func writeAlerts(w io.Writer, r Report) error {
	if r.Prometheus == nil || r.Prometheus.Error != "" { // not known
		return nil
	}
	if len(r.Alerts) == 0 {
		_, err := fmt.Fprintln(w, "\nAlerts: none firing or pending")
		return err
	}
	fmt.Fprintln(w, "\nAlerts")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tSEVERITY\tSTATE\tSINCE\tSUMMARY")
	for _, a := range r.Alerts {
		since := "-"
		if a.ActiveAt != nil {
			since = a.ActiveAt.UTC().Format(time.RFC3339)
		}
		sev := a.Severity
		if sev == "" {
			sev = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, sev, a.State, since, strings.TrimSpace(a.Summary))
	}
	return tw.Flush()
}

// WriteVerdict writes only whether the kernel enforces the budget (the
// report of CheckCgroup), with the fix when it does not.
func WriteVerdict(w io.Writer, r Report) error {
	if b := r.MemoryBudget; b != nil && b.Enforced {
		fmt.Fprintf(w, "memory budget enforced: the kernel's memory controller is on (cgroup v%d)\n", r.CgroupVersion)
	}
	writeFindings(w, r)
	return nil
}

// writeFindings lists problems (with the fix for an unenforced budget),
// what could not be checked, and warnings.
func writeFindings(w io.Writer, r Report) {
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	if b := r.MemoryBudget; b != nil && b.Fix != nil {
		fmt.Fprintf(w, "fix: %s\n", b.Fix.Text)
		if cmd := fixCommand(*b.Fix); cmd != "" {
			fmt.Fprintf(w, "     %s\n", cmd)
		}
		if b.Fix.Reboot {
			fmt.Fprintln(w, "     after the reboot, `edgectl status` says whether the budget is enforced")
		}
	}
	for _, u := range r.Unknown {
		fmt.Fprintf(w, "unknown: %s\n", u)
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

func stateString(s UnitState) string {
	if s.ActiveState == "" {
		return "?"
	}
	out := s.ActiveState
	if s.SubState != "" {
		out += "/" + s.SubState
	}
	if s.LoadState != "" && s.LoadState != "loaded" {
		out += " (" + s.LoadState + ")"
	}
	return out
}

// memString: "-" without a cgroup, "n/a" without memory accounting.
func memString(in bool, b *uint64) string {
	switch {
	case !in:
		return "-"
	case b == nil:
		return "n/a"
	}
	return FormatBytes(*b)
}

func limitString(enforced bool, max, high *uint64) string {
	if !enforced {
		return "NOT enforced"
	}
	out := "max"
	if max != nil {
		out = FormatBytes(*max)
	}
	if high != nil {
		out += " (high " + FormatBytes(*high) + ")"
	}
	return out
}

func budgetString(b uint64) string {
	if b == 0 {
		return "no"
	}
	return FormatBytes(b)
}

func cpuString(in bool, s float64) string {
	if !in {
		return "-"
	}
	return time.Duration(s * float64(time.Second)).Round(10 * time.Millisecond).String()
}

func optU32(v *uint32) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatUint(uint64(*v), 10)
}

func optU64(v *uint64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatUint(*v, 10)
}
