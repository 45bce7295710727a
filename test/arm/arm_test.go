//go:build armemu

// Package arm runs the arm64 and armv7 builds of edge-sensord and edgectl,
// the binaries the packages for Raspberry Pi and similar boards ship, under
// qemu user emulation: `make test-arm`.
package arm

import (
	"bytes"
	"debug/elf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
	"github.com/edgeobs/edge-observability-stack/internal/promlint"
)

// target is one architecture the packages ship besides amd64.
type target struct {
	name, goarch, goarm string
	qemu                string // runs the static binary without binfmt registration
	machine             elf.Machine
	class               elf.Class
}

var targets = []target{
	{"arm64", "arm64", "", "qemu-aarch64-static", elf.EM_AARCH64, elf.ELFCLASS64},
	{"armv7", "arm", "7", "qemu-arm-static", elf.EM_ARM, elf.ELFCLASS32},
}

var fixtures = func() string { p, _ := filepath.Abs("../fixtures"); return p }()

// need finds a program the test cannot do without. Under CI it must be
// there (scripts/deps.sh installs it); elsewhere the test is skipped.
func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (Debian package %s; scripts/deps.sh test installs it): %v", prog, pkg, err)
	}
	t.Skipf("%s not found: install Debian's %s (scripts/deps.sh test)", prog, pkg)
	return ""
}

// build cross-compiles both commands for tg the way scripts/package.sh does.
func build(t *testing.T, tg target) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", dir+"/", "./cmd/edge-sensord", "./cmd/edgectl")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+tg.goarch, "GOARM="+tg.goarm)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", tg.name, err, out)
	}
	for _, name := range []string{"edge-sensord", "edgectl"} {
		checkELF(t, filepath.Join(dir, name), tg)
	}
	return dir
}

// checkELF makes sure the binary is what a board runs: the board's machine
// and word size, and static (no interpreter, no shared libraries).
func checkELF(t *testing.T, path string, tg target) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != tg.machine || f.Class != tg.class {
		t.Fatalf("%s: %s %s, want %s %s", path, f.Machine, f.Class, tg.machine, tg.class)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s has an ELF interpreter: not a static binary", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("%s needs shared libraries %q", path, libs)
	}
}

func TestArm(t *testing.T) {
	need(t, "promtool", "prometheus")
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			qemu := need(t, tg.qemu, "qemu-user-static")
			bin := build(t, tg)
			t.Run("edge-sensord", func(t *testing.T) { testDaemon(t, qemu, bin) })
			t.Run("host", func(t *testing.T) { testHost(t, qemu, bin) })
			t.Run("edgectl", func(t *testing.T) { testEdgectl(t, qemu, bin) })
		})
	}
}

// startDaemon runs the emulated daemon with args as systemd would, and
// returns its address once it has sent READY=1, and that message.
func startDaemon(t *testing.T, qemu, bin string, args ...string) (addr, ready string) {
	t.Helper()
	sockPath := filepath.Join(t.TempDir(), "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	addr = freeport.Addr(t)
	cmd := exec.Command(qemu, append([]string{filepath.Join(bin, "edge-sensord"), "--web.listen-address=" + addr}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NOTIFY_SOCKET=" + sockPath}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("edge-sensord stderr:\n%s", stderr.String())
		}
	})
	// Emulation is slow and the machine busy: a generous bound, not a timing assertion.
	return addr, nextNotify(t, sock, "READY=1", 3*time.Minute)
}

// checkedMetrics fetches /metrics and passes it through promtool (but for
// node_exporter's names, which its lint calls camelCase).
func checkedMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: time.Minute}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := promlint.Check(body); err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// testDaemon starts the daemon on the fixture trees of a Raspberry Pi with
// the memory controller off, as systemd would: READY=1 on NOTIFY_SOCKET,
// then /metrics must pass promtool.
func testDaemon(t *testing.T, qemu, bin string) {
	addr, msg := startDaemon(t, qemu, bin,
		"--path.sysfs="+filepath.Join(fixtures, "sysfs"), "--path.cgroupfs="+filepath.Join(fixtures, "cgroup", "v2-nomemory"),
		"--path.procfs="+filepath.Join(fixtures, "proc", "pi-6.12"), "--no-sensors.simulate", "--poll.interval=1h",
		"--collector.disable-defaults")
	if want := "memory budget NOT enforced (memory controller off: the kernel command line has cgroup_disable=memory)"; !strings.Contains(msg, want) {
		t.Errorf("READY message %q lacks %q", msg, want)
	}
	body := checkedMetrics(t, addr)
	for _, want := range []string{
		`edge_cgroup_controller_enabled{controller="memory"} 0`,
		`edge_unit_cpu_seconds_total{unit="prometheus.service"} 98`,
		`edge_sensor_temperature_celsius{`, // read from the fixture sysfs
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "edge_unit_memory_bytes{") {
		t.Error("/metrics has unit memory without memory accounting")
	}
}

