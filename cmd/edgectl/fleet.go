package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

const (
	defaultDropInDir = "/etc/systemd/system/edge-observability.slice.d"
	leanDropInName   = "lean.conf"
)

// leanDropIn lowers the slice budget in the lean profile: Prometheus in agent
// mode keeps no TSDB head or query engine, and Grafana is expected to be
// stopped. Like the slice itself it sets no MemoryHigh, which would throttle
// every unit in the slice at once; the units' own soft limits (edge-sensord
// 20M, prometheus 80M) stay below the lower MemoryMax.
const leanDropIn = `# Written by "edgectl fleet enable --profile lean"; removed by "edgectl fleet disable"
# or "edgectl fleet enable --profile full". Lean: Prometheus in agent mode, no Grafana;
# edge-sensord (MemoryHigh=20M) + prometheus (MemoryHigh=80M) = 100M < MemoryMax below.
[Slice]
MemoryMax=104M
`

// serviceManager is what fleet asks of systemd; tests fake it.
type serviceManager interface {
	// Booted reports whether systemd is the running init.
	Booted() bool
	Systemctl(stdout, stderr io.Writer, args ...string) error
}

var services serviceManager = hostSystemd{}

// hostSystemd is this machine's systemd.
type hostSystemd struct{}

func (hostSystemd) Booted() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

func (hostSystemd) Systemctl(stdout, stderr io.Writer, args ...string) error {
	c := exec.Command("systemctl", args...)
	c.Stdout, c.Stderr = stdout, stderr
	return c.Run()
}

const fleetUsage = `usage: edgectl fleet enable URL [--username U --password-file F | --bearer-token-file F]
                          [--ca-file F] [--site S] [--role R] [--profile lean|full]
       edgectl fleet disable
       edgectl fleet status
common flags: --defaults F --config.in F --machine-id F --dropin-dir D

Edits the fleet settings, checks that Prometheus's configuration renders with
them, and restarts Prometheus. Exit status: 0 done, 1 failed (a bad setting
leaves the file unchanged), 2 usage error.`

// fleet is one run of "edgectl fleet SUB".
type fleet struct {
	*cmdLine
	in        renderFiles
	dropInDir string
}

func runFleet(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, fleetUsage)
		return exitcode.Usage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, fleetUsage)
		return exitcode.OK
	case "enable", "disable", "status":
	default:
		fmt.Fprintf(stderr, "edgectl fleet: unknown subcommand %q\n\n%s\n", sub, fleetUsage)
		return exitcode.Usage
	}
	f := &fleet{cmdLine: newCmdLine("fleet "+sub, stdout, stderr)}
	f.in.register(f.cmdLine)
	f.StringVar(&f.dropInDir, "dropin-dir", defaultDropInDir, "systemd drop-in directory of edge-observability.slice")
	switch sub {
	case "enable":
		return f.enable(args)
	case "disable":
		return f.disable(args)
	}
	return f.status(args)
}

func (f *fleet) enable(args []string) int {
	var username, passwordFile, bearerFile string
	f.StringVar(&username, "username", "", "basic auth user")
	f.StringVar(&passwordFile, "password-file", "", "basic auth password file")
	f.StringVar(&bearerFile, "bearer-token-file", "", "bearer token file")
	other := map[string]*string{
		settings.KeyCAFile:  f.String("ca-file", "", "CA bundle to verify the central"),
		settings.KeySite:    f.String("site", "", "site label"),
		settings.KeyRole:    f.String("role", "", "role label"),
		settings.KeyProfile: f.String("profile", "", "full (local TSDB + Grafana) or lean (agent mode)"),
	}
	pos, code, ok := f.parseInterspersed(args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return f.usageError("want one URL, got %d arguments", len(pos))
	}
	set := map[string]string{settings.KeyURL: pos[0]}
	if username != "" || passwordFile != "" || bearerFile != "" {
		// Choosing an auth method replaces the previous one.
		set[settings.KeyUsername], set[settings.KeyPasswordFile], set[settings.KeyBearerTokenFile] = username, passwordFile, bearerFile
	}
	for k, v := range other {
		if *v != "" {
			set[k] = *v
		}
	}
	return f.apply(set)
}

func (f *fleet) disable(args []string) int {
	if code, ok := f.parseNoArgs(args); !ok {
		return code
	}
	return f.apply(map[string]string{settings.KeyURL: "", settings.KeyProfile: settings.ProfileFull})
}

