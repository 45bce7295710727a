package host

import (
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// meminfoFields are the fields of /proc/meminfo exported, with the family
// node_exporter names each; a field the kernel does not print is absent.
var meminfoFields = []struct {
	desc  *prometheus.Desc
	field func(*procfs.Meminfo) *uint64
}{
	{memDesc("MemTotal", "Total usable memory"), func(m *procfs.Meminfo) *uint64 { return m.MemTotalBytes }},
	{memDesc("MemAvailable", "Memory available for starting new applications without swapping (the kernel's estimate)"), func(m *procfs.Meminfo) *uint64 { return m.MemAvailableBytes }},
	{memDesc("MemFree", "Memory not used at all"), func(m *procfs.Meminfo) *uint64 { return m.MemFreeBytes }},
	{memDesc("Buffers", "Memory in block device buffers"), func(m *procfs.Meminfo) *uint64 { return m.BuffersBytes }},
	{memDesc("Cached", "Memory in the page cache"), func(m *procfs.Meminfo) *uint64 { return m.CachedBytes }},
	{memDesc("SReclaimable", "Slab memory the kernel can reclaim"), func(m *procfs.Meminfo) *uint64 { return m.SReclaimableBytes }},
	{memDesc("SwapTotal", "Total swap space"), func(m *procfs.Meminfo) *uint64 { return m.SwapTotalBytes }},
	{memDesc("SwapFree", "Unused swap space"), func(m *procfs.Meminfo) *uint64 { return m.SwapFreeBytes }},
}

// meminfoCollector is the part of node_exporter's meminfo collector that
// tells whether the device runs out of memory.
type meminfoCollector struct {
	proc procfs.FS
	path string
}

func newMeminfo(e *env) collector {
	return &meminfoCollector{proc: e.proc, path: filepath.Join(e.procfs, "meminfo")}
}

func (c *meminfoCollector) update(p *poll) error {
	m, err := c.proc.Meminfo()
	if err != nil {
		return inFile(c.path, err)
	}
	for _, f := range meminfoFields {
		if v := f.field(&m); v != nil {
			p.gauge(f.desc, float64(*v))
		}
	}
	return nil
}

func memDesc(field, help string) *prometheus.Desc {
	return desc("node_memory_"+field+"_bytes", help+", in bytes ("+field+" of /proc/meminfo).")
}
