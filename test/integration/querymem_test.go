//go:build integration && querybench

package integration

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestPrometheusQueryMemory measures what Prometheus's queries cost in memory inside the
// shipped unit's memory limit, next to a full head block and its compaction, to size
// --query.max-samples (test/bench/run.sh querymem; not part of `make test`).
//
// Prometheus runs as shipped (edgectl prometheus-exec, the drop-in's flags and environment, a
// memory cgroup at its MemoryMax). It holds 800 series of random values every 15 s: 12 h
// before the head as blocks (promtool), and 3 to 5 h in the head (remote write), which makes it
// compact full 2 h head blocks.
//
// First with --query.max-samples lifted: pairs of queries (two at once, as
// --query.max-concurrency allows) load more and more samples, in two shapes: a subquery
// answered as a vector (the evaluation is the cost), and a range selector answered as a
// matrix (its JSON is); each pair's peak, until Prometheus is OOM-killed. Then as shipped: two
// clients send both shapes at the drop-in's --query.max-samples, and twice that, in a loop
// while Prometheus takes in its head and compacts it; the peak, the answers, the OOM kills.
// QUERYMEM_OUT names a file for the "key value" results; QUERYMEM_SHIPPED_ONLY=1 runs the
// second part alone.
func TestPrometheusQueryMemory(t *testing.T) {
	out := newResults(t, os.Getenv("QUERYMEM_OUT"))
	u := readShippedUnit(t)
	if os.Getenv("QUERYMEM_SHIPPED_ONLY") != "" {
		shippedUnderCompaction(t, u, out)
		return
	}
	cg := newMemCgroup(t, u.memMax, u.memHigh)
	h := newFullHead(t)
	start := func() *shippedProm {
		return startShippedPrometheus(t, u, cg, h.cfg, h.data, "--query.max-samples=1000000000", "--web.enable-remote-write-receiver")
	}
	p := start()
	time.Sleep(10 * time.Second)
	out.add("ready_peak_mib", mib(cg.takePeak()))
	out.add("ready_anon_peak_mib", mib(cg.takeAnonPeak()))
	h.fill(t, p)
	out.add("head_and_compaction_peak_mib", mib(cg.takePeak()))
	out.add("head_and_compaction_anon_peak_mib", mib(cg.takeAnonPeak()))
	time.Sleep(15 * time.Second)
	out.add("settled_mib", mib(cg.usage()))
	out.add("settled_anon_mib", mib(cg.anon()))
	cg.takePeak()
	cg.takeAnonPeak()
	for _, shape := range queryShapes {
		killed := cg.oomKills()
		for _, samples := range []int{50_000, 100_000, 200_000, 300_000, 400_000, 600_000, 800_000, 1_200_000, 1_600_000} {
			// The highest of three pairs: when the GC runs matters.
			oom, peak, anon, slowest, codes := cg.oomKills(), int64(0), int64(0), time.Duration(0), [2]int{}
			for range 3 {
				var took time.Duration
				codes, took = queryPair(p.base, shape.query(samples), h.end)
				peak, anon, slowest = max(peak, cg.takePeak()), max(anon, cg.takeAnonPeak()), max(slowest, took)
			}
			key := fmt.Sprintf("%s_%d", shape.name, samples)
			out.add(key+"_peak_mib", mib(peak))
			out.add(key+"_anon_peak_mib", mib(anon))
			out.add(key+"_seconds", slowest.Seconds())
			out.add(key+"_status", float64(codes[0]*1000+codes[1]))
			out.add(key+"_oom_kills", float64(cg.oomKills()-oom))
			if cg.oomKills() > oom {
				break // the next size would be killed too
			}
		}
		if cg.oomKills() > killed {
			<-p.exit
			p = start()
			time.Sleep(10 * time.Second)
			cg.takePeak()
			cg.takeAnonPeak()
		}
	}
	syscall.Kill(p.pid, syscall.SIGKILL)
	shippedUnderCompaction(t, u, out)
}

// queryShape is a query whose window (%d seconds) sets how many samples it loads; Prometheus
// counts each of them perSample times against --query.max-samples.
type queryShape struct {
	name, expr string
	perSample  int
}

// queryShapes are the two ways a query's samples cost memory. A subquery's points are counted
// twice: once as its result, once in the window of the function over it.
var queryShapes = []queryShape{
	{"subquery", "max_over_time(fill[%ds:15s])", 2},
	{"matrix", "fill[%ds]", 1},
}

// query is the shape's query over the fullHeadSeries series that Prometheus counts as up to
// samples samples (a window holds at most one point more than its length over the step).
func (s queryShape) query(samples int) string {
	return fmt.Sprintf(s.expr, (samples/s.perSample/fullHeadSeries-1)*15)
}

