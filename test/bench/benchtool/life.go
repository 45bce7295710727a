package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// lifeReport prints "key value" figures from the raw results of
// test/bench/life.sh (compaction soak and power cuts) in DIR.
//
//	benchtool life-report DIR
func lifeReport(args []string) error {
	dir, err := oneArg(args, "DIR")
	if err != nil {
		return err
	}
	out := os.Stdout
	if err := reportIO(out, filepath.Join(dir, "io.csv")); err != nil {
		fmt.Fprintf(out, "io_error %v\n", err)
	}
	if err := reportMemory(out, dir); err != nil {
		fmt.Fprintf(out, "memory_error %v\n", err)
	}
	if err := reportCounters(out, filepath.Join(dir, "tsdb-metrics.txt")); err != nil {
		fmt.Fprintf(out, "counters_error %v\n", err)
	}
	for _, inst := range []string{"main", "size"} {
		if err := reportCounts(out, inst, filepath.Join(dir, "counts-"+inst+".json")); err != nil {
			fmt.Fprintf(out, "counts_%s_error %v\n", inst, err)
		}
	}
	if err := reportCuts(out, filepath.Join(dir, "powercut.csv")); err != nil && !os.IsNotExist(err) {
		fmt.Fprintf(out, "powercut_error %v\n", err)
	}
	return nil
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if len(rows) > 0 {
		rows = rows[1:] // header
	}
	return rows, err
}

// dirCSV reads the CSV file name in the directory that is the one argument.
func dirCSV(args []string, name string) ([][]string, error) {
	dir, err := oneArg(args, "DIR")
	if err != nil {
		return nil, err
	}
	return readCSV(filepath.Join(dir, name))
}

func num(s string) float64 { v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64); return v }

// reportIO: per process, bytes written to storage per hour (write_bytes minus
// cancelled_write_bytes of /proc/PID/io) and its peak RSS.
func reportIO(w io.Writer, path string) error {
	rows, err := readCSV(path)
	if err != nil {
		return err
	}
	rows = slices.DeleteFunc(rows, func(r []string) bool { return len(r) < 8 }) // ioHeader's
	hwm := map[string]float64{}
	for _, r := range rows {
		hwm[r[1]] = max(hwm[r[1]], num(r[7]))
	}
	names, g := growthPerProc(rows, func(r []string) []float64 { return []float64{num(r[3]) - num(r[4])} })
	for _, n := range names {
		fmt.Fprintf(w, "io_%s_bytes_per_hour %.0f\nio_%s_seconds %.0f\nio_%s_vmhwm_kib %.0f\n", n, g[n][0].perHour(), n, g[n][0].seconds(), n, hwm[n])
	}
	return nil
}

// growth is a counter's first and last sample.
type growth struct{ t0, t1, v0, v1 float64 }

func (g growth) seconds() float64 { return g.t1 - g.t0 }
func (g growth) perHour() float64 { return (g.v1 - g.v0) * 3600 / g.seconds() }

// growthPerProc: for rows "time,proc,...", per process the growth of each counter that vals
// reads from a row; processes in the order they first appear, those sampled once left out.
func growthPerProc(rows [][]string, vals func(r []string) []float64) ([]string, map[string][]growth) {
	var names []string
	g := map[string][]growth{}
	for _, r := range rows {
		t, v := num(r[0]), vals(r)
		if g[r[1]] == nil {
			names = append(names, r[1])
			for _, x := range v {
				g[r[1]] = append(g[r[1]], growth{t0: t, v0: x})
			}
		}
		for i, x := range v {
			g[r[1]][i].t1, g[r[1]][i].v1 = t, x
		}
	}
	names = slices.DeleteFunc(names, func(n string) bool { return g[n][0].seconds() <= 0 })
	return names, g
}

// counterSeries reads "time instance name value" lines.
func counterSeries(path string) (map[string][][2]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := map[string][][2]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 {
			continue
		}
		k := f[1] + " " + f[2]
		s[k] = append(s[k], [2]float64{num(f[0]), num(f[3])})
	}
	return s, nil
}

