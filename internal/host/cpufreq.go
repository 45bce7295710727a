package host

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/procfs/sysfs"
)

var scalingFreqDesc = desc("node_cpu_scaling_frequency_hertz", "The CPU's current frequency as cpufreq set it, in hertz (scaling_cur_freq); lower than usual while the firmware or the kernel throttles it.", "cpu")

// cpufreqCollector exports node_cpu_scaling_frequency_hertz of
// node_exporter's cpufreq collector: scaling_cur_freq of every CPU that
// has cpufreq. It reads that one attribute of each CPU, kept open from
// poll to poll; procfs's SystemCpufreq reads sixteen files of each CPU
// (the family's siblings and statistics), about 480 system calls a poll of
// a Raspberry Pi 4. A kernel without cpufreq (most virtual machines) has no
// data.
type cpufreqCollector struct {
	sys   sysfs.FS
	read  func(string) (string, error)
	paths map[sysfs.CPU]string
}

func newCPUFreq(e *env) collector {
	return &cpufreqCollector{sys: e.sys, read: e.once, paths: map[sysfs.CPU]string{}}
}

func (c *cpufreqCollector) update(p *poll) error {
	cpus, err := c.sys.CPUs()
	if err != nil {
		return err
	}
	for _, cpu := range cpus {
		path, ok := c.paths[cpu]
		if !ok {
			path = filepath.Join(string(cpu), "cpufreq", "scaling_cur_freq")
			c.paths[cpu] = path
		}
		s, err := c.read(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no cpufreq for this CPU
		}
		if err != nil {
			return err
		}
		// "<unknown>" when the kernel cannot sample it: no value.
		khz, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			continue
		}
		p.gauge(scalingFreqDesc, float64(khz)*1000, cpu.Number())
	}
	return nil
}