// testHost runs every host collector on the Raspberry Pi 4 fixture: the
// parsers and statfs(2), whose structure differs between 32- and 64-bit
// arm, give the figures they give on amd64.
func testHost(t *testing.T, qemu, bin string) {
	host := filepath.Join(fixtures, "host")
	addr, _ := startDaemon(t, qemu, bin, "--path.sysfs="+filepath.Join(host, "sys"), "--path.procfs="+filepath.Join(host, "proc"),
		"--path.rootfs="+filepath.Join(host, "rootfs"), "--path.cgroupfs="+filepath.Join(fixtures, "cgroup", "v2"),
		"--no-sensors.simulate", "--poll.interval=1h")
	body := checkedMetrics(t, addr)
	for _, want := range []string{
		`node_cpu_seconds_total{cpu="0",mode="user"} 3309.82`,
		`node_memory_MemTotal_bytes 3.975000064e+09`,
		`node_disk_written_bytes_total{device="mmcblk0"} 2.1098323968e+10`,
		`node_filesystem_device_error{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"} 0`,
		`node_filesystem_readonly{device="/dev/sda1",fstype="ext4",mountpoint="/srv/backup"} 1`,
		`node_filesystem_device_error{device="/dev/sdc1",fstype="ext4",mountpoint="/media/usb"} 1`,
		`node_cpu_scaling_frequency_hertz{cpu="3"} 1.5e+09`,
		`edge_rpi_throttle{condition="undervoltage",state="since_boot"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	size := regexp.MustCompile(`(?m)^node_filesystem_size_bytes\{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"\} ([0-9.e+]+)$`).FindStringSubmatch(body)
	if size == nil || size[1] == "0" {
		t.Errorf("no size of / from statfs: %v", size)
	}
	if failed := regexp.MustCompile(`(?m)^edge_sensor_scrape_collector_success\{.*\} 0$`).FindAllString(body, -1); len(failed) > 0 {
		t.Errorf("collectors failed: %q", failed)
	}
}

func testEdgectl(t *testing.T, qemu, bin string) {
	run := func(args ...string) (int, string) {
		cmd := exec.Command(qemu, append([]string{filepath.Join(bin, "edgectl")}, args...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	base := []string{"status", "--no-systemd", "--prometheus.url="}
	code, out := run(append(base, "--path.cgroupfs="+filepath.Join(fixtures, "cgroup", "v2"))...)
	if code != 0 || !strings.Contains(out, "132.0M (88%)  150.0M budget (slice)") || !strings.HasSuffix(out, "status: OK\n") {
		t.Errorf("healthy fixture: exit %d\n%s", code, out)
	}
	code, out = run(append(base, "--path.cgroupfs="+filepath.Join(fixtures, "cgroup", "v1-nomemory"),
		"--path.procfs="+filepath.Join(fixtures, "proc", "pi-5.15"), "--path.rootfs="+filepath.Join(fixtures, "rootfs", "bullseye"))...)
	if code != 1 || !strings.Contains(out, "memory budget NOT enforced") || !strings.Contains(out, "single line of /boot/cmdline.txt, then reboot") {
		t.Errorf("Raspberry Pi fixture without memory controller: exit %d\n%s", code, out)
	}
}

// nextNotify returns the next notify message containing want.
func nextNotify(t *testing.T, sock *net.UnixConn, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	buf := make([]byte, 4096)
	var seen []string
	for {
		sock.SetReadDeadline(deadline)
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("no notify message containing %q within %s (got %q): %v", want, within, seen, err)
		}
		m := string(buf[:n])
		if strings.Contains(m, want) {
			return m
		}
		seen = append(seen, m)
	}
}
