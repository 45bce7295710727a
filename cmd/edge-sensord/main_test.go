package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// The daemon is tested as the real process systemd would run: built once,
// started with NOTIFY_SOCKET pointing at a unixgram socket in a temp dir.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edge-sensord-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "edge-sensord")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	sock   *net.UnixConn
	addr   string
	stderr *bytes.Buffer
	done   chan error
}

// start runs the daemon with a notify socket and the given extra env and args.
func start(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, addr: freeport.Addr(t), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	sockPath := filepath.Join(t.TempDir(), "notify.sock")
	var err error
	d.sock, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.sock.Close() })
	base := []string{"--web.listen-address=" + d.addr, "--path.sysfs=" + t.TempDir(), "--path.procfs=/proc",
		"--path.cgroupfs=" + t.TempDir(), "--sensors.simulate", "--poll.interval=200ms"}
	d.cmd = exec.Command(binary, overrideFlags(base, args)...)
	d.cmd.Env = append(append(cleanEnv(), "NOTIFY_SOCKET="+sockPath), env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("daemon stderr:\n%s", d.stderr)
		}
	})
	return d
}

// cleanEnv is the test's environment without systemd's variables, which
// would point the daemon at the manager running the tests.
func cleanEnv() []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "NOTIFY_SOCKET=") && !strings.HasPrefix(e, "WATCHDOG_") && !strings.HasPrefix(e, "LISTEN_") && !strings.HasPrefix(e, "RUNTIME_DIRECTORY=") {
			out = append(out, e)
		}
	}
	return out
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// overrideFlags appends args to defaults, dropping a default that args set
// again (kingpin refuses repeated flags; --no-x sets x).
func overrideFlags(defaults, args []string) []string {
	name := func(a string) string {
		n := strings.SplitN(a, "=", 2)[0]
		return strings.Replace(n, "--no-", "--", 1)
	}
	set := map[string]bool{}
	for _, a := range args {
		set[name(a)] = true
	}
	var out []string
	for _, d := range defaults {
		if !set[name(d)] {
			out = append(out, d)
		}
	}
	return append(out, args...)
}

// next returns the next notify message containing want, skipping others.
func (d *daemon) next(want string, within time.Duration) string {
	d.t.Helper()
	deadline := time.Now().Add(within)
	buf := make([]byte, 4096)
	for {
		d.sock.SetReadDeadline(deadline)
		n, err := d.sock.Read(buf)
		if err != nil {
			d.t.Fatalf("no notify message containing %q within %s: %v", want, within, err)
		}
		if m := string(buf[:n]); strings.Contains(m, want) {
			return m
		}
	}
}

