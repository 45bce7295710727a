// Package dashboard defines the panels of the device's dashboard once, for
// both the built-in page (served as JSON by /api/dashboard) and the Grafana
// dashboard, which is generated from this list (see grafana_test.go).
package dashboard

//go:generate go test . -run TestGrafanaDashboard -update

// Panel is one graph or figure. The built-in page renders it from this
// definition alone.
type Panel struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Section string `json:"section"`
	// Unit is a Grafana unit id (celsius, volt, percentunit, bytes, s, ...).
	Unit string `json:"unit"`
	// Kind is KindTimeseries or KindStat.
	Kind        string  `json:"kind"`
	Queries     []Query `json:"queries"`
	Description string  `json:"description"`
}

// Query is one PromQL expression of a panel. Expressions are plain PromQL,
// without Grafana variables: the daemon runs them as they are when the page
// names the panel and the query's index (GET /api/panels/{id}/{index}).
type Query struct {
	Expr string `json:"expr"`
	// Legend names each series in Grafana's template syntax: "{{unit}} limit".
	Legend string `json:"legend"`
}

// Panel kinds.
const (
	KindTimeseries = "timeseries"
	KindStat       = "stat"
)

// Sections, in display order.
const (
	SectionDevice    = "Device"
	SectionSensors   = "Sensors"
	SectionFailures  = "Failures"
	SectionScrapes   = "Scrapes"
	SectionResources = "Resources"
)

// Slice is the unit label of the stack's slice in edge_unit_* series.
const Slice = "edge-observability.slice"

// Panels returns the dashboard's panels in display order, grouped by section.
// Rates use a 5m window (1m for CPU, as its recording rule does): with 15s
// scrapes that is enough samples at the page's coarsest step.
func Panels() []Panel {
	var p []Panel
	for _, section := range [][]Panel{devicePanels(), sensorPanels(), failurePanels(), scrapePanels(), resourcePanels()} {
		p = append(p, section...)
	}
	return p
}

func sensorPanels() []Panel {
	byKind := func(id, title, metric, unit string) Panel {
		return Panel{ID: id, Title: title, Section: SectionSensors, Unit: unit, Kind: KindTimeseries,
			Queries: []Query{{metric, "{{chip}} {{label}}"}}}
	}
	temperature := byKind("temperature", "Temperature", "edge_sensor_temperature_celsius", "celsius")
	temperature.Queries = append(temperature.Queries,
		Query{`edge_sensor_temperature_limit_celsius{type=~"crit|critical"}`, "{{chip}} {{label}} " + LimitSuffix})
	temperature.Description = "Each sensor's reading, and the critical limit its chip or thermal zone gives (dashed)."
	return []Panel{
		temperature,
		byKind("voltage", "Voltage", "edge_sensor_voltage_volts", "volt"),
		byKind("current", "Current", "edge_sensor_current_amperes", "amp"),
		byKind("power", "Power", "edge_sensor_power_watts", "watt"),
		byKind("fan", "Fan speed", "edge_sensor_fan_speed_rpm", "rpm"),
		byKind("humidity", "Humidity", "edge_sensor_humidity_ratio", "percentunit"),
		byKind("pressure", "Pressure", "edge_sensor_pressure_pascals", "pressurepa"),
		byKind("illuminance", "Illuminance", "edge_sensor_illuminance_lux", "lux"),
		{ID: "stale", Title: "Stale sensors", Section: SectionSensors, Unit: "short", Kind: KindStat,
			Queries:     []Query{{"sum(edge_sensor_stale)", "stale"}},
			Description: "Sensors whose last successful read is older than stale_after poll intervals."},
		{ID: "sources", Title: "Sensors per source", Section: SectionSensors, Unit: "short", Kind: KindStat,
			Queries: []Query{{"edge_sensor_sensors", "{{source}}"}}},
	}
}

func failurePanels() []Panel {
	return []Panel{
		{ID: "failure-events", Title: "Sensor failure events", Section: SectionFailures, Unit: "ops", Kind: KindTimeseries,
			Queries:     []Query{{"sum by (reason) (rate(sensor_failed_events_total[5m]))", "{{reason}}"}},
			Description: "read_error, stale, route_error and cpu_spike events per second (5m average)."},
		// Already one series per source and reason: a sum by them would only double the
		// samples Prometheus holds (against its --query.max-samples).
		{ID: "read-errors", Title: "Read errors by source and reason", Section: SectionFailures, Unit: "ops", Kind: KindTimeseries,
			Queries: []Query{{"rate(edge_sensor_read_errors_total[5m])", "{{source}} {{reason}}"}}},
		{ID: "host-cpu", Title: "Host CPU usage", Section: SectionFailures, Unit: "percentunit", Kind: KindTimeseries,
			Queries:     []Query{{"edge_sensor_host_cpu_usage_ratio", "host CPU"}, {"sensor_cpu_spike", "spike (0/1)"}},
			Description: "Share of all CPUs in use; the spike gauge is 1 while use is over --cpu.spike-threshold."},
	}
}

