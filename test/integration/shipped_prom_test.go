//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// shippedUnit is what one of the package's units (or drop-ins) sets.
type shippedUnit struct {
	env             []string // Environment=
	args            []string // Prometheus's flags, after ExecStart='s prometheus-exec --
	memMax, memHigh int64    // MemoryMax=, MemoryHigh=
}

// readShippedUnit parses systemd/prometheus.service.d/edge-observability.conf.
func readShippedUnit(t *testing.T) shippedUnit {
	t.Helper()
	u := readUnitFile(t, "systemd/prometheus.service.d/edge-observability.conf")
	if len(u.args) == 0 {
		t.Fatal("the prometheus.service drop-in has no ExecStart= with prometheus-exec --")
	}
	return u
}

// readUnitFile parses a unit file of the repository: continued lines joined, comments
// skipped, the last ExecStart= that is not empty.
func readUnitFile(t *testing.T, rel string) shippedUnit {
	t.Helper()
	path := repoPath(t, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var u shippedUnit
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		switch key {
		case "Environment":
			u.env = append(u.env, value)
		case "MemoryMax", "MemoryHigh":
			n, err := unitBytes(value)
			if err != nil {
				t.Fatalf("%s: %s=%s: %v", path, key, value, err)
			}
			if key == "MemoryMax" {
				u.memMax = n
			} else {
				u.memHigh = n
			}
		case "ExecStart":
			if _, args, ok := strings.Cut(value, " -- "); ok {
				u.args = strings.Fields(args)
			}
		}
	}
	if u.memMax == 0 || u.memHigh == 0 {
		t.Fatalf("%s: no MemoryMax= or MemoryHigh=", path)
	}
	return u
}

// unitBytes reads systemd's sizes: 96M is 96 MiB.
func unitBytes(s string) (int64, error) {
	mult := int64(1)
	if i := strings.IndexAny(s, "KMG"); i == len(s)-1 {
		mult = map[byte]int64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[s[i]]
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// shippedFlag is the value of --name in the drop-in's flags ("" when absent).
func (u shippedUnit) flag(name string) string {
	for _, a := range u.args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// withFlags returns the drop-in's flags with those of set in place of the same flags
// (appended when absent): Prometheus refuses a flag given twice.
func withFlags(args []string, set ...string) []string {
	out := append([]string(nil), args...)
	for _, s := range set {
		name, _, _ := strings.Cut(s, "=")
		i := 0
		for ; i < len(out) && !strings.HasPrefix(out[i], name+"="); i++ {
		}
		if i == len(out) {
			out = append(out, s)
		} else {
			out[i] = s
		}
	}
	return out
}

// shippedProm is a Prometheus started as the package starts it.
type shippedProm struct {
	base string
	pid  int
	log  *promLog
	exit chan struct{}
}

// startShippedPrometheus runs Prometheus as prometheus.service does on a device: through
// `edgectl prometheus-exec` (bin/edgectl) with the drop-in's flags and environment, set
// flags replacing the drop-in's, inside the memory cgroup cg, with cfg (of the address
// Prometheus listens on) as the user's prometheus.yml and its TSDB in dataDir. It returns
// once Prometheus is ready.
func startShippedPrometheus(t *testing.T, u shippedUnit, cg *memCgroup, cfg func(addr string) string, dataDir string, set ...string) *shippedProm {
	t.Helper()
	edgectl := repoPath(t, "bin/edgectl")
	if _, err := os.Stat(edgectl); err != nil {
		t.Fatalf("%s missing: run `make build` first: %v", edgectl, err)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
	userCfg, mid := filepath.Join(dir, "prometheus.yml"), filepath.Join(dir, "machine-id")
	for p, c := range map[string]string{userCfg: cfg(addr), mid: "0123456789abcdef0123456789abcdef\n"} {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := withFlags(u.args, append([]string{"--storage.tsdb.path=" + dataDir, "--web.listen-address=" + addr}, set...)...)
	argv := cg.wrap(append([]string{edgectl, "prometheus-exec", "--config.in", userCfg, "--defaults", repoPath(t, "etc/default/edge-observability"),
		"--machine-id", mid, "--config.out", filepath.Join(dir, "rendered.yml"), "--prometheus", promLauncherBinary, "--"}, args...)...)
	p := &shippedProm{base: "http://" + addr, log: &promLog{}, exit: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), u.env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	go func() { cmd.Wait(); close(p.exit) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exit:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.log.String())
		}
	})
	if !promWaitReady(p.base, p.exit, 120*time.Second) {
		t.Fatalf("Prometheus (edgectl prometheus-exec) not ready:\n%s", p.log.String())
	}
	return p
}

// alive reports whether the Prometheus process still runs.
func (p *shippedProm) alive() bool {
	select {
	case <-p.exit:
		return false
	default:
		return true
	}
}
