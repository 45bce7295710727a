# shellcheck shell=bash
# e2e checks: the host collectors.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/.

# The host collectors under the hardened unit read the host, not the unit's
# own namespace, whose mount table has ProtectSystem='s read-only binds: / in
# node_filesystem_readonly is as findmnt sees it in the guest, its statfs
# answers, and the families every Linux machine has are there, their
# collectors successful.
check_host() {
	requires check_units
	local m s ro want f
	m=$(gnet curl -sf --max-time 5 "$SENSORD/metrics") || fail "no /metrics from edge-sensord"
	s=$(printf '%s\n' "$m" | samples -series 'node_filesystem_(readonly|device_error)' 'node_.*' 'edge_sensor_scrape_collector_success')
	ro=$(printf '%s\n' "$s" | grep '^node_filesystem_readonly{.*mountpoint="/"[,}]' | cut -d' ' -f2)
	[ -n "$ro" ] || fail "no node_filesystem_readonly for /: $(printf '%s\n' "$s" | grep -m3 '^node_filesystem_readonly' || true)"
	want=0
	gexec findmnt -no OPTIONS / | grep -Eq '(^|,)ro(,|$)' && want=1
	[ "$ro" = "$want" ] || fail "node_filesystem_readonly of / is $ro, findmnt in the guest says $want"
	printf '%s\n' "$s" | grep -Eq '^node_filesystem_device_error\{.*mountpoint="/"[,}].* 0$' ||
		fail "statfs of / failed in the unit: $(printf '%s\n' "$s" | grep '^node_filesystem_device_error' || true)"
	for f in node_cpu_seconds_total node_memory_MemAvailable_bytes node_load1 node_boot_time_seconds node_network_up node_disk_written_bytes_total node_uname_info; do
		printf '%s\n' "$s" | grep -q "^${f}[{ ]" || fail "edge-sensord exports no $f"
	done
	f=$(printf '%s\n' "$s" | grep -E '^edge_sensor_scrape_collector_success\{collector="(cpu|stat|loadavg|meminfo|pressure|filesystem|diskstats|netdev|netclass|time|uname|cpufreq|rpi|mmc)"\} 0$' || true)
	[ -z "$f" ] || fail "host collectors failed: $f $(gexec journalctl -u edge-sensord -o cat | grep -m3 'collector failed' || true)"
	detail "readonly(/)=$ro mounts=$(printf '%s\n' "$s" | grep -c '^node_filesystem_device_error')"
}
