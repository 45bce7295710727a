package fleet

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/edgeobs/edge-observability-stack/internal/cmddoc"
)

// Default paths of the installed layout.
const (
	DefaultConfigIn  = "/etc/edge-observability/prometheus.yml"
	DefaultDefaults  = "/etc/default/edge-observability"
	DefaultMachineID = "/etc/machine-id"
	DefaultConfigOut = "/run/edge-observability/prometheus.yml"
	DefaultPromBin   = "/usr/bin/prometheus"
	DefaultDropInDir = "/etc/systemd/system/edge-observability.slice.d"
	LeanDropInName   = "lean.conf"
)

// LeanDropIn lowers the slice budget in the lean profile: Prometheus in agent
// mode keeps no TSDB head or query engine, and Grafana is expected to be
// stopped. The soft limits of the two remaining units (edge-sensord 20M,
// prometheus 64M) still fit under the slice's MemoryHigh, so neither is
// throttled by the lower budget in normal operation.
const LeanDropIn = `# Written by "edgectl fleet enable --profile lean"; removed by "edgectl fleet disable"
# or "edgectl fleet enable --profile full". Lean: Prometheus in agent mode, no Grafana;
# edge-sensord (MemoryHigh=20M) + prometheus (MemoryHigh=64M) = 84M < MemoryHigh below.
[Slice]
MemoryHigh=88M
MemoryMax=96M
`

type renderFlags struct {
	configIn, defaults, machineID string
}

func (r *renderFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.configIn, "config.in", DefaultConfigIn, "user Prometheus configuration")
	fs.StringVar(&r.defaults, "defaults", DefaultDefaults, "fleet settings (KEY=value)")
	fs.StringVar(&r.machineID, "machine-id", DefaultMachineID, "file holding the default device id")
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	return cmddoc.NewFlagSet(name, stderr)
}

