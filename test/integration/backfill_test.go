//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// backfill writes OpenMetrics of every edge_ and sensor_ series of one
// scrape of the daemon at base, labelled as Prometheus would label them
// from instance, plus up and scrape_duration_seconds, every 15 s from start
// to end, and turns them into TSDB blocks in dir. Readings and memory wander
// by ±5 % over an hour so charts have a shape, counters grow to their value,
// timestamps follow the clock, other gauges keep their value.
func backfill(t *testing.T, base, instance, dir string, start, end time.Time) {
	t.Helper()
	backfillWith(t, base, instance, dir, start, end, 0)
}

// backfillWith is backfill with fill series of random values beside the
// daemon's (writeFill's "fill"), in the same blocks.
func backfillWith(t *testing.T, base, instance, dir string, start, end time.Time, fill int) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	type series struct {
		labels string
		value  float64
		kind   byte // c counter, b counter since boot, w wandering, t timestamp, k constant
	}
	extra := `job="edge-sensord",instance="` + instance + `"`
	all := []series{{`up{` + extra + `}`, 1, 'k'}, {`scrape_duration_seconds{` + extra + `}`, 0.004, 'w'}}
	wanders := regexp.MustCompile(`^(edge_(sensor_(temperature|voltage|current|power|fan|humidity|pressure|illuminance|host_cpu)|unit_memory_bytes)|node_(load|memory_MemAvailable))`)
	for name, mf := range families {
		if !strings.HasPrefix(name, "edge_") && !strings.HasPrefix(name, "sensor_") && !strings.HasPrefix(name, "node_") {
			continue
		}
		for _, m := range mf.Metric {
			var v float64
			var kind byte
			switch {
			case mf.GetType() == dto.MetricType_COUNTER && strings.HasPrefix(name, "node_"):
				v, kind = m.GetCounter().GetValue(), 'b'
			case mf.GetType() == dto.MetricType_COUNTER:
				v, kind = m.GetCounter().GetValue(), 'c'
			case mf.GetType() != dto.MetricType_GAUGE:
				continue
			case strings.HasSuffix(name, "_timestamp_seconds"), name == "node_time_seconds":
				kind = 't'
			case wanders.MatchString(name):
				v, kind = m.GetGauge().GetValue(), 'w'
			default:
				v, kind = m.GetGauge().GetValue(), 'k'
			}
			ls := []string{}
			for _, l := range m.Label {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			ls = append(ls, extra)
			all = append(all, series{name + "{" + strings.Join(ls, ",") + "}", v, kind})
		}
	}
	path := filepath.Join(t.TempDir(), "history.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	span := end.Sub(start).Seconds()
	// The host's counters grow at their average rate since boot and are 0
	// before it: CPU modes add up to one second a second.
	uptime := span
	if now, boot := families["node_time_seconds"].GetMetric(), families["node_boot_time_seconds"].GetMetric(); len(now) > 0 && len(boot) > 0 {
		uptime = now[0].GetGauge().GetValue() - boot[0].GetGauge().GetValue()
	}
	for i, s := range all {
		phase := float64(i)
		for ts := start; !ts.After(end); ts = ts.Add(15 * time.Second) {
			elapsed := ts.Sub(start).Seconds()
			v := s.value
			switch s.kind {
			case 'c':
				v = s.value * elapsed / span
			case 'b':
				v = max(0, s.value*(1-(span-elapsed)/uptime))
			case 'w':
				v = s.value * (1 + 0.05*math.Sin(2*math.Pi*elapsed/3600+phase))
			case 't':
				v = float64(ts.Unix())
			}
			fmt.Fprintf(w, "%s %g %d\n", s.labels, v, ts.Unix())
		}
	}
	writeFill(w, "fill", fill, start, end, 15*time.Second)
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	promtool(t, "tsdb", "create-blocks-from", "openmetrics", path, dir)
	t.Logf("backfilled %d series, %s every 15 s", len(all)+fill, end.Sub(start))
}

// fillHistory writes writeFill's series into TSDB blocks in dir.
func fillHistory(t *testing.T, dir, name string, series int, start, end time.Time, step time.Duration) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fill.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeFill(w, name, series, start, end, step)
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	promtool(t, "tsdb", "create-blocks-from", "openmetrics", path, dir)
}

// writeFill writes OpenMetrics of series gauges name{series="i"} of random values (which
// Prometheus's encoding cannot compress much) every step from start to end.
func writeFill(w io.Writer, name string, series int, start, end time.Time, step time.Duration) {
	if series == 0 {
		return
	}
	r := rand.New(rand.NewPCG(1, 1))
	fmt.Fprintf(w, "# TYPE %s gauge\n", name)
	for i := range series {
		for ts := start; ts.Before(end); ts = ts.Add(step) {
			fmt.Fprintf(w, "%s{series=\"%d\"} %.15g %d\n", name, i, r.Float64(), ts.Unix())
		}
	}
}

func promtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("promtool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
