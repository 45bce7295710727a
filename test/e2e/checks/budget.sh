# shellcheck shell=bash
# e2e checks: budget.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

check_budget() {
	requires check_units
	wait_for 30 "edge-sensord and prometheus active" all_active edge-sensord.service prometheus.service
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	local rc=0 js u0 u1 used max info=""
	u0=$(mem_current "$SLICE")
	# --window 1m: scrape health now, not the scrape run of the scrapes check (judged there).
	js=$(gexec edgectl status --json --window 1m 2>"$WORK/logs/edgectl.err") || rc=$?
	u1=$(mem_current "$SLICE")
	echo "$js" >"$WORK/logs/edgectl-status.json"
	[ "$rc" = 0 ] || fail "edgectl status exited $rc on a healthy stack: problems=$(echo "$js" | jq -c '.problems, .unknown' 2>/dev/null) $(cat "$WORK/logs/edgectl.err")"
	echo "$js" | jq -e . >/dev/null || fail "edgectl status --json printed invalid JSON: $js"
	[ "$(echo "$js" | jq -r .memory_budget.enforced)" = true ] || fail "edgectl says the kernel does not enforce the budget: $(echo "$js" | jq -c .memory_budget)"
	grep -q '^memory budget enforced: ' "$WORK/logs/install.log" || fail "the install did not say the budget is enforced: $(grep -i 'memory budget' "$WORK/logs/install.log")"
	max=$(prop "$SLICE" MemoryMax)
	used=$(echo "$js" | jq -r .total.memory_bytes)
	[ "$used" -lt "$BUDGET" ] || fail "slice memory $(mib "$used") not under the 150M budget"
	[ "$used" -lt "$max" ] || fail "slice memory $(mib "$used") not under its MemoryMax $(mib "$max")"
	[ "$(echo "$js" | jq -r .total.budget_bytes)" = "$((max / 4096 * 4096))" ] ||
		fail "edgectl budget $(echo "$js" | jq -r .total.budget_bytes) != slice limit $max"
	# Both read the same cgroup files a moment apart: compare with a tolerance.
	within "$used" "$(((u0 + u1) / 2))" $((4 << 20)) 10 ||
		fail "edgectl slice memory $used vs the cgroup's $u0..$u1"
	info+="slice=$(mib "$used")/$(mib "$max") "
	check_budget_units
	gexec edgectl status >"$WORK/logs/edgectl-status.txt" 2>&1 || true
	check_budget_daemon
	local io_info
	check_io_written
	info+="$io_info "
	check_budget_unhealthy
	detail "${info}edgectl=0 over_budget_exit=1 stopped_unit_exit=1"
}

# check_budget_units: edgectl's memory of each unit agrees with its cgroup, and
# the unit is active. Reads js (edgectl status --json); adds to info.
check_budget_units() {
	local u cgmem jmem mc
	for u in edge-sensord.service prometheus.service; do
		jmem=$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .memory_bytes')
		[ -n "$jmem" ] || fail "edgectl status --json has no unit $u: $(echo "$js" | jq -c '[.units[].unit]')"
		cgmem=$(mem_current "$u")
		within "$jmem" "$cgmem" $((2 << 20)) 10 || fail "edgectl $u memory $jmem vs the cgroup's $cgmem"
		[ "$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .active_state')" = active ] ||
			fail "edgectl says $u is not active: $(echo "$js" | jq -c --arg u "$u" '.units[] | select(.unit==$u)')"
		mc=$(prop "$u" MemoryCurrent)
		info+="$u=$(mib "$jmem")(cgroup $(mib "$cgmem"),systemd $(mib "$mc")) "
	done
}

