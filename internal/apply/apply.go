// Package apply makes a change of the device's settings take effect: it
// edits /etc/default/edge-observability, checks that everything rendered
// from the result is valid before writing anything, writes it, keeps the
// systemd drop-ins that follow from it in step, and restarts the units that
// read it. edgectl fleet and edgectl alerts are built on it.
package apply

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/atomicfile"
	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

// ServiceManager is what a change asks of systemd; tests fake it.
type ServiceManager interface {
	// Booted reports whether systemd is the running init.
	Booted() bool
	Systemctl(stdout, stderr io.Writer, args ...string) error
}

// Applier applies changes of the settings file. Its checks render
// Prometheus's configuration from ConfigIn as prometheus-exec will.
type Applier struct {
	Services ServiceManager
	// Settings is the settings file (/etc/default/edge-observability).
	Settings string
	// ConfigIn is the user's prometheus.yml; MachineID the file holding
	// the default device id.
	ConfigIn, MachineID string
	Stdout, Stderr      io.Writer
}

// Check validates settings about to be written; an error leaves every file
// unchanged.
type Check func(*settings.Settings) error

// WriteSettings edits the settings file, after checking that the result
// parses, renders exactly as prometheus-exec will render it, and passes the
// extra checks.
func (a *Applier) WriteSettings(set map[string]string, checks ...Check) (*settings.Settings, error) {
	path := a.Settings
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data := settings.Edit(old, set)
	s, err := settings.Parse(path, data)
	if err == nil {
		_, err = promconfig.RenderFile(a.ConfigIn, s, a.MachineID)
	}
	for _, check := range checks {
		if err == nil {
			err = check(s)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("not changed: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o640); err != nil {
		return nil, err
	}
	if old == nil && os.Geteuid() == 0 {
		// A newly created file gets the packaged ownership so Prometheus
		// (group prometheus) can read it.
		ChownToPrometheus(path)
	}
	return s, nil
}

// ChownToPrometheus gives path to root:prometheus when that group exists
// (best effort: without it the file stays root's).
func ChownToPrometheus(path string) {
	if g, err := user.LookupGroup("prometheus"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			_ = os.Chown(path, 0, gid)
		}
	}
}

// SyncFile makes path hold content, or removes it when content is nil;
// changed says whether the file changed (systemd must then reload its
// units, for a drop-in).
func SyncFile(path string, content []byte) (changed bool, err error) {
	if content == nil {
		err := os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	if cur, err := os.ReadFile(path); err == nil && string(cur) == string(content) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	return true, atomicfile.Write(path, content, 0o644)
}

// Systemctl runs the systemctl commands in order, stopping at the first
// that fails. Without a running systemd it runs none and prints a note that
// what (e.g. "Prometheus") must be restarted by hand.
func (a *Applier) Systemctl(what string, cmds ...[]string) error {
	if !a.Services.Booted() {
		fmt.Fprintf(a.Stdout, "note: systemd is not running; restart %s yourself to apply\n", what)
		return nil
	}
	for _, c := range cmds {
		if err := a.Services.Systemctl(a.Stdout, a.Stderr, c...); err != nil {
			return fmt.Errorf("systemctl %s: %w", strings.Join(c, " "), err)
		}
	}
	return nil
}

// Exists reports whether path exists.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
