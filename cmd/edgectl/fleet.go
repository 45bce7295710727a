package main

import "github.com/edgeobs/edge-observability-stack/internal/fleet"

func init() {
	commands["prometheus-config"] = fleet.PrometheusConfigCmd
	commands["prometheus-exec"] = fleet.PrometheusExecCmd
	commands["fleet"] = fleet.FleetCmd
}