func (d *daemon) get(path string) (int, string, string) {
	d.t.Helper()
	resp, err := httpClient.Get("http://" + d.addr + path)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func (d *daemon) wait(within time.Duration) int {
	d.t.Helper()
	select {
	case err := <-d.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			d.t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		d.t.Fatalf("daemon did not exit within %s", within)
		return -1
	}
}

func TestLifecycle(t *testing.T) {
	d := start(t, []string{"WATCHDOG_USEC=400000"})
	ready := d.next("READY=1", 10*time.Second)
	if !strings.Contains(ready, "STATUS=") || !strings.Contains(ready, "sensors, last poll") {
		t.Fatalf("READY without a status line: %q", ready)
	}
	// READY means it can serve: the first scrape already has sensor data.
	code, ct, body := d.get("/metrics")
	if code != 200 || !strings.HasPrefix(ct, "text/plain; version=0.0.4") || !strings.Contains(body, "edge_sensor_temperature_celsius{") {
		t.Fatalf("/metrics right after READY: %d %q\n%s", code, ct, body)
	}
	// One CPU for the Go runtime unless told otherwise, like node_exporter.
	if !strings.Contains(body, "\ngo_sched_gomaxprocs_threads 1\n") {
		t.Fatalf("GOMAXPROCS is not 1 by default:\n%s", body)
	}
	// A small heap: collections at 25% growth unless GOGC says otherwise.
	if !strings.Contains(body, "\ngo_gc_gogc_percent 25\n") {
		t.Fatalf("GOGC is not 25 by default:\n%s", body)
	}
	d.next("WATCHDOG=1", 2*time.Second)
	d.next("STATUS=", 3*time.Second)
	// /metrics bodies are cached per poll: a later poll must show up.
	_, _, later := d.get("/metrics")
	if a, b := lastPoll(t, body), lastPoll(t, later); b <= a {
		t.Fatalf("last poll timestamp did not advance across polls: %v then %v", a, b)
	}

	d.cmd.Process.Signal(syscall.SIGHUP)
	if m := d.next("RELOADING=1", 5*time.Second); !strings.Contains(m, "MONOTONIC_USEC=") {
		t.Fatalf("reload notice without MONOTONIC_USEC: %q", m)
	}
	d.next("READY=1", 5*time.Second)

	d.cmd.Process.Signal(syscall.SIGTERM)
	d.next("STOPPING=1", 5*time.Second)
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

func lastPoll(t *testing.T, body string) float64 {
	t.Helper()
	const name = "edge_sensor_poll_last_success_timestamp_seconds "
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in\n%s", name, body)
	return 0
}

func TestBadConfigRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte("poll_interval: 5s\nstale_afterr: 3\n"), 0o644)
	d := start(t, nil, "--config.file="+cfg)
	if code := d.wait(10 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if want := cfg + `:2: field \"stale_afterr\": unknown field`; !strings.Contains(d.stderr.String(), want) {
		t.Fatalf("stderr does not name file, line and field (%s):\n%s", want, d.stderr)
	}
	d.sock.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := d.sock.Read(make([]byte, 512)); n > 0 {
		t.Fatal("a daemon that refused to start sent a notify message")
	}

	web := filepath.Join(dir, "web.yml")
	os.WriteFile(web, []byte("tls_server_config:\n  cert_file: /nonexistent.crt\n"), 0o644)
	d = start(t, nil, "--web.config.file="+web)
	if code := d.wait(10 * time.Second); code != 1 || !strings.Contains(d.stderr.String(), "invalid web configuration") {
		t.Fatalf("bad web config: exit %d\n%s", code, d.stderr)
	}

	for _, bad := range []struct{ arg, env, want string }{
		{"--poll.interval=fast", "", "poll.interval"},
		{"--runtime.gomaxprocs=0", "", "--runtime.gomaxprocs must be >= 1, got 0"},
		{"", "GOMAXPROCS=many", "runtime.gomaxprocs"},
		{"--runtime.gogc=0", "", `--runtime.gogc=0: must be >= 1 or "off"`},
		{"", "GOGC=lots", "runtime.gogc"},
	} {
		var env []string
		if bad.env != "" {
			env = []string{bad.env}
		}
		d = start(t, env, bad.arg)
		if code := d.wait(10 * time.Second); code != 2 || !strings.Contains(d.stderr.String(), bad.want) {
			t.Fatalf("bad flag %q %q: exit %d\n%s", bad.arg, bad.env, code, d.stderr)
		}
	}

	// Flags go through the config file's checks, MaxStaleAfter included;
	// a watchdog systemd asked for but in a form not understood is refused.
	for _, bad := range []struct{ arg, env, want string }{
		{"--sensors.stale-after=10001", "", "--sensors.stale-after must be a whole number of poll intervals from 1 to 10000"},
		{"--poll.interval=10ms", "", "--poll.interval must be between 100ms and 1h0m0s"},
		{"--cpu.spike-threshold=1.5", "", "--cpu.spike-threshold must be a ratio in (0, 1]"},
		{"", "WATCHDOG_USEC=5s", "WATCHDOG_USEC"},
	} {
		var env []string
		if bad.env != "" {
			env = []string{bad.env}
		}
		var args []string
		if bad.arg != "" {
			args = []string{bad.arg}
		}
		d = start(t, env, args...)
		if code := d.wait(10 * time.Second); code != 1 || !strings.Contains(d.stderr.String(), bad.want) {
			t.Fatalf("bad %q %q: exit %d, want 1 and %q\n%s", bad.arg, bad.env, code, bad.want, d.stderr)
		}
	}

	// A --path.* root that is not a directory is a typo, not a machine
	// without sensors: the start fails naming the flag and the path.
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o644)
	for _, bad := range []struct{ arg, want string }{
		{"--path.sysfs=/nonexistent", "--path.sysfs=/nonexistent: no such directory"},
		{"--path.procfs=" + notDir, "--path.procfs=" + notDir + ": not a directory"},
		{"--path.cgroupfs=" + filepath.Join(dir, "none"), "--path.cgroupfs=" + filepath.Join(dir, "none") + ": no such directory"},
	} {
		d = start(t, nil, bad.arg)
		if code := d.wait(10 * time.Second); code != 1 || !strings.Contains(d.stderr.String(), bad.want) {
			t.Fatalf("%s: exit %d, want 1 and %q\n%s", bad.arg, code, bad.want, d.stderr)
		}
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	d = start(t, nil, "--web.listen-address="+busy.Addr().String())
	if code := d.wait(10 * time.Second); code != 1 || !strings.Contains(d.stderr.String(), "cannot listen") {
		t.Fatalf("port in use: exit %d\n%s", code, d.stderr)
	}
}

// residentFile is the daemon's file-backed resident memory in kB.
func (d *daemon) residentFile() int {
	d.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "kB")))
			if err != nil {
				d.t.Fatal(err)
			}
			return n
		}
	}
	d.t.Fatalf("no RssFile in /proc/%d/status", d.cmd.Process.Pid)
	return 0
}

