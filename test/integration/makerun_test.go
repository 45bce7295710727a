//go:build integration

package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// makeRun is scripts/run.sh (what `make run` runs) in a process group of its own, as a
// terminal's foreground job, with the binaries of `make build`.
type makeRun struct {
	cmd  *exec.Cmd
	out  *promLog
	done chan error
}

func startMakeRun(t *testing.T, env ...string) *makeRun {
	t.Helper()
	r := &makeRun{out: &promLog{}, done: make(chan error, 1)}
	r.cmd = exec.Command("bash", repoPath(t, "scripts/run.sh"))
	r.cmd.Env = append(append(os.Environ(), "BIN_DIR="+repoPath(t, "bin")), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { // Ctrl-C first, so that the script removes its temp dir
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// wait returns the exit code once the script has ended, or fails after limit.
func (r *makeRun) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("run.sh: %v", err)
	case <-time.After(limit):
		t.Fatalf("run.sh still runs after %s; output:\n%s", limit, r.out)
	}
	return -1
}

// waitBanner waits until the script says the stack runs; it fails when the script ends first.
func (r *makeRun) waitBanner(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(r.out.String(), "edge observability stack running") {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("run.sh ended (%v) before saying it runs:\n%s", err, r.out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 90s:\n%s", r.out)
		}
	}
}

func answers(url string) bool {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// A second `make run` while one runs (or anything else on its ports) refuses at once, naming
// the port, and never prints the banner.
func TestMakeRunRefusesPortsInUse(t *testing.T) {
	for _, which := range []string{"SENSORD_PORT", "PROM_PORT"} {
		t.Run(which, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			port := taken.Addr().(*net.TCPAddr).Port
			env := []string{"SENSORD_PORT=" + strconv.Itoa(freeport.Port(t)), "PROM_PORT=" + strconv.Itoa(freeport.Port(t))}
			env = append(env, fmt.Sprintf("%s=%d", which, port))
			r := startMakeRun(t, env...)
			if code := r.wait(t, 60*time.Second); code == 0 {
				t.Errorf("exit 0 with port %d taken", port)
			}
			out := r.out.String()
			if want := fmt.Sprintf("port %d (", port); !strings.Contains(out, want) || !strings.Contains(out, "in use") {
				t.Errorf("output does not name port %d as in use:\n%s", port, out)
			}
			if strings.Contains(out, "stack running") {
				t.Errorf("claims to run although port %d was taken:\n%s", port, out)
			}
		})
	}
}

// LISTEN=0.0.0.0 opens the dashboard to other machines (127.0.0.2 reaches only a socket bound to
// every address) while Prometheus stays on 127.0.0.1; the banner says where. Ctrl-C (SIGINT to the
// process group) stops everything.
func TestMakeRunListenAndCtrlC(t *testing.T) {
	sp, pp := freeport.Port(t), freeport.Port(t)
	r := startMakeRun(t, "LISTEN=0.0.0.0", "SENSORD_PORT="+strconv.Itoa(sp), "PROM_PORT="+strconv.Itoa(pp))
	r.waitBanner(t)
	out := r.out.String()
	if !strings.Contains(out, fmt.Sprintf("Dashboard     http://127.0.0.1:%d/  (from the network: http://", sp)) &&
		!strings.Contains(out, "(listening on 0.0.0.0)") {
		t.Errorf("the banner does not say where the network reaches the dashboard:\n%s", out)
	}
	if !answers(fmt.Sprintf("http://127.0.0.2:%d/healthz", sp)) {
		t.Errorf("edge-sensord does not answer on 127.0.0.2:%d with LISTEN=0.0.0.0", sp)
	}
	if !answers(fmt.Sprintf("http://127.0.0.1:%d/-/ready", pp)) {
		t.Errorf("Prometheus does not answer on 127.0.0.1:%d", pp)
	}
	if answers(fmt.Sprintf("http://127.0.0.2:%d/-/ready", pp)) {
		t.Errorf("Prometheus answers on 127.0.0.2:%d: it must stay on 127.0.0.1", pp)
	}

	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 60*time.Second); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0:\n%s", code, r.out)
	}
	if !strings.Contains(r.out.String(), "run: stopping") {
		t.Errorf("no 'run: stopping' after Ctrl-C:\n%s", r.out)
	}
	for _, port := range []int{sp, pp} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still answers after Ctrl-C", port)
		}
	}
}

// The default stays on loopback, and the banner says how to open it.
func TestMakeRunDefaultLoopback(t *testing.T) {
	sp, pp := freeport.Port(t), freeport.Port(t)
	r := startMakeRun(t, "SENSORD_PORT="+strconv.Itoa(sp), "PROM_PORT="+strconv.Itoa(pp))
	r.waitBanner(t)
	if !strings.Contains(r.out.String(), "this machine only; LISTEN=0.0.0.0 opens it to the network") {
		t.Errorf("the banner does not say the dashboard is this machine's only:\n%s", r.out)
	}
	if !answers(fmt.Sprintf("http://127.0.0.1:%d/healthz", sp)) {
		t.Errorf("edge-sensord does not answer on 127.0.0.1:%d", sp)
	}
	if answers(fmt.Sprintf("http://127.0.0.2:%d/healthz", sp)) {
		t.Errorf("edge-sensord answers on 127.0.0.2:%d without LISTEN", sp)
	}
}
