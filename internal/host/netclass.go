package host

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/prometheus/procfs/sysfs"
)

var netUpDesc = desc("node_network_up", "1 when the interface's operstate is \"up\", 0 otherwise (/sys/class/net/<device>/operstate).", "device")

// netclassCollector exports node_network_up, the family of node_exporter's
// netclass collector that tells whether a link is down. It reads only the
// operstate attribute of each interface, kept open from poll to poll,
// where node_exporter reads twenty-odd afresh.
type netclassCollector struct {
	sys  sysfs.FS
	dir  string
	read func(string) (string, error)
}

func newNetclass(e *env) collector {
	return &netclassCollector{sys: e.sys, dir: filepath.Join(e.sysfs, "class", "net"), read: e.once}
}

func (c *netclassCollector) update(p *poll) error {
	devs, err := c.sys.NetClassDevices()
	if errors.Is(err, fs.ErrNotExist) {
		return errNoData
	}
	if err != nil {
		return err
	}
	for _, dev := range devs {
		// An interface gone since the listing, or without operstate, is
		// not up, as in node_exporter.
		state, err := c.read(filepath.Join(c.dir, dev, "operstate"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		p.gauge(netUpDesc, boolFloat(strings.TrimSpace(state) == "up"), dev)
	}
	return nil
}