// shippedUnderCompaction: Prometheus with the drop-in's query limits, two clients sending the
// worst queries at the limit and over it while Prometheus takes in a full head and compacts it.
func shippedUnderCompaction(t *testing.T, u shippedUnit, out *results) {
	limit, err := strconv.Atoi(u.flag("query.max-samples"))
	if err != nil {
		t.Fatalf("the drop-in's --query.max-samples: %v", err)
	}
	cg := newMemCgroup(t, u.memMax, u.memHigh)
	h := newFullHead(t)
	p := startShippedPrometheus(t, u, cg, h.cfg, h.data, "--web.enable-remote-write-receiver")
	cg.takePeak()
	cg.takeAnonPeak()
	var mu sync.Mutex
	codes := map[string]int{}
	var slowest time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// At the limit and twice over it, all from blocks (before the head being filled).
				shape, n := queryShapes[i%2], limit*(1+i/2%2)
				got, took := queryPair(p.base, shape.query(n), h.start)
				mu.Lock()
				for _, code := range got {
					codes[fmt.Sprintf("%s_%s_%d", shape.name, map[bool]string{true: "at_limit", false: "over_limit"}[n == limit], code)]++
				}
				slowest = max(slowest, took)
				mu.Unlock()
			}
		}()
	}
	h.fill(t, p)
	time.Sleep(15 * time.Second)
	close(stop)
	wg.Wait()
	out.add("shipped_max_samples", float64(limit))
	out.add("shipped_peak_mib", mib(cg.takePeak()))
	out.add("shipped_anon_peak_mib", mib(cg.takeAnonPeak()))
	out.add("shipped_oom_kills", float64(cg.oomKills()))
	out.add("shipped_alive", map[bool]float64{true: 1}[p.alive()])
	out.add("shipped_slowest_pair_seconds", slowest.Seconds())
	for k, n := range codes {
		out.add("shipped_"+k, float64(n))
	}
}

// fullHeadSeries are the series of a fullHead.
const fullHeadSeries = 800

// fullHead is a TSDB of fullHeadSeries series: 12 h of blocks before start, and the head from
// start, 3 h 15 min to 5 h 15 min before end, that fill sends.
type fullHead struct {
	data       string
	start, end time.Time
}

// cfg is a fullHead's Prometheus configuration: nothing else in the head, as a scrape at end
// would make it compactable before it is full.
func (h *fullHead) cfg(string) string {
	return "global: {scrape_interval: 15s, evaluation_interval: 15s}\n"
}

func newFullHead(t *testing.T) *fullHead {
	end := time.Now().Truncate(time.Minute)
	h := &fullHead{data: t.TempDir(), end: end, start: end.Add(-3*time.Hour - 15*time.Minute).Truncate(2 * time.Hour)}
	fillHistory(t, h.data, "fill", fullHeadSeries, end.Add(-12*time.Hour), h.start, 15*time.Second)
	return h
}

// fill sends the head to p and waits for its compaction.
func (h *fullHead) fill(t *testing.T, p *shippedProm) {
	remoteWrite(t, p.base, "fill", fullHeadSeries, h.start, h.end, 15*time.Second)
	deadline := time.Now().Add(3 * time.Minute)
	for n, _ := promSelfMetric(p.base, "prometheus_tsdb_compactions_total"); n < 1; n, _ = promSelfMetric(p.base, "prometheus_tsdb_compactions_total") {
		if time.Now().After(deadline) || !p.alive() {
			t.Fatalf("no head compaction within 3 minutes (alive %v)", p.alive())
		}
		time.Sleep(time.Second)
	}
	time.Sleep(5 * time.Second)
}

// queryPair runs expr twice at once at time at and returns both statuses (0: no answer) and
// the time until both were answered.
func queryPair(base, expr string, at time.Time) ([2]int, time.Duration) {
	var codes [2]int
	var wg sync.WaitGroup
	start := time.Now()
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := url.Values{"query": {expr}, "time": {fmt.Sprint(at.Unix())}}
			resp, err := (&http.Client{Timeout: 5 * time.Minute}).Get(base + "/api/v1/query?" + q.Encode())
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	return codes, time.Since(start)
}

// remoteWrite sends series gauges name{series="i"} of random values every step from start to
// end to Prometheus's remote-write receiver, ten minutes of every series per request, in time
// order, as Prometheus's remote-write protocol 1.0 carries them.
func remoteWrite(t *testing.T, base, name string, series int, start, end time.Time, step time.Duration) {
	t.Helper()
	r := rand.New(rand.NewPCG(2, 2))
	for from := start; from.Before(end); from = from.Add(10 * time.Minute) {
		var req []byte
		for i := range series {
			var ts []byte
			for _, l := range [][2]string{{"__name__", name}, {"series", fmt.Sprint(i)}} {
				var lb []byte
				lb = protowire.AppendTag(lb, 1, protowire.BytesType)
				lb = protowire.AppendString(lb, l[0])
				lb = protowire.AppendTag(lb, 2, protowire.BytesType)
				lb = protowire.AppendString(lb, l[1])
				ts = protowire.AppendTag(ts, 1, protowire.BytesType)
				ts = protowire.AppendBytes(ts, lb)
			}
			for at := from; at.Before(from.Add(10*time.Minute)) && at.Before(end); at = at.Add(step) {
				var sb []byte
				sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
				sb = protowire.AppendFixed64(sb, math.Float64bits(r.Float64()))
				sb = protowire.AppendTag(sb, 2, protowire.VarintType)
				sb = protowire.AppendVarint(sb, uint64(at.UnixMilli()))
				ts = protowire.AppendTag(ts, 2, protowire.BytesType)
				ts = protowire.AppendBytes(ts, sb)
			}
			req = protowire.AppendTag(req, 1, protowire.BytesType)
			req = protowire.AppendBytes(req, ts)
		}
		hr, _ := http.NewRequest("POST", base+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, req)))
		hr.Header.Set("Content-Encoding", "snappy")
		hr.Header.Set("Content-Type", "application/x-protobuf")
		hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("remote write: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("remote write of %s: %s %s", from, resp.Status, b)
		}
	}
}
