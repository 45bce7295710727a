package main

import (
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// fakeDaemon records a reload with the given error text on every SIGHUP
// this test process receives, as edge-sensord does.
func fakeDaemon(t *testing.T, dir string, errText string, answer bool) {
	t.Helper()
	if err := reload.Record(dir, reload.Result{Seq: 0}); err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	t.Cleanup(func() { signal.Stop(hup); close(done) })
	go func() {
		for seq := uint64(1); ; seq++ {
			select {
			case <-done:
				return
			case <-hup:
			}
			if answer {
				reload.Record(dir, reload.Result{Seq: seq, Err: errText})
			}
		}
	}()
}

func sensordReload(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"sensord-reload"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSensordReload(t *testing.T) {
	self := "--pid=" + strconv.Itoa(os.Getpid())
	t.Setenv("RUNTIME_DIRECTORY", "")

	t.Run("reloaded", func(t *testing.T) {
		dir := t.TempDir()
		fakeDaemon(t, dir, "", true)
		for _, want := range []string{"(reload 1)", "(reload 2)"} {
			code, out, errs := sensordReload(self, "--runtime-dir="+dir)
			if code != exitcode.OK || !strings.Contains(out, "configuration reloaded "+want) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		dir := t.TempDir()
		fakeDaemon(t, dir, `config.yml:1: field "stale_after": bad`, true)
		code, _, errs := sensordReload(self, "--runtime-dir="+dir)
		if code != exitcode.Failure || !strings.Contains(errs, `reload failed, running configuration kept: config.yml:1: field "stale_after"`) {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("silent", func(t *testing.T) {
		dir := t.TempDir()
		fakeDaemon(t, dir, "", false)
		code, _, errs := sensordReload(self, "--runtime-dir="+dir, "--timeout=200ms")
		if code != exitcode.Failure || !strings.Contains(errs, "no reload recorded after reload 0") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("from the environment, daemon keeps no record", func(t *testing.T) {
		dir := t.TempDir()
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		t.Setenv("RUNTIME_DIRECTORY", dir)
		code, out, errs := sensordReload(self)
		if code != exitcode.OK || !strings.Contains(out, "reload requested") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
		<-hup
	})
	t.Run("no such process", func(t *testing.T) {
		// A process that has exited and been reaped: its PID is free.
		c := exec.Command(os.Args[0], "-test.run=^$")
		if err := c.Run(); err != nil {
			t.Fatal(err)
		}
		code, _, errs := sensordReload("--pid="+strconv.Itoa(c.Process.Pid), "--runtime-dir="+t.TempDir())
		if code != exitcode.Failure || !strings.Contains(errs, "SIGHUP to "+strconv.Itoa(c.Process.Pid)+": no such process") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	for _, bad := range [][]string{{}, {"--pid=0"}, {self, "--timeout=0s"}, {self, "extra"}} {
		if code, _, _ := sensordReload(bad...); code != exitcode.Usage {
			t.Errorf("sensord-reload %q: exit %d, want %d", bad, code, exitcode.Usage)
		}
	}
}
