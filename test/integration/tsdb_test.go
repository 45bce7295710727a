//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// promSelfMetric reads one unlabelled sample of Prometheus's own /metrics.
func promSelfMetric(base, name string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("%s: no sample %s", base, name)
}

// everySecondConfig writes a Prometheus configuration scraping one target
// every second into dir and returns its path.
func everySecondConfig(t *testing.T, dir, job, target string) string {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	body := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets: ['%s']\n", job, target)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTSDBCompactionAndKillReplay runs Prometheus with blocks of 30 s (the
// hidden flags meant for testing), so that within minutes it cuts head blocks,
// merges them, truncates its head and WAL; then SIGKILLs it mid-run and checks
// that the restart replays the WAL, that promtool reads the TSDB and that
// every sample stored before the kill is still there.
func TestTSDBCompactionAndKillReplay(t *testing.T) {
	fleetRequireProm(t)
	daemon := startDaemon(t)
	dir := t.TempDir()
	cfg := everySecondConfig(t, dir, "edge-sensord", daemon)
	data := filepath.Join(dir, "data")
	addr := freeport.Addr(t)
	args := []string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--storage.tsdb.path=" + data,
		"--storage.tsdb.min-block-duration=30s", "--storage.tsdb.max-block-duration=90s", "--log.level=info"}
	p := fleetStart(t, "prometheus", addr, "/usr/bin/prometheus", args...)
	start := time.Now()

	// Each head compaction starts a WAL segment; a truncation (checkpoint,
	// old segments deleted) needs a few of them, so wait for that.
	counters := []string{"prometheus_tsdb_compactions_total", "prometheus_tsdb_head_truncations_total",
		"prometheus_tsdb_wal_truncations_total", "prometheus_tsdb_checkpoint_creations_total"}
	fleetWaitFor(t, "head compactions and a WAL truncation", 6*time.Minute, func() (bool, string) {
		var msg []string
		ok := true
		for _, c := range counters {
			v, err := promSelfMetric(p.base, c)
			if err != nil {
				return false, err.Error()
			}
			ok = ok && v >= 1
			msg = append(msg, fmt.Sprintf("%s=%g", c, v))
		}
		return ok, strings.Join(msg, " ")
	})
	if n, _ := promSelfMetric(p.base, "prometheus_tsdb_compactions_failed_total"); n != 0 {
		t.Errorf("%g failed compactions", n)
	}
	blocks, _ := promSelfMetric(p.base, "prometheus_tsdb_blocks_loaded")
	if blocks < 1 {
		t.Fatalf("no persistent block loaded after compactions (blocks_loaded=%g)", blocks)
	}
	t.Logf("after %s: %g blocks loaded", time.Since(start).Round(time.Second), blocks)

	// Every scrape since the start is stored, in blocks and head alike.
	before := time.Now().Add(-2 * time.Second)
	sel := `up{job="edge-sensord"}`
	window := before.Sub(start) + 5*time.Second
	tsBefore := fleetTimestamps(t, p.base, sel, window, before)
	if len(tsBefore) < int(window.Seconds())/2 {
		t.Fatalf("only %d samples of %s in %s", len(tsBefore), sel, window)
	}

	// SIGKILL: no shutdown, no final flush.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	list, err := exec.Command("promtool", "tsdb", "list", data).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb list after SIGKILL: %v\n%s", err, list)
	}
	if strings.Count(string(list), "\n") < 2 {
		t.Fatalf("promtool tsdb list shows no block after compactions:\n%s", list)
	}

	p2 := fleetStart(t, "prometheus (restarted)", addr, "/usr/bin/prometheus", args...)
	if !strings.Contains(p2.log.String(), "WAL replay completed") {
		t.Errorf("restart log has no \"WAL replay completed\":\n%s", p2.log.String())
	}
	tsAfter := fleetTimestamps(t, p2.base, sel, window, before)
	if len(tsAfter) != len(tsBefore) {
		t.Fatalf("samples of %s before the kill: %d stored, %d after the restart", sel, len(tsBefore), len(tsAfter))
	}
	for i := range tsBefore {
		if tsBefore[i] != tsAfter[i] {
			t.Fatalf("sample %d of %s: timestamp %d before the kill, %d after", i, sel, tsBefore[i], tsAfter[i])
		}
	}
	// And it keeps ingesting.
	fleetWaitFor(t, "new samples after the restart", time.Minute, func() (bool, string) {
		ts := fleetTimestamps(t, p2.base, sel, 10*time.Second, time.Now())
		return len(ts) >= 3, fmt.Sprintf("%d samples in the last 10 s", len(ts))
	})
	t.Logf("%d samples over %s intact after SIGKILL; promtool tsdb list:\n%s", len(tsBefore), window.Round(time.Second), list)
}