func scrapePanels() []Panel {
	return []Panel{
		{ID: "targets-up", Title: "Targets up", Section: SectionScrapes, Unit: "short", Kind: KindTimeseries,
			Queries: []Query{{"up", "{{job}} {{instance}}"}}},
		{ID: "scrape-success", Title: "Scrape success ratio (5m)", Section: SectionScrapes, Unit: "percentunit", Kind: KindTimeseries,
			Queries: []Query{{"job:scrape_success:ratio_5m", "{{job}}"}}},
		{ID: "scrape-duration", Title: "Scrape duration", Section: SectionScrapes, Unit: "s", Kind: KindTimeseries,
			Queries: []Query{{"scrape_duration_seconds", "{{job}}"},
				{"edge_sensor_scrape_collector_duration_seconds", "collector {{collector}}"}}},
		// The age at each scrape, not at the chart's step: between scrapes the
		// latter grows by up to the scrape interval, and looks late when polls are not.
		{ID: "poll-age", Title: "Age of the last poll when scraped", Section: SectionScrapes, Unit: "s", Kind: KindTimeseries,
			Queries:     []Query{{"timestamp(edge_sensor_poll_last_success_timestamp_seconds) - edge_sensor_poll_last_success_timestamp_seconds", "{{instance}}"}},
			Description: "Under the poll interval (5 s) while polls are on time; a line that keeps rising is a poll loop that stopped."},
		{ID: "clock-synchronized", Title: "Clock synchronised (NTP)", Section: SectionScrapes, Unit: "short", Kind: KindStat,
			Queries:     []Query{{"edge_clock_synchronized", "{{instance}}"}},
			Description: "1 when the kernel's clock is synchronised by NTP; 0 means sample times, and so these charts, may be wrong (a device without a real-time clock boots with a wrong time)."},
		{ID: "collector-success", Title: "Collector success", Section: SectionScrapes, Unit: "short", Kind: KindTimeseries,
			Queries: []Query{{"edge_sensor_scrape_collector_success", "{{collector}}"}}},
	}
}

func resourcePanels() []Panel {
	sliceSel := `{unit="` + Slice + `"}`
	return []Panel{
		{ID: "budget", Title: "Stack memory vs 150 MB budget", Section: SectionResources, Unit: "bytes", Kind: KindTimeseries,
			Queries: []Query{{"edge_unit_memory_bytes" + sliceSel, "used"},
				{"edge_unit_memory_max_bytes" + sliceSel, "MemoryMax"}},
			Description: "Memory charged to " + Slice + " (every unit of the stack together) against the slice's MemoryMax."},
		{ID: "unit-memory", Title: "Memory per unit vs limit", Section: SectionResources, Unit: "bytes", Kind: KindTimeseries,
			Queries: []Query{{"edge_unit_memory_bytes", "{{unit}}"}, {"edge_unit_memory_max_bytes", "{{unit}} limit"}}},
		{ID: "unit-memory-ratio", Title: "Memory use of limit", Section: SectionResources, Unit: "percentunit", Kind: KindTimeseries,
			Queries: []Query{{"unit:edge_unit_memory_bytes:ratio_max", "{{unit}}"}}},
		{ID: "unit-cpu", Title: "CPU per unit", Section: SectionResources, Unit: "short", Kind: KindTimeseries,
			Queries:     []Query{{"rate(edge_unit_cpu_seconds_total[1m])", "{{unit}}"}},
			Description: "CPU cores used (1m average); the slice's CPUQuota=150% is 1.5 cores."},
		{ID: "unit-writes", Title: "Storage writes per unit, per hour", Section: SectionResources, Unit: "bytes", Kind: KindTimeseries,
			Queries:     []Query{{"rate(edge_unit_io_write_bytes_total[15m]) * 3600", "{{unit}}"}},
			Description: "Bytes each unit sends to storage an hour (15m average), page-cache write-back included: what wears an SD card. Only with the io controller (cgroup v2)."},
		{ID: "oom-kills", Title: "OOM kills (12h)", Section: SectionResources, Unit: "short", Kind: KindStat,
			Queries:     []Query{{"increase(edge_unit_oom_kills_total[12h])", "{{unit}}"}},
			Description: "Processes the kernel killed for want of memory over Prometheus's 12h retention; only where the kernel reports OOM kills per cgroup (cgroup v2)."},
	}
}

