package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The reports of run.sh's footprint and shipped parts: edge-sensord against
// node_exporter, measured side by side.

// footprintFiles are the results of run.sh's footprint part, by file name.
type footprintFiles struct {
	edge, ne, edgePlain, nePlain, edgeFresh, neFresh, limit, goDefaults kvFile
	readyMs, edgeFirst200, neFirst200                                   []float64
	wrk                                                                 map[string][]float64 // edge_p50 … ne_rps
	metrics                                                             string               // edge-sensord's /metrics after the scrapes
}

func loadFootprint(dir string) (*footprintFiles, error) {
	r := &footprintFiles{wrk: map[string][]float64{}}
	var err error
	for name, kv := range map[string]*kvFile{"edge": &r.edge, "ne": &r.ne, "edge-plain": &r.edgePlain, "ne-plain": &r.nePlain,
		"edge-fresh": &r.edgeFresh, "ne-fresh": &r.neFresh, "edge-limit": &r.limit, "edge-godefaults": &r.goDefaults} {
		if *kv, err = loadKV(filepath.Join(dir, name+".kv")); err != nil {
			return nil, err
		}
	}
	for _, v := range []struct {
		dst       *[]float64
		file, key string
	}{{&r.readyMs, "edge-ready.kv", "ready_ms_run1"}, {&r.edgeFirst200, "edge-ready.kv", "first200_ms_run1"}, {&r.neFirst200, "ne-ready.kv", "first200_ms_run1"}} {
		if *v.dst, err = values(filepath.Join(dir, v.file), v.key); err != nil {
			return nil, err
		}
	}
	for _, who := range []string{"edge", "ne"} {
		for i, col := range []string{"p50", "p99", "rps"} {
			if r.wrk[who+"_"+col], err = column(filepath.Join(dir, who+"-wrk.tsv"), i); err != nil {
				return nil, err
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "edge-metrics.txt"))
	r.metrics = string(b)
	return r, err
}

// footprintReport prints the markdown of run.sh's footprint part from its DIR.
//
//	benchtool footprint-report -machine LINE -load-before L -load-after L -fresh-interval DUR DIR
func footprintReport(args []string) error {
	return runReport("footprint-report", args, option{"fresh-interval", "100ms", "the poll and scrape interval of the paced runs"}, writeFootprint)
}

func writeFootprint(w io.Writer, dir string, run runInfo, fresh string) error {
	interval, err := time.ParseDuration(fresh)
	if err != nil {
		return err
	}
	r, err := loadFootprint(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "### Footprint: edge-sensord vs prometheus-node-exporter\n\n%s\n%s\n", run.machine, run.loads())
	fmt.Fprintln(w, "edge-sensord: test/fixtures/sysfs + --sensors.simulate, poll every 5s; node_exporter: its default collectors on this host. Scrapes are sequential on one keep-alive connection with Prometheus's Accept header and gzip.")
	fmt.Fprintln(w)
	r.writeComparison(w, fresh, interval)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Ratios use the medians (first number of each cell). Content types: edge-sensord %s, node_exporter %s.\n", r.edge["content_type"], r.ne["content_type"])
	fmt.Fprintf(w, "Threads after: edge-sensord %s, node_exporter %s.\n\n", r.edge["after_threads"], r.ne["after_threads"])
	r.writeVariants(w)
	fmt.Fprintf(w, "\nedge-sensord Go memory after the scrapes (from its /metrics):\n\n```\n%s```\n", selectLines(r.metrics, goMemory))
	return nil
}

// writeComparison is the table of edge-sensord against node_exporter.
func (r *footprintFiles) writeComparison(w io.Writer, fresh string, interval time.Duration) {
	e, n := r.edge, r.ne
	cmp := func(label, a, b string) { fmt.Fprintln(w, row(label, a, b, cellRatio(a, b))) }
	both := func(label string, f func(kvFile) string, a, b kvFile) { cmp(label, f(a), f(b)) }
	mib := func(key string) func(kvFile) string { return func(k kvFile) string { return kibToMiB(k[key]) } }
	key := func(key string) func(kvFile) string { return func(k kvFile) string { return k[key] } }
	idleWork := func(k kvFile) string {
		v, ok := parseNum(k["idle_cpu_ms_per_s"])
		if !ok {
			return "–"
		}
		return fmt.Sprintf("%.0f", v*float64(interval)/float64(time.Millisecond))
	}
	scrapes := e["scrapes"]
	fmt.Fprintln(w, "| Measure | edge-sensord | node_exporter | ratio |\n|---|---|---|---|")
	both("RSS idle (MiB)", mib("idle_rss_kib"), e, n)
	both("PSS idle (MiB)", mib("idle_pss_kib"), e, n)
	both("RSS after "+scrapes+" scrapes (MiB)", mib("after_rss_kib"), e, n)
	both("PSS after "+scrapes+" scrapes (MiB)", mib("after_pss_kib"), e, n)
	both("RssAnon after (MiB)", mib("after_rss_anon_kib"), e, n)
	both("RssFile after (MiB)", mib("after_rss_file_kib"), e, n)
	both(fmt.Sprintf("CPU ms per 1000 scrapes, gzip (median of %s blocks)", thousands(scrapes)), key("cpu_ms_per_1000_median"), e, n)
	fmt.Fprintln(w, row("  min / max per block", e["cpu_ms_per_1000_min"]+" / "+e["cpu_ms_per_1000_max"], n["cpu_ms_per_1000_min"]+" / "+n["cpu_ms_per_1000_max"], "–"))
	both("CPU ms per 1000 scrapes, no gzip ("+r.edgePlain["scrapes"]+" scrapes)", key("cpu_ms_per_1000_median"), r.edgePlain, r.nePlain)
	both("CPU ms per 1000 scrapes, gzip, each after a new poll ("+r.edgeFresh["scrapes"]+" paced at "+fresh+")", key("cpu_ms_per_1000_mean"), r.edgeFresh, r.neFresh)
	both("  of which idle work (polls), ms per 1000 × "+fresh, idleWork, r.edgeFresh, r.neFresh)
	both("Response bytes (uncompressed)", key("response_bytes"), e, n)
	both("Response bytes (gzip)", key("response_gzip_bytes"), e, n)
	cmp(fmt.Sprintf("wrk p50 ms, median (min–max) of %d", len(r.wrk["edge_p50"])), spread(r.wrk["edge_p50"]), spread(r.wrk["ne_p50"]))
	cmp("wrk p99 ms", spread(r.wrk["edge_p99"]), spread(r.wrk["ne_p99"]))
	cmp("wrk requests/s", spread(r.wrk["edge_rps"]), spread(r.wrk["ne_rps"]))
	cmp(fmt.Sprintf("start → first 200 on /metrics, ms, median (min–max) of %d", len(r.edgeFirst200)), spread(r.edgeFirst200), spread(r.neFirst200))
	fmt.Fprintln(w, row("start → READY=1, ms (edge-sensord only)", spread(r.readyMs), "–", "–"))
}

// writeVariants is the table of the daemon's variants, each run alone.
func (r *footprintFiles) writeVariants(w io.Writer) {
	fmt.Fprintf(w, "The same daemon alone, same %s scrapes:\n\n", r.edge["scrapes"])
	fmt.Fprintln(w, "| Variant | RSS idle | RSS after | RssAnon after | RssFile after | PSS after | CPU ms per 1000 scrapes |\n|---|---|---|---|---|---|---|")
	for _, v := range []struct {
		label string
		k     kvFile
	}{{"GOMEMLIMIT=10MiB", r.limit}, {"Go's defaults (GOGC=100, --no-runtime.pageout)", r.goDefaults}} {
		fmt.Fprintln(w, row(v.label, kibToMiB(v.k["idle_rss_kib"]), kibToMiB(v.k["after_rss_kib"]), kibToMiB(v.k["after_rss_anon_kib"]),
			kibToMiB(v.k["after_rss_file_kib"]), kibToMiB(v.k["after_pss_kib"]), v.k["cpu_ms_per_1000_median"]))
	}
}

// thousands is n/1000, the blocks of 1000 scrapes footprint samples CPU in.
func thousands(n string) string {
	v, err := strconv.Atoi(n)
	if err != nil {
		return "–"
	}
	return strconv.Itoa(v / 1000)
}

// goMemory selects where edge-sensord's memory goes, in its own words.
var goMemory = regexp.MustCompile(`^(go_memstats_(heap_(alloc|inuse|idle|released|sys)|stack_inuse|sys|next_gc|mspan_inuse|gc_sys|other_sys)_bytes|go_gc_gomemlimit_bytes|go_gc_gogc_percent|go_goroutines|go_threads) `)

// selectLines keeps the lines of text that re matches, each ending in a newline.
func selectLines(text string, re *regexp.Regexp) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if re.MatchString(l) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// shippedReport prints the markdown of run.sh's shipped part from its DIR:
// edge5.kv, edge15.kv and ne.kv of footprint runs paced 15 s apart.
//
//	benchtool shipped-report -machine LINE -load-before L -load-after L DIR
func shippedReport(args []string) error {
	return runReport("shipped-report", args, option{}, writeShipped)
}

func writeShipped(w io.Writer, dir string, run runInfo, _ string) error {
	var k [3]kvFile
	var err error
	for i, who := range []string{"edge5", "edge15", "ne"} {
		if k[i], err = loadKV(filepath.Join(dir, who+".kv")); err != nil {
			return err
		}
	}
	per := func(kv kvFile, key string) string { return perScrape(kv[key], kv["scrapes"]) }
	sched := [3]string{per(k[0], "sched_cpu_ms_total"), per(k[1], "sched_cpu_ms_total"), per(k[2], "sched_cpu_ms_total")}
	fmt.Fprintf(w, "### As shipped: a scrape every 15 s\n\n%s\n", run.machine)
	fmt.Fprintf(w, "%s The three ran at once; each got %s scrapes 15 s apart (Prometheus's Accept header, gzip), over %s s. CPU: run time summed over /proc/PID/task/*/schedstat.\n\n",
		run.loads(), k[2]["scrapes"], k[2]["scrape_wall_s"])
	fmt.Fprintln(w, "| Measure | edge-sensord, 5 s polls (shipped) | edge-sensord, 15 s polls | node_exporter | ratio 5 s / node | ratio 15 s / node |\n|---|---|---|---|---|---|")
	fmt.Fprintln(w, row("CPU ms per 15 s scrape interval", sched[0], sched[1], sched[2], cellRatio(sched[0], sched[2]), cellRatio(sched[1], sched[2])))
	fmt.Fprintln(w, row("CPU ms per 15 s, from utime+stime (10 ms ticks)", per(k[0], "cpu_ms_total"), per(k[1], "cpu_ms_total"), per(k[2], "cpu_ms_total"), "", ""))
	fmt.Fprintln(w, row("RSS after (MiB)", kibToMiB(k[0]["after_rss_kib"]), kibToMiB(k[1]["after_rss_kib"]), kibToMiB(k[2]["after_rss_kib"]), "", ""))
	return nil
}