// TestTSDBSteppedClock shows what Prometheus 2.x does with samples stamped by
// a clock that steps, as on a device without an RTC until NTP corrects it.
// Prometheus stamps scrapes with its own wall clock, which a test cannot step;
// a target that exposes its samples with explicit timestamps from a clock it
// steps goes through the same append path of the TSDB (honor_timestamps).
// Blocks of a minute stand in for the 2 h ones.
func TestTSDBSteppedClock(t *testing.T) {
	fleetRequireProm(t)
	var offset atomic.Int64 // ns added to the wall clock by the "device"
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "device_reading 1 %d\n", time.Now().Add(time.Duration(offset.Load())).UnixMilli())
	}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	cfg := everySecondConfig(t, dir, "device", strings.TrimPrefix(target.URL, "http://"))
	addr := freeport.Addr(t)
	p := fleetStart(t, "prometheus", addr, "/usr/bin/prometheus", "--config.file="+cfg, "--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--storage.tsdb.min-block-duration=1m", "--storage.tsdb.max-block-duration=1m")
	self := func(name string) float64 {
		v, err := promSelfMetric(p.base, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	stored := func(sel string, from, to time.Time) int { // samples with timestamps in [from, to]
		n := 0
		for _, ts := range fleetTimestamps(t, p.base, sel, to.Sub(from)+time.Second, to) {
			if ts >= from.UnixMilli() {
				n++
			}
		}
		return n
	}
	time.Sleep(10 * time.Second)

	// 1. The clock steps back 20 s (rebooted with an older saved time): the
	// target's samples are out of order until its clock passes the last one
	// stored; nothing of the 20 s is kept.
	ooo0 := self("prometheus_target_scrapes_sample_out_of_order_total")
	offset.Store(int64(-20 * time.Second))
	t0 := time.Now()
	time.Sleep(30 * time.Second)
	ooo := self("prometheus_target_scrapes_sample_out_of_order_total") - ooo0
	if ooo < 10 {
		t.Errorf("step back of 20 s: %g out-of-order samples, want about 20", ooo)
	}
	// Device time now runs 20 s behind: its last 10 s of stamps are stored again.
	kept := stored(`device_reading`, t0.Add(-20*time.Second), time.Now().Add(-20*time.Second))
	t.Logf("step back 20 s: %g scrapes rejected as out of order; %d samples stored in the following 30 s of real time", ooo, kept)
	if kept == 0 {
		t.Errorf("ingestion did not resume after the device clock passed its last stored sample")
	}

	// 2. The clock runs 10 minutes ahead for a few scrapes, then NTP corrects
	// it. The head now spans more than 1.5 blocks: Prometheus compacts up to
	// the future samples, and everything stamped with the correct time,
	// Prometheus's own `up` included, is out of bounds until the wall clock
	// reaches the new block's end.
	oob0 := self("prometheus_target_scrapes_sample_out_of_bounds_total")
	c0 := self("prometheus_tsdb_compactions_total")
	offset.Store(int64(10 * time.Minute))
	time.Sleep(4 * time.Second)
	offset.Store(0)
	fleetWaitFor(t, "a head compaction after the forward step", 2*time.Minute, func() (bool, string) {
		c := self("prometheus_tsdb_compactions_total")
		return c > c0, fmt.Sprintf("compactions %g", c)
	})
	t1 := time.Now()
	time.Sleep(15 * time.Second)
	oob := self("prometheus_target_scrapes_sample_out_of_bounds_total") - oob0
	upStored := stored(`up{job="device"}`, t1, time.Now())
	t.Logf("step forward 10 min then back: head compacted; in the next 15 s %g samples out of bounds, %d samples of up stored", oob, upStored)
	// What the documentation says of Prometheus 2.x; a release that behaves
	// otherwise fails here.
	if oob == 0 || upStored != 0 {
		t.Errorf("after a forward step and its correction: %g samples out of bounds and %d of up stored; want rejections and none stored", oob, upStored)
	}
}
