package host

import (
	"fmt"
	"os"
)

// registry is the one list of host collectors, in the order they run, and
// the one place their names are written; a new collector is added here.
// Names are node_exporter's where the collector is one of its own (they
// name the --[no-]collector.X flags and the collector label of
// edge_sensor_scrape_collector_success), and must differ from the sensor
// sources' names. attrs marks the collectors whose unreadable or garbage
// attributes are counted in edge_sensor_read_errors_total; help is the
// --collector.X flag's.
var registry = []struct {
	name  string
	new   func(*env) collector
	attrs bool
	help  string
}{
	{"cpu", newCPU, false, "node_cpu_seconds_total from /proc/stat"},
	{"stat", newStat, false, "node_boot_time_seconds from /proc/stat"},
	{"loadavg", newLoadavg, false, "node_load1, node_load5, node_load15 from /proc/loadavg"},
	{"meminfo", newMeminfo, false, "node_memory_*_bytes from /proc/meminfo"},
	{"pressure", newPressure, false, "node_pressure_* from /proc/pressure (PSI)"},
	{"filesystem", newFilesystem, false, "node_filesystem_* from the host's mount table and statfs"},
	{"diskstats", newDiskstats, false, "node_disk_* from /proc/diskstats"},
	{"netdev", newNetdev, false, "node_network_{receive,transmit}_* from /proc/net/dev"},
	{"netclass", newNetclass, false, "node_network_up and node_network_info from /sys/class/net"},
	{"network_route", newNetworkRoute, false, "node_network_route_info and node_network_routes from /proc/net/route"},
	{"time", newTime, false, "node_time_seconds"},
	{"uname", newUname, false, "node_uname_info"},
	{"cpufreq", newCPUFreq, false, "node_cpu_scaling_frequency_hertz from cpufreq"},
	{"rpi", newRPi, true, "edge_rpi_throttle: a Raspberry Pi's under-voltage and throttling"},
	{"mmc", newMMC, true, "edge_mmc_*: the wear eMMC storage reports"},
}

// attributeCollectors are the collectors marked attrs in the registry.
var attributeCollectors = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range registry {
		m[r.name] = r.attrs
	}
	return m
}()

// CollectorNames lists every collector in registration order.
func CollectorNames() []string {
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.name
	}
	return names
}

// CollectorHelp says what a collector exports, for its flag.
func CollectorHelp(name string) string {
	for _, r := range registry {
		if r.name == name {
			return r.help
		}
	}
	return ""
}

func isDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}
