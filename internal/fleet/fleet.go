// Package fleet turns the device's forwarding to a central engine on and
// off: the remote_write settings, a central Alertmanager for its alerts,
// the labels identifying the device, and the lean profile with its lower
// slice budget.
package fleet

import (
	"fmt"
	"path/filepath"

	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

const (
	// DefaultDropInDir is where systemd reads local drop-ins of the slice.
	DefaultDropInDir = "/etc/systemd/system/edge-observability.slice.d"
	// LeanDropInName is the drop-in of the lean profile in DefaultDropInDir.
	LeanDropInName = "lean.conf"
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

// Fleet applies fleet settings.
type Fleet struct {
	apply.Applier
	// DropInDir is the slice's drop-in directory (DefaultDropInDir).
	DropInDir string
}

// Apply changes the settings, then the lean drop-in to match, and restarts
// Prometheus. Settings that do not render leave every file unchanged.
func (f *Fleet) Apply(set map[string]string) error {
	s, err := f.WriteSettings(set)
	if err != nil {
		return err
	}
	lean := s.Profile == settings.ProfileLean
	var content []byte
	if lean {
		content = []byte(leanDropIn)
	}
	dropInChanged, err := apply.SyncFile(filepath.Join(f.DropInDir, LeanDropInName), content)
	if err != nil {
		return err
	}
	if lean {
		fmt.Fprintln(f.Stdout, "lean profile: Prometheus runs in agent mode (forward only) and the slice budget is lowered to MemoryMax=104M;")
		fmt.Fprintln(f.Stdout, "  Grafana does not fit that budget: systemctl disable --now grafana-server.service")
	}
	if s.URL != "" {
		fmt.Fprintf(f.Stdout, "fleet enabled: remote_write to %s (profile %s)\n", s.URL, s.Profile)
	} else {
		fmt.Fprintln(f.Stdout, "fleet disabled: no remote_write (profile full)")
	}
	if s.Alerting.Central.URL != "" {
		fmt.Fprintf(f.Stdout, "alerts also go to the central Alertmanager %s\n", s.Alerting.Central.URL)
	}
	var cmds [][]string
	if dropInChanged {
		cmds = append(cmds, []string{"daemon-reload"})
	}
	cmds = append(cmds, []string{"try-restart", "prometheus.service"})
	return f.Systemctl("Prometheus", cmds...)
}

// Describe is the status report, one row per aspect.
func (f *Fleet) Describe(s *settings.Settings) [][2]string {
	device, fromMachineID, err := s.Device(f.MachineID)
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
	am := "none"
	if c := s.Alerting.Central; c.URL != "" {
		am = c.URL
		if c.PasswordFile != "" {
			am += fmt.Sprintf(", basic auth (user %s, password file %s)", c.Username, c.PasswordFile)
		}
		if c.CAFile != "" {
			am += ", CA file " + c.CAFile
		}
	}
	lean := "absent"
	if path := filepath.Join(f.DropInDir, LeanDropInName); apply.Exists(path) {
		lean = "present (" + path + ")"
	}
	return [][2]string{
		{"fleet", fleet}, {"profile", s.Profile}, {"device", device}, {"site", s.Site},
		{"role", s.Role}, {"auth", auth}, {"tls", tls}, {"alertmanager", am}, {"lean drop-in", lean},
	}
}
