//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
	"github.com/edgeobs/edge-observability-stack/internal/health"
)

// edgectlBuild compiles cmd/edgectl into a temporary directory, so the test
// exercises the real command line (flags, output, exit status).
func edgectlBuild(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	bin := filepath.Join(t.TempDir(), "edgectl")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/edgeobs/edge-observability-stack/cmd/edgectl")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building edgectl: %v\n%s", err, out)
	}
	return bin
}

type edgectlResult struct {
	code int
	out  string
	rep  health.Report
}

func edgectlStatus(t *testing.T, bin string, args ...string) edgectlResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"status", "--json"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := edgectlResult{out: stdout.String() + stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running edgectl: %v", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &res.rep); err != nil {
		t.Fatalf("edgectl status --json printed no report (%v):\n%s", err, res.out)
	}
	return res
}

func TestEdgectlStatusAgainstPrometheus(t *testing.T) {
	// The scrape target: a /metrics endpoint like the daemon's.
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_sensor_sensors", Help: "test"}, func() float64 { return 3 }))
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer target.Close()
	targetAddr := strings.TrimPrefix(target.URL, "http://")

	promURL := startPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 500ms
scrape_configs:
  - job_name: edge-sensord
    static_configs:
      - targets: [%q]
`, targetAddr))

	bin := edgectlBuild(t)
	fixture, err := filepath.Abs("../fixtures/cgroup/v2")
	if err != nil {
		t.Fatal(err)
	}
	// No systemd on the test machine: unit states come from the fixture's
	// cgroups; the window is short so the ratio reflects this test only.
	args := []string{"--no-systemd", "--path.cgroupfs", fixture, "--prometheus.url", promURL, "--window", "1m"}

	var res edgectlResult
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for {
			res = edgectlStatus(t, bin, args...)
			if cond() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; last edgectl status (exit %d):\n%s", what, res.code, res.out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	upWithRatio := func() bool {
		tg := res.rep.Prometheus
		return tg != nil && len(tg.Targets) == 1 && tg.Targets[0].Health == "up" && tg.Targets[0].SuccessRatio != nil
	}

	waitFor("the target to be up", upWithRatio)
	if res.code != 0 || res.rep.Status != "ok" {
		t.Fatalf("target up: exit %d, want 0:\n%s", res.code, res.out)
	}
	tg := res.rep.Prometheus.Targets[0]
	if tg.Job != "edge-sensord" || tg.Instance != targetAddr || *tg.SuccessRatio != 1 {
		t.Errorf("target %+v, want job edge-sensord, instance %s, success ratio 1", tg, targetAddr)
	}
	if len(res.rep.Units) != 3 || res.rep.Total.MemoryBytes == nil || *res.rep.Total.MemoryBytes != 138412032 {
		t.Errorf("units/total from the fixture: %+v %+v", res.rep.Units, res.rep.Total)
	}

	// The library gives the same verdict as the command.
	rep := health.Check(context.Background(), health.Options{
		Cgroup: cgroup.Reader{Root: fixture}, Slice: "edge-observability.slice", Budget: 150 << 20,
		PrometheusURL: promURL, Window: time.Minute, MinSuccess: 0.999,
	})
	if rep.ExitCode != 0 {
		t.Errorf("health.Check: exit %d, problems %q, unknown %q", rep.ExitCode, rep.Problems, rep.Unknown)
	}

	// The table output says the same.
	out, err := exec.Command(bin, append([]string{"status"}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "status: OK") || !strings.Contains(string(out), targetAddr) {
		t.Errorf("table output (err %v):\n%s", err, out)
	}

	// Take the target away: Prometheus marks it down and edgectl fails.
	target.Close()
	waitFor("the target to be down", func() bool {
		tg := res.rep.Prometheus
		return tg != nil && len(tg.Targets) == 1 && tg.Targets[0].Health == "down"
	})
	if res.code != 1 || res.rep.Status != "unhealthy" {
		t.Fatalf("target down: exit %d, want 1:\n%s", res.code, res.out)
	}
	if !strings.Contains(strings.Join(res.rep.Problems, "\n"), "edge-sensord/"+targetAddr+" is down") {
		t.Errorf("problems %q do not name the down target", res.rep.Problems)
	}

	// Prometheus itself gone: health cannot be determined.
	stopped, err := http.Post(promURL+"/-/quit", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res = edgectlStatus(t, bin, args...)
		if res.code == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if res.code != 3 || res.rep.Status != "unknown" {
		t.Errorf("prometheus stopped: exit %d, want 3:\n%s", res.code, res.out)
	}
}