// PrometheusConfigCmd implements "edgectl prometheus-config".
func PrometheusConfigCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("prometheus-config", stderr)
	var rf renderFlags
	rf.register(fs)
	out := fs.String("config.out", "-", `write the rendered config here ("-" = stdout)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prometheus-config: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	data, _, err := RenderFiles(rf.configIn, rf.defaults, rf.machineID)
	if err != nil {
		fmt.Fprintf(stderr, "prometheus-config: %v\n", err)
		return 1
	}
	if *out == "-" {
		_, err = stdout.Write(data)
	} else {
		err = writeFileAtomic(*out, data, 0o640)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prometheus-config: %v\n", err)
		return 1
	}
	return 0
}

// execFunc replaces the process; a variable so tests can observe the call.
var execFunc = syscall.Exec

// PrometheusExecCmd implements "edgectl prometheus-exec": render, then exec
// Prometheus in this process so systemd supervises Prometheus itself.
func PrometheusExecCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("prometheus-exec", stderr)
	var rf renderFlags
	rf.register(fs)
	out := fs.String("config.out", DefaultConfigOut, "where to write the rendered config")
	bin := fs.String("prometheus", DefaultPromBin, "Prometheus binary to exec")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	data, s, err := RenderFiles(rf.configIn, rf.defaults, rf.machineID)
	if err != nil {
		fmt.Fprintf(stderr, "prometheus-exec: %v\n", err)
		return 1
	}
	if err := writeFileAtomic(*out, data, 0o640); err != nil {
		fmt.Fprintf(stderr, "prometheus-exec: %v\n", err)
		return 1
	}
	promArgs, note := CapRetentionSize(PrometheusArgs(s.Profile, *out, fs.Args()))
	if note != "" {
		fmt.Fprintf(stderr, "prometheus-exec: %s\n", note)
	}
	argv := append([]string{*bin}, promArgs...)
	err = execFunc(*bin, argv, os.Environ())
	fmt.Fprintf(stderr, "prometheus-exec: exec %s: %v\n", *bin, err)
	return 1
}

// System abstracts the service manager for "fleet enable/disable".
type System struct {
	// Booted reports whether systemd is the running init.
	Booted func() bool
	// Run runs a command (systemctl ...), output to the given writers.
	Run func(stdout, stderr io.Writer, name string, args ...string) error
}

// HostSystem talks to the real systemd.
var HostSystem = System{
	Booted: func() bool {
		fi, err := os.Stat("/run/systemd/system")
		return err == nil && fi.IsDir()
	},
	Run: func(stdout, stderr io.Writer, name string, args ...string) error {
		c := exec.Command(name, args...)
		c.Stdout, c.Stderr = stdout, stderr
		return c.Run()
	},
}

// FleetCmd implements "edgectl fleet enable|disable|status".
func FleetCmd(args []string, stdout, stderr io.Writer) int {
	return FleetWith(HostSystem, args, stdout, stderr)
}

const fleetUsage = `usage: edgectl fleet enable URL [--username U --password-file F | --bearer-token-file F]
                          [--ca-file F] [--site S] [--role R] [--profile lean|full]
       edgectl fleet disable
       edgectl fleet status
common flags: --defaults F --config.in F --machine-id F --dropin-dir D
`

// FleetWith is FleetCmd with an injectable service manager.
func FleetWith(sys System, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, fleetUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("fleet "+sub, stderr)
	var rf renderFlags
	rf.register(fs)
	dropInDir := fs.String("dropin-dir", DefaultDropInDir, "systemd drop-in directory of edge-observability.slice")
	var username, passwordFile, bearerFile, caFile, site, role, profile string
	if sub == "enable" {
		fs.StringVar(&username, "username", "", "basic auth user")
		fs.StringVar(&passwordFile, "password-file", "", "basic auth password file")
		fs.StringVar(&bearerFile, "bearer-token-file", "", "bearer token file")
		fs.StringVar(&caFile, "ca-file", "", "CA bundle to verify the central")
		fs.StringVar(&site, "site", "", "site label")
		fs.StringVar(&role, "role", "", "role label")
		fs.StringVar(&profile, "profile", "", "full (local TSDB + Grafana) or lean (agent mode)")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	switch sub {
	case "status":
		if len(pos) != 0 {
			fmt.Fprint(stderr, fleetUsage)
			return 2
		}
		return fleetStatus(rf, *dropInDir, stdout, stderr)
	case "disable":
		if len(pos) != 0 {
			fmt.Fprint(stderr, fleetUsage)
			return 2
		}
		set := map[string]string{KeyURL: "", KeyProfile: ProfileFull}
		return fleetApply(sys, rf, *dropInDir, set, stdout, stderr)
	case "enable":
		if len(pos) != 1 {
			fmt.Fprint(stderr, fleetUsage)
			return 2
		}
		set := map[string]string{KeyURL: pos[0]}
		if username != "" || passwordFile != "" || bearerFile != "" {
			// Choosing an auth method replaces the previous one.
			set[KeyUsername], set[KeyPasswordFile], set[KeyBearerTokenFile] = username, passwordFile, bearerFile
		}
		for k, v := range map[string]string{KeyCAFile: caFile, KeySite: site, KeyRole: role, KeyProfile: profile} {
			if v != "" {
				set[k] = v
			}
		}
		return fleetApply(sys, rf, *dropInDir, set, stdout, stderr)
	}
	fmt.Fprint(stderr, fleetUsage)
	return 2
}

// parseInterspersed allows flags before and after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func fleetApply(sys System, rf renderFlags, dropInDir string, set map[string]string, stdout, stderr io.Writer) int {
	old, err := os.ReadFile(rf.defaults)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	data := EditSettings(old, set)
	s, err := ParseSettings(rf.defaults, data)
	if err != nil {
		fmt.Fprintf(stderr, "fleet: not changed: %v\n", err)
		return 1
	}
	// Validate by rendering exactly what prometheus-exec will render.
	cfg, err := os.ReadFile(rf.configIn)
	if err != nil {
		fmt.Fprintf(stderr, "fleet: not changed: %v\n", err)
		return 1
	}
	var mid string
	if s.DeviceID == "" {
		b, err := os.ReadFile(rf.machineID)
		if err != nil {
			fmt.Fprintf(stderr, "fleet: not changed: no %s and cannot read machine id: %v\n", KeyDeviceID, err)
			return 1
		}
		mid = string(b)
	}
	if _, err := Render(RenderInput{ConfigName: rf.configIn, Config: cfg, Settings: s, MachineID: mid}); err != nil {
		fmt.Fprintf(stderr, "fleet: not changed: %v\n", err)
		return 1
	}
	if err := writeFileAtomic(rf.defaults, data, 0o640); err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	if old == nil && os.Geteuid() == 0 {
		// A newly created file gets the packaged ownership so Prometheus
		// (group prometheus) can read it.
		if g, err := user.LookupGroup("prometheus"); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				_ = os.Chown(rf.defaults, 0, gid)
			}
		}
	}
	dropIn := filepath.Join(dropInDir, LeanDropInName)
	dropInChanged := false
	if s.Profile == ProfileLean {
		cur, err := os.ReadFile(dropIn)
		if err != nil || string(cur) != LeanDropIn {
			if err := os.MkdirAll(dropInDir, 0o755); err != nil {
				fmt.Fprintf(stderr, "fleet: %v\n", err)
				return 1
			}
			if err := writeFileAtomic(dropIn, []byte(LeanDropIn), 0o644); err != nil {
				fmt.Fprintf(stderr, "fleet: %v\n", err)
				return 1
			}
			dropInChanged = true
		}
		fmt.Fprintln(stdout, "lean profile: Prometheus runs in agent mode (forward only) and the slice budget is lowered to MemoryMax=96M;")
		fmt.Fprintln(stdout, "  Grafana does not fit that budget: systemctl disable --now grafana-server.service")
	} else {
		err := os.Remove(dropIn)
		if err == nil {
			dropInChanged = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "fleet: %v\n", err)
			return 1
		}
	}
	if s.URL != "" {
		fmt.Fprintf(stdout, "fleet enabled: remote_write to %s (profile %s)\n", s.URL, s.Profile)
	} else {
		fmt.Fprintln(stdout, "fleet disabled: no remote_write (profile full)")
	}
	if !sys.Booted() {
		fmt.Fprintln(stdout, "note: systemd is not running; restart Prometheus yourself to apply")
		return 0
	}
	if dropInChanged {
		if err := sys.Run(stdout, stderr, "systemctl", "daemon-reload"); err != nil {
			fmt.Fprintf(stderr, "fleet: systemctl daemon-reload: %v\n", err)
			return 1
		}
	}
	if err := sys.Run(stdout, stderr, "systemctl", "try-restart", "prometheus.service"); err != nil {
		fmt.Fprintf(stderr, "fleet: systemctl try-restart prometheus.service: %v\n", err)
		return 1
	}
	return 0
}

func fleetStatus(rf renderFlags, dropInDir string, stdout, stderr io.Writer) int {
	s, err := LoadSettings(rf.defaults)
	if err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	device := s.DeviceID
	if device == "" {
		if b, err := os.ReadFile(rf.machineID); err == nil {
			device = strings.TrimSpace(string(b)) + " (machine id)"
		} else {
			device = "unknown (no " + KeyDeviceID + ", no machine id)"
		}
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
	dropIn := filepath.Join(dropInDir, LeanDropInName)
	lean := "absent"
	if _, err := os.Stat(dropIn); err == nil {
		lean = "present (" + dropIn + ")"
	}
	rows := [][2]string{
		{"fleet", fleet}, {"profile", s.Profile}, {"device", device}, {"site", s.Site},
		{"role", s.Role}, {"auth", auth}, {"tls", tls}, {"lean drop-in", lean},
	}
	for _, r := range rows {
		fmt.Fprintf(stdout, "%-13s %s\n", r[0]+":", r[1])
	}
	return 0
}

// writeFileAtomic replaces path via a temporary file in the same directory,
// keeping the mode and ownership of an existing file (the defaults file is
// 0640 root:prometheus and may point at credentials).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	uid, gid := -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	if uid >= 0 && os.Geteuid() == 0 {
		if err := os.Chown(tmp.Name(), uid, gid); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}
