package host

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/prometheus/procfs/sysfs"
)

var netUpDesc = desc("node_network_up", "1 when the interface's operstate is \"up\", 0 otherwise (/sys/class/net/<device>/operstate).", "device")

// netclassCollector exports node_network_up, the family of node_exporter's
// netclass collector that tells whether a link is down. It reads only the
// operstate attribute of each interface, where node_exporter reads
// twenty-odd.
type netclassCollector struct {
	sys sysfs.FS
	dir string
}

func newNetclass(e *env) collector {
	return &netclassCollector{sys: e.sys, dir: filepath.Join(e.sysfs, "class", "net")}
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
		var iface sysfs.NetClassIface
		if err := sysfs.ParseNetClassAttribute(filepath.Join(c.dir, dev), "operstate", &iface); err != nil {
			return err
		}
		p.gauge(netUpDesc, boolFloat(iface.OperState == "up"), dev)
	}
	return nil
}