// reportMemory: the cgroup's peak against the unit's MemoryHigh (memory-high.txt, as systemctl
// shows it), the split of the highest sampled usage, and whether it came within 10 s of a
// compaction.
func reportMemory(w io.Writer, dir string) error {
	rows, err := readCSV(filepath.Join(dir, "prom-memory.csv"))
	if err != nil {
		return err
	}
	m := scanMemory(rows)
	if m.atMax == nil {
		return fmt.Errorf("no samples")
	}
	fmt.Fprintf(w, "mem_cgroup_max_usage_bytes %.0f\nmem_sampled_max_usage_bytes %s\nmem_sampled_max_rss_bytes %.0f\nmem_samples %d\n",
		m.peak, m.atMax[1], m.maxRSS, len(rows))
	// anon, file, kernel (v2 only), reclaimable slab (v2 only) at the highest sample.
	fmt.Fprintf(w, "mem_at_sampled_max anon=%s file=%s", m.atMax[3], m.atMax[4])
	if len(m.atMax) > 7 {
		fmt.Fprintf(w, " kernel=%s slab_reclaimable=%s", m.atMax[6], m.atMax[7])
	}
	fmt.Fprintln(w)
	if b, err := os.ReadFile(filepath.Join(dir, "memory-high.txt")); err == nil {
		h := strings.TrimSpace(string(b))
		if v, err := strconv.ParseFloat(h, 64); err == nil && v > 0 {
			fmt.Fprintf(w, "mem_memoryhigh_bytes %.0f\nmem_cgroup_max_usage_vs_memoryhigh %.2f\n", v, m.peak/v)
		} else {
			fmt.Fprintf(w, "mem_memoryhigh %s\n", h)
		}
	}
	if m.haveHigh {
		fmt.Fprintf(w, "mem_high_events %.0f -> %.0f\n", m.highFirst, m.highLast)
	}
	near, err := nearCompaction(filepath.Join(dir, "tsdb-metrics.txt"), num(m.atMax[0]))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "mem_sampled_max_within_10s_of_compaction %.0f\n", near)
	return nil
}

// memoryScan is what reportMemory reads from the samples of prom-memory.csv.
type memoryScan struct {
	peak, maxRSS        float64
	atMax               []string // the sample with the highest usage
	highFirst, highLast float64  // cgroup v2's memory.events "high"
	haveHigh            bool
}

func scanMemory(rows [][]string) memoryScan {
	var m memoryScan
	for _, r := range rows {
		if len(r) < 5 {
			continue
		}
		m.peak = max(m.peak, num(r[2]))
		m.maxRSS = max(m.maxRSS, num(r[3]))
		if m.atMax == nil || num(r[1]) > num(m.atMax[1]) {
			m.atMax = r
		}
		if len(r) > 5 && strings.TrimSpace(r[5]) != "" {
			if !m.haveHigh {
				m.highFirst, m.haveHigh = num(r[5]), true
			}
			m.highLast = num(r[5])
		}
	}
	return m
}

// nearCompaction is 1 when the main instance's compactions counter rose
// within 10 s of time at, else 0.
func nearCompaction(path string, at float64) (float64, error) {
	s, err := counterSeries(path)
	if err != nil {
		return 0, err
	}
	c := s["main prometheus_tsdb_compactions_total"]
	for i := 1; i < len(c); i++ {
		if c[i][1] > c[i-1][1] && at >= c[i-1][0]-10 && at <= c[i][0]+10 {
			return 1, nil
		}
	}
	return 0, nil
}

// reportCounters: first and last value of every counter per instance.
func reportCounters(w io.Writer, path string) error {
	s, err := counterSeries(path)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := s[k]
		inst, name, _ := strings.Cut(k, " ")
		fmt.Fprintf(w, "tsdb_%s_%s %g -> %g\n", inst, strings.TrimPrefix(name, "prometheus_"), v[0][1], v[len(v)-1][1])
	}
	return nil
}

// reportCounts: the per-minute sample counts of a 1 s job over the soak
// (query_range of count_over_time(up[1m]), step 60 s): how many minutes
// hold all 60 samples, how many fewer, and from when data is complete.
func reportCounts(w io.Writer, inst, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	if len(r.Data.Result) != 1 {
		return fmt.Errorf("%d series", len(r.Data.Result))
	}
	var full, partial int
	first, firstFull, last := -1.0, -1.0, 0.0
	var partials []string
	for _, v := range r.Data.Result[0].Values {
		t, n := v[0].(float64), num(v[1].(string))
		if first < 0 {
			first = t
		}
		last = t
		if n >= 60 {
			full++
			if firstFull < 0 {
				firstFull = t
			}
		} else {
			partial++
			partials = append(partials, fmt.Sprintf("%.0f:%.0f", t, n))
		}
	}
	fmt.Fprintf(w, "counts_%s_minutes_with_data %d\ncounts_%s_minutes_full %d\ncounts_%s_minutes_partial %d (%s)\ncounts_%s_first_minute_end %.0f\ncounts_%s_first_full_minute_end %.0f\ncounts_%s_last_minute_end %.0f\n",
		inst, full+partial, inst, full, inst, partial, strings.Join(partials, " "), inst, first, inst, firstFull, inst, last)
	return nil
}

// reportCuts: samples lost before each cut and seconds to ready, median and worst.
func reportCuts(w io.Writer, path string) error {
	rows, err := readCSV(path)
	if err != nil {
		return err
	}
	var lost, ready []float64
	bad := 0
	for _, r := range rows {
		if len(r) < 13 {
			continue
		}
		lost = append(lost, num(r[5]))
		ready = append(ready, num(r[6]))
		if r[7] != "ok" || r[8] != "ok" || r[9] != "ok" {
			bad++
		}
	}
	fmt.Fprintf(w, "cuts %d\ncuts_with_tsdb_or_file_problem %d\ncut_lost_s_median %.1f\ncut_lost_s_worst %.1f\ncut_boot_to_ready_s_median %.1f\ncut_boot_to_ready_s_worst %.1f\n",
		len(rows), bad, median(lost), slices.Max(append(lost, 0)), median(ready), slices.Max(append(ready, 0)))
	return nil
}

