//go:build integration

package integration

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// promLauncherBinary is the Debian package's binary; the integration tests run
// against the real thing.
const promLauncherBinary = "/usr/bin/prometheus"

// startPrometheus runs the real Prometheus with cfg as its configuration file
// content, on a free loopback port with its own temporary storage, and returns
// its base URL (http://127.0.0.1:PORT) once /-/ready answers 200. Prometheus
// is stopped on t.Cleanup; its log is dumped when the test failed.
func startPrometheus(t *testing.T, cfg string) (url string) {
	t.Helper()
	url, _ = startPrometheusWithLog(t, cfg)
	return url
}

// startPrometheusWithLog is startPrometheus that also returns a function
// reading Prometheus's log so far.
func startPrometheusWithLog(t *testing.T, cfg string) (url string, logText func() string) {
	t.Helper()
	url, logText, _ = startPrometheusStoppable(t, cfg)
	return url, logText
}

// startPrometheusStoppable is startPrometheusWithLog that also returns a
// function stopping Prometheus before the test ends.
func startPrometheusStoppable(t *testing.T, cfg string) (url string, logText func() string, stop func()) {
	t.Helper()
	return startPrometheusData(t, cfg, "")
}

// startPrometheusData is startPrometheusStoppable with the TSDB in dataDir
// (a new temporary directory when empty), so a test can start Prometheus on
// blocks it wrote.
func startPrometheusData(t *testing.T, cfg, dataDir string) (url string, logText func() string, stop func()) {
	t.Helper()
	return startPrometheusFlags(t, cfg, dataDir)
}

// startPrometheusFlags is startPrometheusData with more flags for Prometheus.
func startPrometheusFlags(t *testing.T, cfg, dataDir string, flags ...string) (url string, logText func() string, stop func()) {
	t.Helper()
	if _, err := os.Stat(promLauncherBinary); err != nil {
		t.Fatalf("%s is required for integration tests (apt-get install -y --no-install-recommends prometheus, or `make deps`): %v", promLauncherBinary, err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if dataDir == "" {
		dataDir = filepath.Join(dir, "data")
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// Another process may grab the port between Close and Prometheus's
	// bind; retry a few times when Prometheus exits early.
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		port := freeport.Port(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		log := &promLog{}
		cmd := exec.Command(promLauncherBinary, append([]string{
			"--config.file=" + cfgPath,
			"--web.listen-address=" + addr,
			"--storage.tsdb.path=" + dataDir,
			"--web.enable-lifecycle",
			"--log.level=info",
		}, flags...)...)
		cmd.Stdout = log
		cmd.Stderr = log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", promLauncherBinary, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()

		base := "http://" + addr
		if promWaitReady(base, exited, 60*time.Second) {
			stop := sync.OnceFunc(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(15 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("prometheus log (%s):\n%s", base, log.String())
				}
			})
			return base, log.String, stop
		}
		_ = cmd.Process.Kill()
		<-exited
		lastLog = log.String()
	}
	t.Fatalf("prometheus did not become ready; last log:\n%s", lastLog)
	return "", nil, nil
}

// pidOf finds the process whose command line holds arg.
func pidOf(t *testing.T, arg string) int {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		if slices.Contains(strings.Split(string(b), "\x00"), arg) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(c)))
			return pid
		}
	}
	t.Fatalf("no process with %s", arg)
	return 0
}

// promWaitReady polls /-/ready until it answers 200, the process exits, or
// the timeout passes.
func promWaitReady(base string, exited <-chan struct{}, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// promLog collects a child's output (Prometheus, or edgectl exec'ing into
// it); written by the exec copier goroutines and read by the test.
type promLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *promLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *promLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
