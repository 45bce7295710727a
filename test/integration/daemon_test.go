//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// repoPath returns a path relative to the repository root.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startDaemon runs bin/edge-sensord (built by `make build`) on a free port
// with the repository's fixture trees and simulated sensors, and returns its
// address once /healthz answers. Extra args override the defaults.
func startDaemon(t *testing.T, args ...string) string {
	t.Helper()
	addr, _ := startDaemonIn(t, nil, nil, args...)
	return addr
}

// startDaemonStoppable is startDaemon that also returns a function stopping
// the daemon (SIGTERM) before the test ends; a new startDaemon with
// --web.listen-address=ADDR brings it back on the same address.
func startDaemonStoppable(t *testing.T, args ...string) (addr string, stop func()) {
	t.Helper()
	return startDaemonIn(t, nil, nil, args...)
}

// startDaemonIn is startDaemonStoppable with env added to the daemon's
// environment, inside the memory cgroup cg when it is not nil.
func startDaemonIn(t *testing.T, cg *memCgroup, env []string, args ...string) (addr string, stop func()) {
	t.Helper()
	bin := repoPath(t, "bin/edge-sensord")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make build` first: %v", bin, err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	base := []string{"--web.listen-address=" + addr, "--sensors.simulate", "--poll.interval=1s",
		"--path.sysfs=" + repoPath(t, "test/fixtures/sysfs"),
		"--path.cgroupfs=" + repoPath(t, "test/fixtures/cgroup/v2")}
	// kingpin refuses a repeated flag: the caller's value (--x=v, or
	// --no-x for a boolean) replaces the default.
	flagName := func(a string) string {
		return strings.Replace(strings.SplitN(a, "=", 2)[0], "--no-", "--", 1)
	}
	var argv []string
	for _, d := range base {
		overridden := false
		for _, a := range args {
			overridden = overridden || flagName(a) == flagName(d)
		}
		if !overridden {
			argv = append(argv, d)
		}
	}
	for _, a := range args {
		if l, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			addr = l
		}
	}
	argv = append(append([]string{bin}, argv...), args...)
	if cg != nil {
		argv = cg.wrap(argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out := &promLog{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = sync.OnceFunc(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("edge-sensord log:\n%s", out.String())
		}
	})
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			// 401: up, behind the basic auth of a --web.config.file.
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return addr, stop
			}
		}
		select {
		case <-done:
			t.Fatalf("edge-sensord exited:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("edge-sensord not healthy:\n%s", out.String())
	return "", nil
}

// rulesConfig is a prometheus.yml scraping the daemon at addr every second
// and evaluating the shipped rules every second.
func rulesConfig(t *testing.T, addr string) string {
	return fmt.Sprintf(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: edge-sensord
    static_configs:
      - targets: [%q]
`, repoPath(t, "etc/prometheus/rules/edge-observability.yml"), addr)
}

// writeTimex sets the clock's status the daemon reads (--clock.timex-file):
// the kernel's maximum error, below 16 s when synchronised.
func writeTimex(t *testing.T, path string, synced bool) {
	t.Helper()
	maxerr := 16_000_000
	if synced {
		maxerr = 37_000
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("maxerror=%d\n", maxerr)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// promQuery runs an instant query and returns the first sample's value.
func promQuery(t *testing.T, prom, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %q: %v %s", q, err, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	var v float64
	fmt.Sscan(r.Data.Result[0].Value[1].(string), &v)
	return v, true
}

// TestPrometheusScrapesDaemon: Debian's real Prometheus scrapes the real
// daemon every 100 ms; at least 100 scrapes, none failed, no complaint about
// the exposition in Prometheus's log.
func TestPrometheusScrapesDaemon(t *testing.T) {
	addr := startDaemon(t, "--poll.interval=500ms")
	prom, promLog := startPrometheusWithLog(t, fmt.Sprintf(`
global:
  scrape_interval: 100ms
  scrape_timeout: 90ms
scrape_configs:
  - job_name: edge-sensord
    static_configs:
      - targets: [%q]
`, addr))

	const want = 100
	deadline := time.Now().Add(90 * time.Second)
	var n float64
	for time.Now().Before(deadline) {
		n, _ = promQuery(t, prom, `count_over_time(up{job="edge-sensord"}[5m])`)
		if n >= want+10 {
			break
		}
		time.Sleep(time.Second)
	}
	if n < want {
		t.Fatalf("only %v scrapes in 90s", n)
	}
	// up==0 for a scrape means it failed. One query, so that both counts
	// are of the same moment: scrapes go on between two queries.
	if failed, _ := promQuery(t, prom, `count_over_time(up{job="edge-sensord"}[5m]) - sum_over_time(up{job="edge-sensord"}[5m])`); failed != 0 {
		t.Fatalf("%v of about %v scrapes failed", failed, n)
	}
	if v, ok := promQuery(t, prom, `edge_sensor_temperature_celsius{sensor="simulated_cpu_temp"}`); !ok || v < 20 || v > 90 {
		t.Fatalf("simulated temperature not scraped: %v %v", v, ok)
	}
	if v, ok := promQuery(t, prom, `sum(prometheus_target_scrapes_exceeded_sample_limit_total) + sum(prometheus_target_scrapes_sample_out_of_order_total) + sum(prometheus_target_scrapes_sample_duplicate_timestamp_total)`); ok && v != 0 {
		t.Fatalf("scrape anomalies: %v", v)
	}
	t.Logf("%v scrapes, all succeeded", n)
	for _, bad := range []string{"content type", "content_type", "Failed to determine correct type", "invalid metric type", "error on ingesting", "Append failed"} {
		if strings.Contains(promLog(), bad) {
			t.Fatalf("Prometheus log mentions %q:\n%s", bad, promLog())
		}
	}
}
