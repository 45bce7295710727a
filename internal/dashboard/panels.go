// Package dashboard defines the panels of the device's dashboard once, for
// both the built-in page (served as JSON by /api/dashboard) and the Grafana
// dashboard, which is generated from this list (see grafana_test.go).
package dashboard

//go:generate go test -run TestGrafanaDashboard -update .

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
	byKind := func(id, title, metric, unit string) Panel {
		return Panel{ID: id, Title: title, Section: SectionSensors, Unit: unit, Kind: KindTimeseries,
			Queries: []Query{{metric, "{{sensor}} {{label}}"}}}
	}
	sliceSel := `{unit="` + Slice + `"}`
	return []Panel{
		byKind("temperature", "Temperature", "edge_sensor_temperature_celsius", "celsius"),
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

		{ID: "targets-up", Title: "Targets up", Section: SectionScrapes, Unit: "short", Kind: KindTimeseries,
			Queries: []Query{{"up", "{{job}} {{instance}}"}}},
		{ID: "scrape-success", Title: "Scrape success ratio (5m)", Section: SectionScrapes, Unit: "percentunit", Kind: KindTimeseries,
			Queries: []Query{{"job:scrape_success:ratio_5m", "{{job}}"}}},
		{ID: "scrape-duration", Title: "Scrape duration", Section: SectionScrapes, Unit: "s", Kind: KindTimeseries,
			Queries: []Query{{"scrape_duration_seconds", "{{job}}"},
				{"edge_sensor_scrape_collector_duration_seconds", "collector {{collector}}"}}},
		{ID: "poll-age", Title: "Seconds since last successful poll", Section: SectionScrapes, Unit: "s", Kind: KindTimeseries,
			Queries: []Query{{"time() - edge_sensor_poll_last_success_timestamp_seconds", "{{instance}}"}}},
		{ID: "clock-synchronized", Title: "Clock synchronised (NTP)", Section: SectionScrapes, Unit: "short", Kind: KindStat,
			Queries:     []Query{{"edge_clock_synchronized", "{{instance}}"}},
			Description: "1 when the kernel's clock is synchronised by NTP; 0 means sample times, and so these charts, may be wrong (a device without a real-time clock boots with a wrong time)."},
		{ID: "collector-success", Title: "Collector success", Section: SectionScrapes, Unit: "short", Kind: KindTimeseries,
			Queries: []Query{{"edge_sensor_scrape_collector_success", "{{collector}}"}}},

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
