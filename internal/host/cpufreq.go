package host

import (
	"errors"
	"io/fs"

	"github.com/prometheus/procfs/sysfs"
)

var scalingFreqDesc = desc("node_cpu_scaling_frequency_hertz", "The CPU's current frequency as cpufreq set it, in hertz (scaling_cur_freq); lower than usual while the firmware or the kernel throttles it.", "cpu")

// cpufreqCollector exports node_cpu_scaling_frequency_hertz of
// node_exporter's cpufreq collector. A kernel without cpufreq (most
// virtual machines) has no data.
type cpufreqCollector struct{ sys sysfs.FS }

func newCPUFreq(e *env) collector { return &cpufreqCollector{sys: e.sys} }

func (c *cpufreqCollector) update(p *poll) error {
	cpus, err := c.sys.SystemCpufreq()
	if errors.Is(err, fs.ErrNotExist) {
		return errNoData
	}
	if err != nil {
		return err
	}
	for _, cpu := range cpus {
		if cpu.ScalingCurrentFrequency != nil { // sysfs gives kHz
			p.gauge(scalingFreqDesc, float64(*cpu.ScalingCurrentFrequency)*1000, cpu.Name)
		}
	}
	return nil
}