func TestStartupPagesPagedOut(t *testing.T) {
	// One daemon at a time: the kernel keeps pages another process maps.
	resident := func(args ...string) int {
		d := start(t, nil, args...)
		d.next("READY=1", 10*time.Second)
		if code, _, _ := d.get("/metrics"); code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		kb := d.residentFile()
		d.cmd.Process.Signal(syscall.SIGTERM)
		d.wait(10 * time.Second)
		return kb
	}
	kept := resident("--no-runtime.pageout")
	paged := resident()
	t.Logf("executable resident after the first scrape: %d kB kept, %d kB with page-out", kept, paged)
	// About 2.5 MiB in steady state (docs/BENCHMARKS.md); a scrape faults back what it runs.
	if paged > kept-1024 {
		t.Fatalf("page-out left %d kB of the executable resident, %d kB without it", paged, kept)
	}
}

// /sensor on a sensor whose every read failed: the kind, unit and chip its
// source tried to read, and no time (null, not 0001-01-01T00:00:00Z).
func TestNeverReadSensorJSON(t *testing.T) {
	sysfs, _ := filepath.Abs("../../test/fixtures/sysfs")
	d := start(t, nil, "--path.sysfs="+sysfs, "--no-sensors.simulate", "--poll.interval=1h")
	d.next("READY=1", 10*time.Second)
	code, _, body := d.get("/sensor/thermal_zone2_cpu_thermal")
	var s map[string]any
	if err := json.Unmarshal([]byte(body), &s); err != nil || code != 200 {
		t.Fatalf("%d %s: %v", code, body, err)
	}
	if s["kind"] != "temperature" || s["unit"] != "celsius" || s["chip"] != "cpu-thermal" || s["status"] != "error" {
		t.Errorf("kind, unit, chip or status wrong: %s", body)
	}
	if v, ok := s["time"]; !ok || v != nil {
		t.Errorf("time of a sensor never read is not null: %s", body)
	}
}

// An existing sysfs without sensors is a machine without sensors: the
// daemon starts and says how to simulate some.
func TestNoSensorsSaysSimulate(t *testing.T) {
	d := start(t, nil, "--no-sensors.simulate")
	if m := d.next("READY=1", 10*time.Second); !strings.Contains(m, "STATUS=0 sensors") {
		t.Fatalf("READY on an empty sysfs: %q", m)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(10 * time.Second); code != 0 || !strings.Contains(d.stderr.String(), "no sensors found; run with --sensors.simulate") {
		t.Fatalf("exit %d, or no hint to --sensors.simulate:\n%s", code, d.stderr)
	}
}

// The status line counts Prometheus's alerts, and says when it cannot.
func TestStatusLineCountsAlerts(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/alerts" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"alerts":[`+
			`{"labels":{"alertname":"A","severity":"critical"},"state":"firing"},`+
			`{"labels":{"alertname":"B","severity":"warning"},"state":"firing"},`+
			`{"labels":{"alertname":"C","severity":"warning"},"state":"pending"}]}}`)
	}))
	defer prom.Close()
	d := start(t, nil, "--prometheus.url="+prom.URL)
	d.next("READY=1", 10*time.Second)
	if m := d.next("STATUS=", 5*time.Second); !strings.Contains(m, "sensors, last poll") || !strings.HasSuffix(m, "; 2 alerts firing (1 critical), 1 pending") {
		t.Fatalf("status line with Prometheus's alerts: %q", m)
	}
	gone := "http://" + freeport.Addr(t)
	d = start(t, nil, "--prometheus.url="+gone)
	d.next("READY=1", 10*time.Second)
	if m := d.next("STATUS=", 5*time.Second); !strings.Contains(m, "; alerts unknown: Prometheus at "+gone+" is not answering") {
		t.Fatalf("status line without Prometheus: %q", m)
	}
}

// A procfs root without the files the host CPU and the daemon's own
// metrics come from: the log says which files, in words, once.
func TestUnreadableProcfsNamesFiles(t *testing.T) {
	proc := t.TempDir()
	d := start(t, nil, "--path.procfs="+proc)
	d.next("READY=1", 10*time.Second)
	d.next("STATUS=", 5*time.Second) // a second poll: the first has no host CPU to compare with
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.wait(10 * time.Second)
	logs := d.stderr.String()
	for _, want := range []string{
		"cannot read host CPU times from " + proc + "/stat: no such file or directory",
		"cannot read the daemon's CPU and memory use from " + proc + "/self/stat: no such file or directory",
		"cannot read the daemon's open files from " + proc + "/self/fd: no such file or directory",
	} {
		if n := strings.Count(logs, want); n != 1 {
			t.Errorf("%d log lines with %q, want 1", n, want)
		}
	}
	if strings.Contains(logs, "Desc{") {
		t.Errorf("a Go descriptor in the log:\n%s", logs)
	}
	if t.Failed() {
		t.Log(logs)
	}
}