// cutsReport prints the power cuts' figures of test/bench/vmcut.sh in DIR
// (powercut.csv, a row per cut, and each cut's promtool output). An analyze
// that failed only because no block was persisted yet is no problem.
//
//	benchtool cuts-report DIR
func cutsReport(args []string) error {
	rows, err := dirCSV(args, "powercut.csv")
	if err != nil {
		return err
	}
	var lost, ready []float64
	var problems, noBlocks, mid, down, unknownLost, restarts, replays int
	for _, r := range rows {
		if len(r) < 15 {
			return fmt.Errorf("powercut.csv: row %q has %d fields, want 15", r, len(r))
		}
		analyze := r[8]
		if analyze == "FAIL" {
			b, _ := os.ReadFile(filepath.Join(args[0], "cut-"+r[0]+"-analyze.txt"))
			if strings.EqualFold(strings.TrimSpace(string(b)), "no blocks found") {
				analyze = "ok"
				noBlocks++
			}
		}
		if r[7] != "ok" || analyze != "ok" || r[9] != "ok" {
			problems++
		}
		if r[5] == "unknown" || r[5] == "all" {
			unknownLost++
		} else {
			lost = append(lost, num(r[5]))
		}
		ready = append(ready, num(r[6]))
		if num(r[10]) > 0 {
			replays++
		}
		restarts += int(num(r[11]))
		if num(r[13]) > 0 {
			mid++
		}
		if r[14] != "active/active" {
			down++
		}
	}
	fmt.Printf("cuts %d\ncuts_mid_compaction %d\ncuts_with_tsdb_or_file_problem %d\ncuts_before_the_first_block %d\n", len(rows), mid, problems, noBlocks)
	fmt.Printf("boots_with_wal_replay %d\nboots_with_a_unit_not_active %d\nprometheus_restarts_after_boot %d\ncuts_loss_unknown %d\n", replays, down, restarts, unknownLost)
	fmt.Printf("cut_lost_s_median %.1f\ncut_lost_s_worst %.1f\ncut_boot_to_ready_s_median %.1f\ncut_boot_to_ready_s_worst %.1f\n",
		median(lost), slices.Max(append(lost, 0)), median(ready), slices.Max(append(ready, 0)))
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sdwritesReport prints the summaries of test/bench/sdwrites.sh from its DIR: per process the
// bytes written to storage and the bytes passed to write(2) per hour (io.csv), then per
// instance and kind of TSDB file the bytes that appeared, each file at the largest size it
// reached, deleted ones included (files.txt).
func sdwritesReport(args []string) error {
	rows, err := dirCSV(args, "io.csv")
	if err != nil {
		return err
	}
	writeRates(os.Stdout, rows)
	f, err := os.Open(filepath.Join(args[0], "files.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	return writeFileGrowth(os.Stdout, f)
}

// writeRates: rows of iosample (ioHeader), sorted by proc.
func writeRates(w io.Writer, rows [][]string) {
	rows = slices.DeleteFunc(rows, func(r []string) bool { return len(r) < 8 })
	names, g := growthPerProc(rows, func(r []string) []float64 { return []float64{num(r[3]) - num(r[4]), num(r[5])} })
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "%s write_bytes_per_hour=%.0f wchar_per_hour=%.0f over %.0fs\n", n, g[n][0].perHour(), g[n][1].perHour(), g[n][0].seconds())
	}
}

// writeFileGrowth: lines of "time ./INSTANCE/data/PATH size".
func writeFileGrowth(w io.Writer, r io.Reader) error {
	largest := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		largest[f[1]] = max(largest[f[1]], num(f[2]))
	}
	sum := map[string]float64{}
	for path, size := range largest {
		inst := strings.Split(strings.TrimPrefix(path, "./"), "/")[0]
		sum[inst+" "+tsdbFileKind(path)] += size
	}
	for _, k := range slices.Sorted(maps.Keys(sum)) {
		fmt.Fprintf(w, "%s %.0f\n", k, sum[k])
	}
	return sc.Err()
}

func tsdbFileKind(path string) string {
	switch {
	case strings.Contains(path, "/wal/checkpoint"):
		return "checkpoint"
	case strings.Contains(path, "/wal/"):
		return "wal"
	case strings.Contains(path, "/chunks_head/"):
		return "chunks_head"
	case isBlockFile(path):
		return "blocks"
	}
	return "other"
}

// isBlockFile: the path is in a block's directory, data/01.../ (block IDs are ULIDs).
func isBlockFile(path string) bool {
	_, rest, ok := strings.Cut(path, "/data/01")
	return ok && strings.Contains(rest, "/")
}