# check_budget_daemon: the daemon exports the same accounting (read at its last
# poll, so only the limit is compared exactly). Reads max and used (edgectl's);
# adds to info.
check_budget_daemon() {
	local dmax dmem u
	dmax=$(prom_query "edge_unit_memory_max_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	[ "$dmax" = "$((max / 4096 * 4096))" ] || fail "edge_unit_memory_max_bytes{unit=\"$SLICE\"} is '${dmax}', want $((max / 4096 * 4096))"
	dmem=$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	within "${dmem:-0}" "$used" $((8 << 20)) 25 || fail "edge_unit_memory_bytes{unit=\"$SLICE\"} is '${dmem}', edgectl says $used"
	for u in edge-sensord.service prometheus.service; do
		[ -n "$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$u\"}")" ] || fail "the daemon exports no edge_unit_memory_bytes for $u"
	done
	info+="daemon_slice_metrics=ok "
}

# check_budget_unhealthy: a budget below the use is reported as such, and a
# stopped unit makes the stack unhealthy.
check_budget_unhealthy() {
	local rc=0 js
	js=$(gexec edgectl status --json --budget 1M 2>/dev/null) || rc=$?
	[ "$rc" = 1 ] || fail "edgectl status --budget 1M exited $rc, want 1 (over budget)"
	[ "$(echo "$js" | jq -r .total.over_budget)" = true ] || fail "edgectl --budget 1M: over_budget is not true"
	gexec systemctl stop edge-sensord.service
	rc=0
	js=$(gexec edgectl status --json 2>/dev/null) || rc=$?
	gexec systemctl start edge-sensord.service
	[ "$rc" = 1 ] || fail "edgectl status exited $rc with edge-sensord stopped, want 1"
	echo "$js" | jq -r '.problems[]' | grep -q edge-sensord || fail "edgectl problems do not name edge-sensord: $(echo "$js" | jq -c .problems)"
	wait_for 60 "edge-sensord active again" is_active edge-sensord.service
	wait_for 60 "target edge-sensord up again" target_up edge-sensord
}

# check_io_written: with IO accounting (the units set IOAccounting=yes; the io
# controller exists on v2 only, and a container may not be given it) the daemon
# exports what Prometheus wrote to disk, read from io.stat and never past it;
# without io.stat the metric is absent, not 0. Reads js (edgectl status --json)
# and sets io_info for the caller's detail line.
check_io_written() {
	local stat w jw
	if ! cg_file prometheus.service io io.stat >/dev/null; then
		# Absent only where the guest has no io controller to enable (v1, or not delegated).
		[ "$CG_V" = 2 ] && gcat /sys/fs/cgroup/cgroup.controllers | grep -qw io &&
			fail "prometheus.service has no io.stat though the guest offers the io controller (IOAccounting=$(prop prometheus.service IOAccounting))"
		[ -z "$(prom_query "edge_unit_io_write_bytes_total{job=\"edge-sensord\",unit=\"prometheus.service\"}")" ] ||
			fail "edge_unit_io_write_bytes_total exported for prometheus.service, whose cgroup has no io.stat"
		io_info="io.stat=absent io_metric=absent"
		return
	fi
	w=$(prom_query "edge_unit_io_write_bytes_total{job=\"edge-sensord\",unit=\"prometheus.service\"}")
	stat=$(cg_read prometheus.service io io.stat | grep -o 'wbytes=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	[ -n "$w" ] && [ "$w" -gt 0 ] && [ "$w" -le "$stat" ] ||
		fail "edge_unit_io_write_bytes_total{unit=\"prometheus.service\"} is '$w', io.stat sums $stat written since"
	# edgectl status --json of the caller, read before both.
	jw=$(echo "$js" | jq -r '.units[] | select(.unit=="prometheus.service") | .io_write_bytes // empty')
	[ -n "$jw" ] && [ "$jw" -gt 0 ] && [ "$jw" -le "$stat" ] ||
		fail "edgectl status --json: io_write_bytes of prometheus.service is '$jw', io.stat sums $stat written since"
	io_info="prometheus_io_written=$w(edgectl=$jw,io.stat=$stat)"
}