func TestReloadWithBadConfigKeepsServing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yml")
	os.WriteFile(cfg, []byte("stale_after: 3\n"), 0o644)
	rundir := t.TempDir()
	d := start(t, []string{"RUNTIME_DIRECTORY=" + rundir}, "--config.file="+cfg)
	d.next("READY=1", 10*time.Second)
	// Each reload's outcome is recorded for the unit's ExecReload helper.
	recorded := func(want reload.Result) {
		t.Helper()
		if got, err := reload.Read(rundir); err != nil || got != want {
			t.Fatalf("reload record %+v, %v; want %+v", got, err, want)
		}
	}
	recorded(reload.Result{Seq: 0})
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.next("READY=1", 5*time.Second)
	recorded(reload.Result{Seq: 1})

	os.WriteFile(cfg, []byte("stale_after: many\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	refused := "reload failed at "
	reason := ", running configuration kept: " + cfg + ":1: field \"stale_after\""
	m := d.next("READY=1", 5*time.Second)
	if !strings.Contains(m, "sensors, last poll") || !strings.Contains(m, refused) || !strings.Contains(m, reason) {
		t.Fatalf("failed reload status: %q", m)
	}
	got, err := reload.Read(rundir)
	if err != nil || got.Seq != 2 || !strings.Contains(got.Err, cfg+":1:") || !strings.Contains(got.Err, "stale_after") {
		t.Fatalf("failed reload recorded as %+v, %v", got, err)
	}
	if code, _, _ := d.get("/sensor"); code != 200 {
		t.Fatalf("not serving after a failed reload: %d", code)
	}
	// The refusal is part of the daemon's state: later polls still show it,
	// in the status line, /healthz (still 200) and the dashboard's warnings.
	d.shows(true, refused, reason)

	os.WriteFile(cfg, []byte("stale_after: 3\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	if m := d.next("READY=1", 5*time.Second); strings.Contains(m, refused) {
		t.Fatalf("status after a good reload still shows the failed one: %q", m)
	}
	recorded(reload.Result{Seq: 3})
	d.shows(false, refused, reason)
}

// shows checks, after at least one further poll, whether the status line, /healthz and
// /api/dashboard's warnings carry every one of want.
func (d *daemon) shows(shown bool, want ...string) {
	d.t.Helper()
	has := func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
	// The reload's own poll may send one STATUS= after READY=1; the second
	// is of a later poll.
	d.next("STATUS=", 5*time.Second)
	if m := d.next("STATUS=", 5*time.Second); strings.Contains(m, "READY=1") || has(m) != shown {
		d.t.Fatalf("status line of the poll after the reload (want %q shown: %v): %q", want, shown, m)
	}
	if code, _, body := d.get("/healthz"); code != 200 || has(body) != shown {
		d.t.Fatalf("/healthz (want %q shown: %v): %d %q", want, shown, code, body)
	}
	_, _, body := d.get("/api/dashboard")
	var doc struct{ Warnings []string }
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		d.t.Fatalf("/api/dashboard: %v", err)
	}
	n := 0
	for _, w := range doc.Warnings {
		if has(w) {
			n++
		}
	}
	if (n == 1) != shown || n > 1 {
		d.t.Fatalf("/api/dashboard warnings (want %q shown: %v): %q", want, shown, doc.Warnings)
	}
}

func TestSocketActivation(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // the child holds its own copy of the socket
	// LISTEN_PID must be the daemon's PID: let the shell set it to its own, then exec.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, binary,
		"--web.systemd-socket", "--sensors.simulate", "--path.sysfs="+t.TempDir(), "--path.cgroupfs="+t.TempDir())
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = httpClient.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("socket-activated daemon does not answer: %v\n%s", err, stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

func TestTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	web := filepath.Join(dir, "web.yml")
	os.WriteFile(web, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prom: %s\n", cert, key, hash)), 0o644)
	d := start(t, nil, "--web.config.file="+web)
	d.next("READY=1", 10*time.Second)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", "https://"+d.addr+"/metrics", nil)
	req.SetBasicAuth("prom", "s3cret")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("with credentials: %d", resp.StatusCode)
	}
	req.SetBasicAuth("prom", "wrong")
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp.Body.Close()
	if resp, err := httpClient.Get("http://" + d.addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("plain HTTP accepted on a TLS listener: %d", resp.StatusCode)
		}
	}
}

func selfSigned(t *testing.T, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	certPath, keyPath = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certPath, keyPath, pool
}
