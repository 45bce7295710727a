//go:build integration

package integration

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"

	"github.com/edgeobs/edge-observability-stack/internal/promargs"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// fleetOutage is how long the central engine stays down. The requirement is
// "several minutes"; raise it for longer soaks (FLEET_OUTAGE=10m overrides).
const fleetOutage = 2*time.Minute + 15*time.Second

// fleetSteady is how long the device forwards before the outage; the RSS of
// the device with and without remote_write is logged at its end
// (FLEET_STEADY=5m overrides, for the figures in docs/FLEET.md).
const fleetSteady = 20 * time.Second

const fleetPromBin = "/usr/bin/prometheus"

func fleetEnvDuration(t *testing.T, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

func fleetRequireProm(t *testing.T) {
	t.Helper()
	for _, b := range []string{fleetPromBin, "/usr/bin/promtool"} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s is required (apt-get install -y --no-install-recommends prometheus, or `make deps`): %v", b, err)
		}
	}
}

// fleetProc is a running Prometheus (or edgectl exec'ing into one).
type fleetProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	base   string
	log    *promLog
	exited chan struct{}
}

// fleetStart runs bin with args, which must make it listen on addr, and waits
// for /-/ready. The process is stopped on cleanup; its log is printed when
// the test failed.
func fleetStart(t *testing.T, name, addr, bin string, args ...string) *fleetProc {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	return startProc(t, name, "http://"+addr, func() bool {
		resp, err := client.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, bin, args...)
}

// startProc runs bin with args and waits (60 s) until ready says so. The
// process is stopped on cleanup; its log is printed when the test failed.
func startProc(t *testing.T, name, base string, ready func() bool, bin string, args ...string) *fleetProc {
	t.Helper()
	p := &fleetProc{t: t, name: name, base: base, log: &promLog{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: start %s: %v", name, bin, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before becoming ready:\n%s", name, p.log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s:\n%s", name, p.log.String())
		}
	}
	return p
}

func (p *fleetProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// vmRSS returns VmRSS of the process in KiB.
func (p *fleetProc) vmRSS() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	p.t.Fatalf("%s: no VmRSS", p.name)
	return 0
}

type fleetSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// fleetQuery runs an instant query returning a matrix (a range selector) or
// a vector (converted to one value per series).
func fleetQuery(base, q string, at time.Time) ([]fleetSeries, error) {
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, err := http.Get(base + "/api/v1/query?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	var out []fleetSeries
	for _, raw := range r.Data.Result {
		var s fleetSeries
		if r.Data.ResultType == "vector" {
			var vs struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			}
			if err := json.Unmarshal(raw, &vs); err != nil {
				return nil, err
			}
			s = fleetSeries{Metric: vs.Metric, Values: [][2]any{vs.Value}}
		} else if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// fleetTimestamps returns the sample timestamps (ms) of the single series
// selected by sel over (at-window, at].
func fleetTimestamps(t *testing.T, base, sel string, window time.Duration, at time.Time) []int64 {
	t.Helper()
	res, err := fleetQuery(base, fmt.Sprintf("%s[%ds]", sel, int(window.Seconds())), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) > 1 {
		t.Fatalf("%s: want one series, got %d", sel, len(res))
	}
	var ts []int64
	for _, s := range res {
		for _, v := range s.Values {
			ts = append(ts, int64(v[0].(float64)*1000+0.5))
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// fleetWaitFor polls cond every second until it is true or timeout passes.
func fleetWaitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(time.Second)
	}
	t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, last)
}

// fleetRender renders prometheus.yml through the same code edgectl uses.
func fleetRender(t *testing.T, dir, name, userCfg, defaults string) string {
	t.Helper()
	in := filepath.Join(dir, name+".in.yml")
	def := filepath.Join(dir, name+".defaults")
	mid := filepath.Join(dir, "machine-id")
	out := filepath.Join(dir, name+".yml")
	for p, c := range map[string]string{in: userCfg, def: defaults, mid: "0123456789abcdef0123456789abcdef\n"} {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := settings.Load(def)
	if err != nil {
		t.Fatal(err)
	}
	data, err := promconfig.RenderFile(in, s, mid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func fleetCentralArgs(dir, addr string) []string {
	cfg := filepath.Join(dir, "central.yml")
	_ = os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\n"), 0o644)
	return []string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "central-data"),
		"--web.listen-address=" + addr,
		"--web.enable-remote-write-receiver",
	}
}

// TestFleetRemoteWriteSurvivesOutage: a device Prometheus configured by the
// renderer forwards to a central one; the central is down for several
// minutes; afterwards every sample the device scraped during the outage is
// present at the central.
func TestFleetRemoteWriteSurvivesOutage(t *testing.T) {
	fleetRequireProm(t)
	outage := fleetEnvDuration(t, "FLEET_OUTAGE", fleetOutage)
	steady := fleetEnvDuration(t, "FLEET_STEADY", fleetSteady)
	dir := t.TempDir()
	start := time.Now()

	centralAddr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	central := fleetStart(t, "central", centralAddr, fleetPromBin, fleetCentralArgs(dir, centralAddr)...)

	devAddr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	offAddr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	// Both device instances scrape the same two targets (each other and
	// themselves) every second, so their load is identical and only
	// remote_write differs.
	userCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: load
    scrape_interval: 1s
    static_configs:
      - targets: ['%s', '%s']
`, devAddr, offAddr)
	onCfg := fleetRender(t, dir, "device-on", userCfg, fmt.Sprintf(
		"EDGE_REMOTE_WRITE_URL=http://%s/api/v1/write\nEDGE_DEVICE_ID=dev-1\nEDGE_SITE=lab\nEDGE_ROLE=gateway\nEDGE_EXTERNAL_LABELS=rack=r7\n", centralAddr))
	offCfg := fleetRender(t, dir, "device-off", userCfg, "EDGE_DEVICE_ID=dev-off\n")
	if out, err := exec.Command("/usr/bin/promtool", "check", "config", onCfg).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	// The flags the full profile's drop-in passes.
	devArgs := func(cfg, addr, data string) []string {
		return promargs.Build(false, cfg, []string{
			"--storage.tsdb.path=" + filepath.Join(dir, data),
			"--storage.tsdb.retention.time=12h", "--storage.tsdb.retention.size=256MB",
			"--web.listen-address=" + addr,
		})
	}
	device := fleetStart(t, "device", devAddr, fleetPromBin, devArgs(onCfg, devAddr, "device-on-data")...)
	deviceOff := fleetStart(t, "device-off", offAddr, fleetPromBin, devArgs(offCfg, offAddr, "device-off-data")...)

	sel := fmt.Sprintf(`up{job="load",instance=%q}`, devAddr)
	centralSel := fmt.Sprintf(`up{job="load",instance=%q,device="dev-1"}`, devAddr)
	fleetWaitFor(t, "series at the central", 60*time.Second, func() (bool, string) {
		res, err := fleetQuery(central.base, centralSel, time.Time{})
		if err != nil || len(res) != 1 {
			return false, fmt.Sprint(res, err)
		}
		m := res[0].Metric
		want := map[string]string{"device": "dev-1", "site": "lab", "role": "gateway", "rack": "r7"}
		for k, v := range want {
			if m[k] != v {
				t.Fatalf("central series %v: label %s=%q, want %q", m, k, m[k], v)
			}
		}
		return true, ""
	})
	// The instance without remote_write sends nothing.
	if res, err := fleetQuery(central.base, `count({device="dev-off"})`, time.Time{}); err != nil || len(res) != 0 {
		t.Fatalf("device-off series at the central: %v %v", res, err)
	}

	time.Sleep(steady)
	// Resident memory with and without remote_write, same scrape load.
	on, off := device.vmRSS(), deviceOff.vmRSS()
	load := "?"
	if res, err := fleetQuery(device.base, `sum(scrape_samples_scraped{job="load"})`, time.Time{}); err == nil && len(res) == 1 {
		load = fmt.Sprint(res[0].Values[0][1])
	}
	t.Logf("steady RSS after %v (%s/%s, prometheus 2.42, %s samples per 1s scrape round): remote_write on %d KiB, off %d KiB, delta %+d KiB",
		time.Since(start).Round(time.Second), runtime.GOOS, runtime.GOARCH, load, on, off, on-off)

	central.stop()
	outageStart := time.Now()
	t.Logf("central stopped; outage of %v", outage)
	time.Sleep(outage)
	central = fleetStart(t, "central (restarted)", centralAddr, fleetPromBin, fleetCentralArgs(dir, centralAddr)...)
	outageEnd := time.Now()
	t.Logf("central back after %v", outageEnd.Sub(outageStart).Round(time.Second))

	// Compare the window from 5s before the outage to 5s after it.
	at := outageEnd.Add(5 * time.Second)
	window := at.Sub(outageStart.Add(-5 * time.Second)).Truncate(time.Second)
	time.Sleep(time.Until(at) + 2*time.Second)
	want := fleetTimestamps(t, device.base, sel, window, at)
	if min := int(0.9 * window.Seconds()); len(want) < min {
		t.Fatalf("device itself has only %d samples in the %v window, want >= %d (1s scrapes)", len(want), window, min)
	}
	var got []int64
	fleetWaitFor(t, "the outage backlog at the central", 3*time.Minute, func() (bool, string) {
		got = fleetTimestamps(t, central.base, centralSel, window, at)
		return len(got) == len(want), fmt.Sprintf("central %d samples, device %d", len(got), len(want))
	})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: central has timestamp %d, device %d", i, got[i], want[i])
		}
	}
	t.Logf("outage window %v: device %d samples, central %d samples, all timestamps equal", window, len(want), len(got))

	on, off = device.vmRSS(), deviceOff.vmRSS()
	t.Logf("RSS after the outage and catch-up, %v (%s/%s): remote_write on %d KiB, off %d KiB, delta %+d KiB",
		time.Since(start).Round(time.Second), runtime.GOOS, runtime.GOARCH, on, off, on-off)
}

// TestFleetLeanProfileAgentForwards runs the real "edgectl prometheus-exec"
// with the lean profile and the flags of the prometheus.service drop-in: it
// must exec Prometheus in agent mode (same PID) despite the server-only
// flags and the user's rule_files, and the
// agent must forward to the central.
func TestFleetLeanProfileAgentForwards(t *testing.T) {
	fleetRequireProm(t)
	dir := t.TempDir()
	edgectl := filepath.Join(dir, "edgectl")
	build := exec.Command("go", "build", "-o", edgectl, "./cmd/edgectl")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/edgectl: %v\n%s", err, out)
	}

	centralAddr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	central := fleetStart(t, "central", centralAddr, fleetPromBin, fleetCentralArgs(dir, centralAddr)...)

	agentAddr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	rules := filepath.Join(dir, "rules.yml")
	userCfg := filepath.Join(dir, "prometheus.yml")
	defaults := filepath.Join(dir, "edge-observability")
	mid := filepath.Join(dir, "machine-id")
	for p, c := range map[string]string{
		rules: "groups: []\n",
		userCfg: fmt.Sprintf("global:\n  scrape_interval: 1s\nrule_files:\n  - %s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['%s']\n",
			rules, agentAddr),
		defaults: fmt.Sprintf("EDGE_REMOTE_WRITE_URL=http://%s/api/v1/write\nEDGE_DEVICE_ID=lean-1\nEDGE_PROFILE=lean\n", centralAddr),
		mid:      "0123456789abcdef0123456789abcdef\n",
	} {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "rendered.yml")
	agent := fleetStart(t, "edgectl prometheus-exec (lean)", agentAddr, edgectl, "prometheus-exec",
		"--config.in", userCfg, "--defaults", defaults, "--machine-id", mid, "--config.out", out,
		"--prometheus", fleetPromBin, "--",
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--storage.tsdb.retention.time=12h",
		"--storage.tsdb.retention.size=256MB", "--web.listen-address="+agentAddr,
		"--query.max-concurrency=2", "--query.max-samples=50000", "--query.timeout=15s",
		"--web.max-connections=64", "--storage.agent.path="+filepath.Join(dir, "agent"))

	// Same PID, now Prometheus in agent mode.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", agent.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if args[0] != fleetPromBin || !fleetContains(args, "--enable-feature=agent") || !fleetContains(args, "--config.file="+out) {
		t.Fatalf("process %d runs %q, want %s in agent mode with the rendered config", agent.cmd.Process.Pid, args, fleetPromBin)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--storage.tsdb.") || strings.HasPrefix(a, "--query.") {
			t.Fatalf("lean profile kept %s", a)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "agent", "wal")); err != nil {
		t.Fatalf("agent WAL: %v", err)
	}
	fleetWaitFor(t, "agent series at the central", 60*time.Second, func() (bool, string) {
		res, err := fleetQuery(central.base, `up{job="self",device="lean-1"}`, time.Time{})
		return err == nil && len(res) == 1, fmt.Sprint(res, err)
	})
}

func fleetContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFleetRenderedConfigsPassPromtool checks the renderer's output for each
// auth/TLS variant with promtool (agent mode for the lean profile).
func TestFleetRenderedConfigsPassPromtool(t *testing.T) {
	fleetRequireProm(t)
	dir := t.TempDir()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	ca := filepath.Join(dir, "ca.pem")
	pw := filepath.Join(dir, "password")
	tok := filepath.Join(dir, "token")
	rules := filepath.Join(dir, "rules.yml")
	for p, c := range map[string][]byte{
		ca:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		pw:    []byte("secret\n"),
		tok:   []byte("token\n"),
		rules: []byte("groups:\n  - name: g\n    rules:\n      - record: x:up\n        expr: up\n"),
	} {
		if err := os.WriteFile(p, c, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x509.ParseCertificate(srv.Certificate().Raw); err != nil {
		t.Fatal(err)
	}
	userCfg := fmt.Sprintf(`global:
  scrape_interval: 15s
  external_labels:
    cluster: edge
rule_files:
  - %s
scrape_configs:
  - job_name: edge-sensord
    static_configs:
      - targets: ['127.0.0.1:8000']
`, rules)
	cases := map[string]string{
		"off":    "",
		"plain":  "EDGE_REMOTE_WRITE_URL=http://central:9090/api/v1/write\nEDGE_SITE=lab\n",
		"basic":  fmt.Sprintf("EDGE_REMOTE_WRITE_URL=https://mimir.example/api/v1/push\nEDGE_REMOTE_WRITE_USERNAME=dev\nEDGE_REMOTE_WRITE_PASSWORD_FILE=%s\nEDGE_REMOTE_WRITE_CA_FILE=%s\nEDGE_REMOTE_WRITE_HEADERS=X-Scope-OrgID=tenant1\n", pw, ca),
		"bearer": fmt.Sprintf("EDGE_REMOTE_WRITE_URL=https://vm.example/api/v1/write\nEDGE_REMOTE_WRITE_BEARER_TOKEN_FILE=%s\nEDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=true\nEDGE_ROLE=gw\nEDGE_EXTERNAL_LABELS=a=b,c=d\n", tok),
		"lean":   fmt.Sprintf("EDGE_REMOTE_WRITE_URL=https://mimir.example/api/v1/push\nEDGE_REMOTE_WRITE_BEARER_TOKEN_FILE=%s\nEDGE_PROFILE=lean\n", tok),
	}
	for name, defaults := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := fleetRender(t, dir, name, userCfg, defaults)
			args := []string{"check", "config", cfg}
			if name == "lean" {
				args = []string{"check", "config", "--agent", cfg}
			}
			if out, err := exec.Command("/usr/bin/promtool", args...).CombinedOutput(); err != nil {
				b, _ := os.ReadFile(cfg)
				t.Fatalf("promtool %v: %v\n%s\nconfig:\n%s", args, err, out, b)
			}
		})
	}
}
