package host

import (
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// netdevFamilies are the traffic and error families of node_exporter's
// netdev collector (its names without --collector.netdev.enable-detailed-metrics).
var netdevFamilies = func() []*prometheus.Desc {
	d := func(name, help string) *prometheus.Desc {
		return desc("node_network_"+name+"_total", help+" (/proc/net/dev).", "device")
	}
	return []*prometheus.Desc{
		d("receive_bytes", "Bytes received"), d("receive_packets", "Packets received"),
		d("receive_errs", "Receive errors"), d("receive_drop", "Packets dropped on receipt"),
		d("transmit_bytes", "Bytes sent"), d("transmit_packets", "Packets sent"),
		d("transmit_errs", "Transmit errors"), d("transmit_drop", "Packets dropped on sending"),
	}
}()

// netdevCollector exports the counters of every interface in
// /proc/net/dev, the loopback included, as node_exporter does by default.
type netdevCollector struct {
	proc procfs.FS
	path string
}

func newNetdev(e *env) collector {
	return &netdevCollector{proc: e.proc, path: filepath.Join(e.procfs, "net", "dev")}
}

func (c *netdevCollector) update(p *poll) error {
	devs, err := c.netDev()
	if err != nil {
		return inFile(c.path, err)
	}
	for name, d := range devs {
		for i, v := range [...]uint64{d.RxBytes, d.RxPackets, d.RxErrors, d.RxDropped, d.TxBytes, d.TxPackets, d.TxErrors, d.TxDropped} {
			p.counter(netdevFamilies[i], float64(v), name)
		}
	}
	return nil
}

// netDev is procfs's parser, which panics on a line with fewer fields than
// the kernel prints: that is a garbage file, reported as such.
func (c *netdevCollector) netDev() (devs procfs.NetDev, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: not in the format of /proc/net/dev (%v)", c.path, r)
		}
	}()
	return c.proc.NetDev()
}
