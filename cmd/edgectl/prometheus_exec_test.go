package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/promargs"
)

func TestPrometheusExec(t *testing.T) {
	e := newFleetEnv(t)
	out := filepath.Join(e.dir, "run", "prometheus.yml")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid, "--config.out", out, "--prometheus", "/bin/prom"}

	// A bad defaults file stops the start with file:line:key.
	if err := os.WriteFile(e.defaults, []byte("EDGE_SITE=a\nEDGE_PROFIL=lean\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	defer func(f func(string, []string, []string) error) { execFunc = f }(execFunc)
	execFunc = func(string, []string, []string) error { t.Fatal("exec after a render error"); return nil }
	if code := runPrometheusExec(append(base, "--", "--web.listen-address=:9090"), io.Discard, &errb); code == 0 {
		t.Fatal("exit 0 on a bad defaults file")
	}
	if want := e.defaults + ":2: EDGE_PROFIL: unknown key"; !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr %q lacks %q", errb.String(), want)
	}

	// Lean: renders, then execs Prometheus in agent mode.
	if err := os.WriteFile(e.defaults, []byte("EDGE_REMOTE_WRITE_URL=http://c/w\nEDGE_PROFILE=lean\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var gotPath string
	var gotArgv []string
	execFunc = func(p string, argv []string, _ []string) error {
		gotPath, gotArgv = p, argv
		return syscall.ENOENT
	}
	errb.Reset()
	code := runPrometheusExec(append(base, "--", "--storage.tsdb.path=/x", "--web.listen-address=:9090"), io.Discard, &errb)
	if code == 0 || !strings.Contains(errb.String(), "exec /bin/prom") {
		t.Fatalf("failed exec not reported: %d %q", code, errb.String())
	}
	want := []string{"/bin/prom", "--config.file=" + out, "--web.listen-address=:9090", "--enable-feature=agent",
		"--storage.agent.path=" + promargs.AgentPath}
	if gotPath != "/bin/prom" || !reflect.DeepEqual(gotArgv, want) {
		t.Fatalf("exec %s %q, want %q", gotPath, gotArgv, want)
	}
	rendered, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(rendered), "url: http://c/w") {
		t.Fatalf("rendered config: %v\n%s", err, rendered)
	}
}

func TestPrometheusConfigCmdStdout(t *testing.T) {
	e := newFleetEnv(t)
	var out, errb bytes.Buffer
	code := runPrometheusConfig([]string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid}, &out, &errb)
	if code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "device: abc") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// prometheus-exec passes the capped flag and the query limits to Prometheus
// and says so; the cap's arithmetic is promargs's test, this is its wiring
// with a real disk.
func TestPrometheusExecCapsRetention(t *testing.T) {
	e := newFleetEnv(t)
	out := filepath.Join(e.dir, "prometheus.yml")
	var gotArgv []string
	defer func(f func(string, []string, []string) error) { execFunc = f }(execFunc)
	execFunc = func(_ string, argv []string, _ []string) error {
		gotArgv = argv
		return errors.New("not really")
	}
	var errb bytes.Buffer
	runPrometheusExec([]string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid, "--config.out", out,
		"--prometheus", "/bin/prom", "--", "--storage.tsdb.path=" + e.dir, "--storage.tsdb.retention.size=1024TB"}, io.Discard, &errb)
	if len(gotArgv) != 7 || gotArgv[2] != "--storage.tsdb.path="+e.dir ||
		!strings.HasPrefix(gotArgv[3], "--storage.tsdb.retention.size=") || gotArgv[3] == "--storage.tsdb.retention.size=1024TB" {
		t.Fatalf("argv %q: want the retention size capped to the disk", gotArgv)
	}
	// The query limits the command line lacked.
	if !slices.Equal(gotArgv[4:], promargs.QueryLimits()) {
		t.Fatalf("argv %q: want the query limits %q", gotArgv, promargs.QueryLimits())
	}
	if !strings.Contains(errb.String(), "prometheus-exec: --storage.tsdb.retention.size lowered from 1024TB to ") {
		t.Fatalf("stderr %q", errb.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

// A block Prometheus cannot open (here: an empty index, as a power cut on an
// SD card can leave) is moved aside before the exec, and the log says so.
func TestPrometheusExecMovesBrokenBlockAside(t *testing.T) {
	e := newFleetEnv(t)
	out := filepath.Join(e.dir, "prometheus.yml.out")
	data := filepath.Join(e.dir, "lib", "metrics2")
	block := filepath.Join(data, "01M8BJ1Y5R1RWHPQQNEM35C825")
	if cp, err := exec.Command("sh", "-c", "mkdir -p "+data+" && cp -a ../../internal/tsdbrepair/testdata/01M8BJ1Y5R1RWHPQQNEM35C825 "+data+"/").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, cp)
	}
	if err := os.Truncate(filepath.Join(block, "index"), 0); err != nil {
		t.Fatal(err)
	}
	defer func(f func(string, []string, []string) error) { execFunc = f }(execFunc)
	execFunc = func(string, []string, []string) error {
		if _, err := os.Stat(block); !os.IsNotExist(err) {
			t.Errorf("Prometheus exec'd with the broken block still in its data directory (%v)", err)
		}
		return syscall.ENOENT
	}
	var errb bytes.Buffer
	runPrometheusExec([]string{"--config.in", e.cfg, "--defaults", e.defaults, "--machine-id", e.mid, "--config.out", out,
		"--prometheus", "/bin/prom", "--", "--storage.tsdb.path=" + data + "/"}, io.Discard, &errb)
	if want := "block 01M8BJ1Y5R1RWHPQQNEM35C825 of " + data + "/ is unreadable (index: 0 bytes"; !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr %q lacks %q", errb.String(), want)
	}
	if _, err := os.Stat(filepath.Join(data, "quarantine", "01M8BJ1Y5R1RWHPQQNEM35C825", "chunks")); err != nil {
		t.Fatalf("block not in the quarantine: %v", err)
	}
}

// The query log goes to the runtime directory, replacing a file Prometheus
// left on disk; agent mode keeps no query log and is left alone.
func TestQueryLogInRAM(t *testing.T) {
	dir := t.TempDir()
	data, run := filepath.Join(dir, "metrics2"), filepath.Join(dir, "run")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, queryLog), make([]byte, 2001), 0o644); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	for i := 0; i < 2; i++ {
		queryLogInRAM(data, run, &errb)
		if got, err := os.Readlink(filepath.Join(data, queryLog)); err != nil || got != filepath.Join(run, queryLog) {
			t.Fatalf("run %d: %s -> %q (%v), want the runtime directory", i, queryLog, got, err)
		}
	}
	if errb.Len() != 0 {
		t.Fatalf("stderr: %s", errb.String())
	}
	// A data directory Prometheus has not created yet.
	fresh := filepath.Join(dir, "new", "metrics2")
	queryLogInRAM(fresh, run, &errb)
	if _, err := os.Readlink(filepath.Join(fresh, queryLog)); err != nil {
		t.Fatalf("fresh data directory: %v (%s)", err, errb.String())
	}
	if p, ok := promargs.TSDBPath([]string{"--storage.tsdb.path", "/x", "--web.listen-address=:9090"}); !ok || p != "/x" {
		t.Fatalf("tsdbPath = %q %v", p, ok)
	}
	if _, ok := promargs.TSDBPath([]string{"--storage.tsdb.path=/x", "--enable-feature=agent"}); ok {
		t.Fatal("agent mode has a TSDB path")
	}
}
