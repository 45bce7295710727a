package health

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// UnitState is what systemd says about a unit.
type UnitState struct {
	LoadState   string  `json:"load_state,omitempty"` // loaded, not-found, masked, ...
	ActiveState string  `json:"active_state"`         // active, failed, inactive, activating, ...
	SubState    string  `json:"sub_state"`            // running, exited, dead, ...
	NRestarts   *uint32 `json:"restarts,omitempty"`   // automatic restarts (services only)
	Result      string  `json:"result,omitempty"`     // services: success, oom-kill, exit-code, ...
}

// Systemd reports unit states. The D-Bus implementation is DBus; tests
// supply their own.
type Systemd interface {
	UnitStates(ctx context.Context, units []string) (map[string]UnitState, error)
}

// SliceLister is optionally implemented by a Systemd to list the loaded
// units of a slice, including stopped ones that have no cgroup.
type SliceLister interface {
	SliceUnits(ctx context.Context, slice string) ([]string, error)
}

// ErrNoBus is returned by DialSystemd when neither the system bus nor
// systemd's private socket can be reached (e.g. systemd is not PID 1).
var ErrNoBus = errors.New("no connection to systemd (neither the D-Bus system bus nor /run/systemd/private is reachable)")

// DBus reads unit states from systemd over D-Bus.
type DBus struct {
	conn *sdbus.Conn
}

// DialSystemd connects to systemd through the system bus, falling back to
// systemd's private socket (root only) for systems without a bus daemon.
func DialSystemd(ctx context.Context) (*DBus, error) {
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err == nil {
		return &DBus{conn: conn}, nil
	}
	conn, err2 := sdbus.NewSystemdConnectionContext(ctx)
	if err2 == nil {
		return &DBus{conn: conn}, nil
	}
	return nil, fmt.Errorf("%w: system bus: %v; private socket: %v", ErrNoBus, err, err2)
}

// Close closes the connection.
func (d *DBus) Close() { d.conn.Close() }

// UnitStates implements Systemd.
func (d *DBus) UnitStates(ctx context.Context, units []string) (map[string]UnitState, error) {
	out := make(map[string]UnitState, len(units))
	for _, u := range units {
		var st UnitState
		for name, dst := range map[string]*string{"LoadState": &st.LoadState, "ActiveState": &st.ActiveState, "SubState": &st.SubState} {
			p, err := d.conn.GetUnitPropertyContext(ctx, u, name)
			if err != nil {
				return nil, fmt.Errorf("systemd: %s %s: %w", u, name, err)
			}
			s, ok := p.Value.Value().(string)
			if !ok {
				return nil, fmt.Errorf("systemd: %s %s: unexpected type %T", u, name, p.Value.Value())
			}
			*dst = s
		}
		if strings.HasSuffix(u, ".service") && st.LoadState == "loaded" {
			p, err := d.conn.GetServicePropertyContext(ctx, u, "NRestarts")
			if err != nil {
				return nil, fmt.Errorf("systemd: %s NRestarts: %w", u, err)
			}
			if n, ok := p.Value.Value().(uint32); ok {
				st.NRestarts = &n
			}
			if p, err = d.conn.GetServicePropertyContext(ctx, u, "Result"); err != nil {
				return nil, fmt.Errorf("systemd: %s Result: %w", u, err)
			}
			st.Result, _ = p.Value.Value().(string)
		}
		out[u] = st
	}
	return out, nil
}

// SliceUnits implements SliceLister. systemd makes every unit placed in a
// slice require it, so the slice's RequiredBy lists its loaded members.
func (d *DBus) SliceUnits(ctx context.Context, slice string) ([]string, error) {
	p, err := d.conn.GetUnitPropertyContext(ctx, slice, "RequiredBy")
	if err != nil {
		return nil, fmt.Errorf("systemd: %s RequiredBy: %w", slice, err)
	}
	names, ok := p.Value.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("systemd: %s RequiredBy: unexpected type %T", slice, p.Value.Value())
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".service") || strings.HasSuffix(n, ".scope") || strings.HasSuffix(n, ".slice") {
			out = append(out, n)
		}
	}
	return out, nil
}