// LimitSuffix ends the legend of a series that is a limit, which the page
// draws dashed.
const LimitSuffix = "limit"

// devicePanels answer "is the device OK?" from the host collectors' node_*
// series, under node_exporter's names.
func devicePanels() []Panel {
	dev := func(id, title, unit, kind, desc string, q ...Query) Panel {
		return Panel{ID: id, Title: title, Section: SectionDevice, Unit: unit, Kind: kind, Queries: q, Description: desc}
	}
	return []Panel{
		dev("device-cpu", "CPU use", "percentunit", KindTimeseries, "Share of all CPUs busy, and waiting for storage (5m average).",
			Query{`1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle"}[5m]))`, "busy"},
			Query{`avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="iowait"}[5m]))`, "waiting for I/O"}),
		dev("device-load", "Load average", "short", KindTimeseries, "Tasks running or waiting; above the number of CPUs, work queues up.",
			Query{"node_load1", "1 min"}, Query{"node_load15", "15 min"},
			Query{`count without (cpu) (node_cpu_seconds_total{mode="idle"})`, "CPUs"}),
		dev("device-memory", "Memory available", "percentunit", KindTimeseries, "MemAvailable of MemTotal, and the share of swap in use (0 without swap).",
			Query{"node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "available"},
			Query{"1 - node_memory_SwapFree_bytes / (node_memory_SwapTotal_bytes > 0) or node_memory_SwapTotal_bytes * 0", "swap used"}),
		dev("device-pressure", "Pressure stalls", "percentunit", KindTimeseries, "Share of time tasks stalled for memory or storage, or waited for a CPU (PSI, 5m average).",
			Query{"rate(node_pressure_memory_stalled_seconds_total[5m])", "memory"},
			Query{"rate(node_pressure_io_stalled_seconds_total[5m])", "I/O"},
			Query{"rate(node_pressure_cpu_waiting_seconds_total[5m])", "CPU"}),
		dev("device-cpufreq", "CPU frequency", "hertz", KindTimeseries, "Average clock of the CPUs; a drop under load is throttling.",
			Query{"avg without (cpu) (node_cpu_scaling_frequency_hertz)", "average"}),
		dev("device-throttle", "Power and throttling", "bool_yes_no", KindTimeseries,
			"Raspberry Pi firmware: under-voltage, frequency capping, throttling and the soft temperature limit, now and since boot.",
			Query{"edge_rpi_throttle", "{{condition}} {{state}}"}),
		dev("device-filesystems", "Filesystem space used", "percentunit", KindTimeseries, "Used share of each filesystem's space, as a normal user sees it (avail).",
			Query{"1 - node_filesystem_avail_bytes / node_filesystem_size_bytes", "{{mountpoint}}"}),
		dev("device-writes", "Writes per day by disk", "bytes", KindTimeseries, "Bytes written to each disk a day (1h average): what wears an SD card.",
			Query{"rate(node_disk_written_bytes_total[1h]) * 86400", "{{device}}"}),
		dev("device-network", "Network traffic", "Bps", KindTimeseries, "Bytes a second in and out of each interface but the loopback (5m average).",
			Query{`rate(node_network_receive_bytes_total{device!="lo"}[5m])`, "{{device}} in"},
			Query{`rate(node_network_transmit_bytes_total{device!="lo"}[5m])`, "{{device}} out"}),
		dev("device-links", "Links up", "bool_yes_no", KindTimeseries, "Whether each interface's link is up.",
			Query{`node_network_up{device!="lo"}`, "{{device}}"}),
		dev("device-uptime", "Uptime", "s", KindStat, "Time since the device booted.",
			Query{"time() - node_boot_time_seconds", "up"}),
		dev("device-reboots", "Reboots (12h)", "short", KindStat, "Boots within Prometheus's 12h retention.",
			Query{"changes(node_boot_time_seconds[12h])", "reboots"}),
		dev("device-emmc", "eMMC wear", "percentunit", KindStat, "Share of its rated life an eMMC reports used (life_time bands; microSD cards report none).",
			Query{"edge_mmc_life_time_used_ratio", "{{device}} type {{type}}"}),
	}
}