// apply changes the settings, then the lean drop-in to match, and restarts
// Prometheus. Settings that do not render leave every file unchanged.
func (f *fleet) apply(set map[string]string) int {
	s, err := f.writeSettings(set)
	if err != nil {
		return f.fail(err)
	}
	lean := s.Profile == settings.ProfileLean
	dropInChanged, err := f.syncDropIn(lean)
	if err != nil {
		return f.fail(err)
	}
	if lean {
		fmt.Fprintln(f.stdout, "lean profile: Prometheus runs in agent mode (forward only) and the slice budget is lowered to MemoryMax=104M;")
		fmt.Fprintln(f.stdout, "  Grafana does not fit that budget: systemctl disable --now grafana-server.service")
	}
	if s.URL != "" {
		fmt.Fprintf(f.stdout, "fleet enabled: remote_write to %s (profile %s)\n", s.URL, s.Profile)
	} else {
		fmt.Fprintln(f.stdout, "fleet disabled: no remote_write (profile full)")
	}
	return f.restart(dropInChanged)
}

// writeSettings edits the settings file, after checking that the result
// parses and renders exactly as prometheus-exec will render it.
func (f *fleet) writeSettings(set map[string]string) (*settings.Settings, error) {
	path := f.in.settings
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data := settings.Edit(old, set)
	s, err := settings.Parse(path, data)
	if err == nil {
		_, err = promconfig.RenderFile(f.in.configIn, s, f.in.machineID)
	}
	if err != nil {
		return nil, fmt.Errorf("not changed: %w", err)
	}
	if err := writeFileAtomic(path, data, 0o640); err != nil {
		return nil, err
	}
	if old == nil && os.Geteuid() == 0 {
		// A newly created file gets the packaged ownership so Prometheus
		// (group prometheus) can read it.
		if g, err := user.LookupGroup("prometheus"); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				_ = os.Chown(path, 0, gid)
			}
		}
	}
	return s, nil
}

// syncDropIn writes the lean drop-in when lean, and removes it otherwise;
// changed says whether systemd must reload its units.
func (f *fleet) syncDropIn(lean bool) (changed bool, err error) {
	path := filepath.Join(f.dropInDir, leanDropInName)
	if !lean {
		err := os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	if cur, err := os.ReadFile(path); err == nil && string(cur) == leanDropIn {
		return false, nil
	}
	if err := os.MkdirAll(f.dropInDir, 0o755); err != nil {
		return false, err
	}
	return true, writeFileAtomic(path, []byte(leanDropIn), 0o644)
}

// restart makes Prometheus (and the slice, when its drop-in changed) use
// the new settings.
func (f *fleet) restart(dropInChanged bool) int {
	if !services.Booted() {
		fmt.Fprintln(f.stdout, "note: systemd is not running; restart Prometheus yourself to apply")
		return exitcode.OK
	}
	if dropInChanged {
		if err := services.Systemctl(f.stdout, f.stderr, "daemon-reload"); err != nil {
			return f.fail(fmt.Errorf("systemctl daemon-reload: %w", err))
		}
	}
	if err := services.Systemctl(f.stdout, f.stderr, "try-restart", "prometheus.service"); err != nil {
		return f.fail(fmt.Errorf("systemctl try-restart prometheus.service: %w", err))
	}
	return exitcode.OK
}

func (f *fleet) status(args []string) int {
	if code, ok := f.parseNoArgs(args); !ok {
		return code
	}
	s, err := settings.Load(f.in.settings)
	if err != nil {
		return f.fail(err)
	}
	for _, r := range f.describe(s) {
		fmt.Fprintf(f.stdout, "%-13s %s\n", r[0]+":", r[1])
	}
	return exitcode.OK
}

// describe is the status report, one row per aspect.
func (f *fleet) describe(s *settings.Settings) [][2]string {
	device, fromMachineID, err := s.Device(f.in.machineID)
	switch {
	case err != nil:
		device = "unknown (no " + settings.KeyDeviceID + ", no machine id)"
	case fromMachineID:
		device += " (machine id)"
	}
	fleet := "off"
	if s.URL != "" {
		fleet = "on, remote_write to " + s.URL
	}
	auth := "none"
	switch {
	case s.PasswordFile != "":
		auth = fmt.Sprintf("basic (user %s, password file %s)", s.Username, s.PasswordFile)
	case s.BearerTokenFile != "":
		auth = "bearer token file " + s.BearerTokenFile
	}
	tls := "system CAs"
	if s.CAFile != "" {
		tls = "CA file " + s.CAFile
	}
	if s.InsecureSkipVerify {
		tls += ", certificate NOT verified"
	}
	lean := "absent"
	if path := filepath.Join(f.dropInDir, leanDropInName); fileExists(path) {
		lean = "present (" + path + ")"
	}
	return [][2]string{
		{"fleet", fleet}, {"profile", s.Profile}, {"device", device}, {"site", s.Site},
		{"role", s.Role}, {"auth", auth}, {"tls", tls}, {"lean drop-in", lean},
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
