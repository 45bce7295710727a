package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
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

// prometheus-exec passes the capped flag to Prometheus and says so; the
// cap's arithmetic is promargs's test, this is its wiring with a real disk.
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
	if len(gotArgv) != 4 || gotArgv[2] != "--storage.tsdb.path="+e.dir ||
		!strings.HasPrefix(gotArgv[3], "--storage.tsdb.retention.size=") || gotArgv[3] == "--storage.tsdb.retention.size=1024TB" {
		t.Fatalf("argv %q: want the retention size capped to the disk", gotArgv)
	}
	if !strings.Contains(errb.String(), "prometheus-exec: --storage.tsdb.retention.size lowered from 1024TB to ") {
		t.Fatalf("stderr %q", errb.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}
