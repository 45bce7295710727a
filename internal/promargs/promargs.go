// Package promargs rewrites Prometheus's command line for the device: the
// rendered configuration in place of --config.file, agent mode for the lean
// profile (without the flags agent mode refuses), the query limits when the
// command line lacks them, and a retention size that fits the disk
// (CapRetentionSize).
package promargs

import (
	"fmt"
	"strings"
	"time"
)

// Prometheus's query limits on the device, the drop-in's (a test keeps them
// equal). Measured in docs/BENCHMARKS.md ("Prometheus's query limits"): two
// queries at a time of QueryMaxSamples each, answered as a matrix (the
// costliest shape, its JSON included), fit next to a head compaction with
// 28 MiB to spare under MemoryMax=96M, where Prometheus's default of
// 50,000,000 samples would take gigabytes.
const (
	QueryMaxConcurrency = 2
	QueryMaxSamples     = 50_000
	// QueryTimeout stays above the dashboard's own timeout, so that
	// edge-sensord answers first.
	QueryTimeout = 15 * time.Second
)

// QueryLimits are the flags of the query limits.
func QueryLimits() []string {
	return []string{fmt.Sprintf("--query.max-concurrency=%d", QueryMaxConcurrency),
		fmt.Sprintf("--query.max-samples=%d", QueryMaxSamples),
		fmt.Sprintf("--query.timeout=%s", QueryTimeout)}
}

// AgentPath is where agent mode keeps its WAL unless told otherwise.
const AgentPath = "/var/lib/prometheus/agent"

// Flag prefixes Prometheus refuses in agent mode (checked against 2.42).
var serverOnlyPrefixes = []string{"storage.tsdb.", "storage.remote.read-", "rules.", "alertmanager.", "query."}

// Server-only flags that take no value.
var serverOnlyBool = map[string]bool{
	"storage.tsdb.use-lockfile":             true,
	"storage.tsdb.no-lockfile":              true,
	"storage.tsdb.wal-compression":          true,
	"storage.tsdb.allow-overlapping-blocks": true,
}

// Build returns the arguments (without argv[0]) to run Prometheus with the
// rendered config at configFile. Any --config.file in args is replaced. With
// agent (the lean profile), server-only flags (TSDB, rules, alerting, query)
// are removed and agent mode is enabled; without, the query limits args do
// not set are added, so that a unit whose ExecStart= was replaced still runs
// bounded queries.
func Build(agent bool, configFile string, args []string) []string {
	if !agent {
		args = withQueryLimits(args)
	}
	out := []string{"--config.file=" + configFile}
	hasAgentPath := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, hasValue := flagName(a)
		if name == "config.file" {
			if !hasValue && i+1 < len(args) {
				i++
			}
			continue
		}
		if agent && name != "" {
			bare := strings.TrimPrefix(name, "no-")
			if serverOnly(bare) {
				if !hasValue && !strings.HasPrefix(name, "no-") && !serverOnlyBool[bare] &&
					i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					i++
				}
				continue
			}
			if name == "storage.agent.path" {
				hasAgentPath = true
			}
		}
		out = append(out, a)
	}
	if agent {
		out = append(out, "--enable-feature=agent")
		if !hasAgentPath {
			out = append(out, "--storage.agent.path="+AgentPath)
		}
	}
	return out
}

// withQueryLimits appends to args the query limits it does not set.
func withQueryLimits(args []string) []string {
	set := map[string]bool{}
	for _, a := range args {
		name, _ := flagName(a)
		set[name] = true
	}
	out := append([]string(nil), args...)
	for _, l := range QueryLimits() {
		if name, _ := flagName(l); !set[name] {
			out = append(out, l)
		}
	}
	return out
}

// flagName returns the long flag name of a ("" when a is not a long flag)
// and whether the value is attached with "=".
func flagName(a string) (string, bool) {
	if !strings.HasPrefix(a, "--") || a == "--" {
		return "", false
	}
	name, _, hasValue := strings.Cut(a[2:], "=")
	return name, hasValue
}

func serverOnly(name string) bool {
	for _, p := range serverOnlyPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// TSDBPath is the data directory of a Prometheus server run with args;
// false in agent mode, which keeps no blocks and no query log.
func TSDBPath(args []string) (string, bool) {
	path := "data/" // Prometheus's default
	for i, a := range args {
		name, hasValue := flagName(a)
		switch {
		case name == "agent" || name == "enable-feature" && strings.Contains(a, "agent"):
			return "", false
		case name == "storage.tsdb.path" && hasValue:
			_, path, _ = strings.Cut(a, "=")
		case name == "storage.tsdb.path" && i+1 < len(args):
			path = args[i+1]
		}
	}
	return path, true
}
