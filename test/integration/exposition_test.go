//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/promlint"
)

// strictOpenMetrics parses an OpenMetrics body on stdin with the parser of
// Debian's python3-prometheus-client, which follows the specification to
// the letter (one declaration per family, counters' _total, units, # EOF),
// and prints each family as "name type". Any exception fails the parse.
// /usr/bin/python3: the Debian package installs for Debian's interpreter,
// not whichever python3 comes first on PATH.
const strictOpenMetrics = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    print(f.name, f.type)
`

// parseOpenMetricsStrictly returns the families of body as "name type",
// or fails the test with the parser's traceback.
func parseOpenMetricsStrictly(t *testing.T, body []byte) []string {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-c", strictOpenMetrics)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if strings.Contains(stderr.String(), "No module named 'prometheus_client'") {
		t.Fatalf("python3-prometheus-client is not installed (scripts/deps.sh test): %s", stderr.String())
	}
	if err != nil {
		t.Fatalf("the strict OpenMetrics parser rejects the body: %v\n%s", err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// prometheusAccept returns the Accept header Debian's Prometheus sends
// when it scrapes: it scrapes a stand-in target that records it.
func prometheusAccept(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Accept"):
		default:
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, "# TYPE x gauge\nx 1\n")
	}))
	t.Cleanup(target.Close)
	startPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 100ms
  scrape_timeout: 90ms
scrape_configs:
  - job_name: recorder
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(target.URL, "http://")))
	select {
	case a := <-got:
		if a == "" {
			t.Fatal("Prometheus sent no Accept header")
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("Prometheus did not scrape the recorder within 30 s")
	}
	return ""
}

// TestExpositionStrictConsumers: /metrics in every format a client may ask
// for (Prometheus's own Accept header among them) passes the strict
// OpenMetrics parser of python3-prometheus-client or promtool check
// metrics, with simulated sensors and with the fixture trees alone; no
// family is declared twice, and the Go runtime metrics people use are there.
func TestExpositionStrictConsumers(t *testing.T) {
	promAccept := prometheusAccept(t)
	t.Logf("Prometheus sends Accept: %s", promAccept)
	daemons := map[string][]string{
		"simulated": nil,
		"fixtures":  {"--no-sensors.simulate", "--path.cgroupfs=" + repoPath(t, "test/fixtures/cgroup/v1")},
	}
	for name, args := range daemons {
		t.Run(name, func(t *testing.T) {
			addr := startDaemon(t, args...)
			for _, accept := range []string{promAccept, "application/openmetrics-text;version=1.0.0",
				"application/openmetrics-text;version=0.0.1", "text/plain;version=0.0.4", ""} {
				t.Run("accept="+accept, func(t *testing.T) { checkExposition(t, addr, accept) })
			}
		})
	}
}

// checkExposition fetches /metrics with the Accept header and hands the
// body to the consumer of its format.
func checkExposition(t *testing.T, addr, accept string) {
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	wantOM := strings.HasPrefix(accept, "application/openmetrics-text")
	if resp.StatusCode != 200 || strings.HasPrefix(ct, "application/openmetrics-text") != wantOM {
		t.Fatalf("status %d, Content-Type %q for Accept %q", resp.StatusCode, ct, accept)
	}
	if !wantOM {
		// promtool check metrics, but for node_exporter's own names
		if err := promlint.Check(body); err != nil {
			t.Fatal(err)
		}
		return
	}
	families := parseOpenMetricsStrictly(t, body)
	seen := map[string]bool{}
	for _, f := range families {
		name := strings.Fields(f)[0]
		if seen[name] {
			t.Errorf("family %s declared twice", name)
		}
		seen[name] = true
	}
	for _, want := range []string{"go_goroutines gauge", "go_threads gauge", "go_gc_duration_seconds summary",
		"go_memstats_alloc_bytes gauge", "go_memstats_heap_alloc_bytes gauge", "go_memstats_heap_inuse_bytes gauge",
		"go_memstats_sys_bytes gauge", "go_memstats_next_gc_bytes gauge", "go_memstats_mallocs counter",
		"go_gc_heap_allocs_bytes counter", "process_resident_memory_bytes gauge", "process_cpu_seconds counter",
		"edge_sensor_temperature_celsius gauge", "sensor_failed_events counter", "edge_sensor_build_info gauge"} {
		if !slices.Contains(families, want) {
			t.Errorf("no family %q in %v", want, families)
		}
	}
}
