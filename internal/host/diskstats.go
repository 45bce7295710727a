package host

import (
	"path/filepath"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/blockdevice"
)

// DefaultDiskstatsExclude is node_exporter 1.5's: RAM disks, loop devices,
// floppies and the partitions of SCSI/SATA, IDE, virtio, Xen and NVMe
// disks. An SD card's or eMMC's partitions (mmcblk0p1) stay.
const DefaultDiskstatsExclude = `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`

// Units of /proc/diskstats (Documentation/admin-guide/iostats.rst):
// sectors of 512 bytes whatever the device, times in milliseconds.
const (
	sectorBytes = 512
	tickSeconds = 1e-3
)

// diskFamilies are node_exporter 1.5's diskstats families in the order of
// the fields of /proc/diskstats; a kernel that prints fewer fields (no
// discard before 4.18, no flush before 5.5) has fewer families.
var diskFamilies = func() []*prometheus.Desc {
	d := func(name, help string) *prometheus.Desc {
		return desc("node_disk_"+name, help+" (/proc/diskstats).", "device")
	}
	return []*prometheus.Desc{
		d("reads_completed_total", "Reads completed successfully"),
		d("reads_merged_total", "Adjacent reads merged into one"),
		d("read_bytes_total", "Bytes read successfully"),
		d("read_time_seconds_total", "Seconds spent by all reads"),
		d("writes_completed_total", "Writes completed successfully"),
		d("writes_merged_total", "Adjacent writes merged into one"),
		d("written_bytes_total", "Bytes written successfully"),
		d("write_time_seconds_total", "Seconds spent by all writes"),
		d("io_now", "I/Os in progress"),
		d("io_time_seconds_total", "Seconds spent doing I/Os"),
		d("io_time_weighted_seconds_total", "Seconds spent doing I/Os, weighted by the I/Os in progress"),
		d("discards_completed_total", "Discards completed successfully"),
		d("discards_merged_total", "Adjacent discards merged into one"),
		d("discarded_sectors_total", "Sectors discarded successfully"),
		d("discard_time_seconds_total", "Seconds spent by all discards"),
		d("flush_requests_total", "Flush requests completed successfully"),
		d("flush_requests_time_seconds_total", "Seconds spent by all flush requests"),
	}
}()

// diskstatsCollector is node_exporter's diskstats collector without the
// families it builds from udev's database (node_disk_info and the like).
type diskstatsCollector struct {
	block   blockdevice.FS
	path    string
	exclude *regexp.Regexp
}

func newDiskstats(e *env) collector {
	return &diskstatsCollector{block: e.block, path: filepath.Join(e.procfs, "diskstats"), exclude: regexp.MustCompile(DefaultDiskstatsExclude)}
}

func (c *diskstatsCollector) update(p *poll) error {
	disks, err := c.block.ProcDiskstats()
	if err != nil {
		return inFile(c.path, err)
	}
	for _, d := range disks {
		if c.exclude.MatchString(d.DeviceName) {
			continue
		}
		v := [...]float64{
			float64(d.ReadIOs), float64(d.ReadMerges), float64(d.ReadSectors) * sectorBytes, float64(d.ReadTicks) * tickSeconds,
			float64(d.WriteIOs), float64(d.WriteMerges), float64(d.WriteSectors) * sectorBytes, float64(d.WriteTicks) * tickSeconds,
			float64(d.IOsInProgress), float64(d.IOsTotalTicks) * tickSeconds, float64(d.WeightedIOTicks) * tickSeconds,
			float64(d.DiscardIOs), float64(d.DiscardMerges), float64(d.DiscardSectors), float64(d.DiscardTicks) * tickSeconds,
			float64(d.FlushRequestsCompleted), float64(d.TimeSpentFlushing) * tickSeconds,
		}
		// IoStatsCount counts the major, minor and name fields too.
		for i := 0; i < len(v) && i < d.IoStatsCount-3; i++ {
			t := prometheus.CounterValue
			if i == 8 { // io_now
				t = prometheus.GaugeValue
			}
			p.add(diskFamilies[i], t, v[i], d.DeviceName)
		}
	}
	return nil
}
