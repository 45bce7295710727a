package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/atomicfile"
	"github.com/edgeobs/edge-observability-stack/internal/promargs"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
	"github.com/edgeobs/edge-observability-stack/internal/tsdbrepair"
)

const defaultPromBin = "/usr/bin/prometheus"

// execFunc replaces the process; a variable so tests can observe the call.
var execFunc = syscall.Exec

// runPrometheusExec is prometheus.service's ExecStart: render, then exec
// Prometheus in this process so that systemd supervises Prometheus itself.
func runPrometheusExec(args []string, stdout, stderr io.Writer) int {
	c := newCmdLine("prometheus-exec", stdout, stderr)
	var in renderFiles
	in.register(c)
	out := c.String("config.out", defaultConfigOut, "where to write the rendered config")
	bin := c.String("prometheus", defaultPromBin, "Prometheus binary to exec")
	if code, ok := c.parse(args); !ok {
		return code
	}
	data, s, err := in.render()
	if err != nil {
		return c.fail(err)
	}
	if err := atomicfile.Write(*out, data, 0o640); err != nil {
		return c.fail(err)
	}
	promArgs, note := promargs.CapRetentionSize(promargs.Build(s.Profile == settings.ProfileLean, *out, c.Args()))
	if note != "" {
		fmt.Fprintf(stderr, "%s: %s\n", c.name, note)
	}
	if dataDir, ok := promargs.TSDBPath(promArgs); ok {
		repairTSDB(dataDir, stderr)
		queryLogInRAM(dataDir, filepath.Dir(*out), stderr)
	}
	err = execFunc(*bin, append([]string{*bin}, promArgs...), os.Environ())
	return c.fail(fmt.Errorf("exec %s: %w", *bin, err))
}

// repairTSDB moves aside the blocks Prometheus could not open (see
// tsdbrepair), so that it starts after an unclean power cut instead of
// failing at every restart.
func repairTSDB(path string, stderr io.Writer) {
	moved, err := tsdbrepair.Repair(path, time.Now())
	for _, m := range moved {
		fmt.Fprintf(stderr, "prometheus-exec: block %s of %s is unreadable (%s); moved to %s so that Prometheus can start, its samples are not queryable\n", m.Block, path, m.Reason, m.To)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prometheus-exec: checking the blocks of %s: %v\n", path, err)
	}
}

// queryLog is the file where Prometheus records the queries running, one
// slot per --query.max-concurrency, rewritten at every query and rule
// evaluation.
const queryLog = "queries.active"

// queryLogInRAM points the data directory's query log at runDir (a tmpfs):
// on the card it is a page rewritten at every rule evaluation. Its one use,
// naming the queries that ran when Prometheus crashed, still works across
// restarts of the unit (RuntimeDirectoryPreserve=restart).
func queryLogInRAM(dataDir, runDir string, stderr io.Writer) {
	link := filepath.Join(dataDir, queryLog)
	target := filepath.Join(runDir, queryLog)
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return
	}
	err := os.MkdirAll(dataDir, 0o750)
	if err == nil {
		if err = os.Remove(link); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		err = os.Symlink(target, link)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prometheus-exec: query log left on disk: %v\n", err)
	}
}
