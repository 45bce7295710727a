package host

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/prometheus/procfs/sysfs"
)

var (
	netUpDesc   = desc("node_network_up", "1 when the interface's operstate is \"up\", 0 otherwise (/sys/class/net/<device>/operstate).", "device")
	netInfoDesc = desc("node_network_info", "Non-numeric data from /sys/class/net/<device>, value is always 1.",
		"address", "broadcast", "device", "duplex", "ifalias", "operstate")
)

// netInfoAttrs are the attributes node_network_info carries, in its label order.
var netInfoAttrs = [...]string{"address", "broadcast", "duplex", "ifalias", "operstate"}

// netclassCollector exports node_network_up and node_network_info, the
// families of node_exporter's netclass collector that tell whether a link
// is down, or reports no state at all as PPP links and many modems do. It
// reads those five attributes of each interface, kept open from poll to
// poll, where node_exporter reads twenty-odd afresh.
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
		var v [len(netInfoAttrs)]string
		for i, a := range netInfoAttrs {
			// Absent, or refused by the driver (duplex of a link without
			// one is EINVAL): empty, as in node_exporter. An interface
			// gone since the listing is not up.
			s, _ := c.read(filepath.Join(c.dir, dev, a))
			v[i] = strings.TrimSpace(s)
		}
		p.gauge(netUpDesc, boolFloat(v[4] == "up"), dev)
		p.gauge(netInfoDesc, 1, v[0], v[1], dev, v[2], v[3], v[4])
	}
	return nil
}
