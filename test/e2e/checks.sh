# shellcheck shell=bash
# Checks 4-9 of the end-to-end test; sourced by run.sh, which provides the
# helpers (cexec, cnet, prop, prom_query, wait_for, fail, detail, ...).
# dpkg-query formats and scripts run in the container are single-quoted on purpose:
# shellcheck disable=SC2016

within() { # A B TOLERANCE_BYTES TOLERANCE_PERCENT: |A-B| within the larger tolerance
	awk -v a="$1" -v b="$2" -v t="$3" -v p="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b * p / 100; if (m < t) m = t; exit !(d <= m) }'
}

check_budget() {
	requires 2
	wait_for 30 "edge-sensord and prometheus active" all_active edge-sensord.service prometheus.service
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local rc=0 js u0 u1 used max mc u cgmem jmem info=""
	u0=$(cg_read "$SLICE" memory memory.usage_in_bytes)
	# --window 1m: scrape health now, not the scrape run of check 3 (judged there).
	js=$(cexec edgectl status --json --window 1m 2>"$WORK/logs/edgectl.err") || rc=$?
	u1=$(cg_read "$SLICE" memory memory.usage_in_bytes)
	echo "$js" >"$WORK/logs/edgectl-status.json"
	[ "$rc" = 0 ] || fail "edgectl status exited $rc on a healthy stack: problems=$(echo "$js" | jq -c '.problems, .unknown' 2>/dev/null) $(cat "$WORK/logs/edgectl.err")"
	echo "$js" | jq -e . >/dev/null || fail "edgectl status --json printed invalid JSON: $js"
	[ "$(echo "$js" | jq -r .memory_budget.enforced)" = true ] || fail "edgectl says the kernel does not enforce the budget: $(echo "$js" | jq -c .memory_budget)"
	max=$(prop "$SLICE" MemoryMax)
	used=$(echo "$js" | jq -r .total.memory_bytes)
	[ "$used" -lt "$BUDGET" ] || fail "slice memory $(mib "$used") not under the 150M budget"
	[ "$used" -lt "$max" ] || fail "slice memory $(mib "$used") not under its MemoryMax $(mib "$max")"
	[ "$(echo "$js" | jq -r .total.budget_bytes)" = "$((max / 4096 * 4096))" ] ||
		fail "edgectl budget $(echo "$js" | jq -r .total.budget_bytes) != slice limit $max"
	# Both read the same cgroup files a moment apart: compare with a tolerance.
	within "$used" "$(((u0 + u1) / 2))" $((4 << 20)) 10 ||
		fail "edgectl slice memory $used vs memory.usage_in_bytes $u0..$u1"
	info+="slice=$(mib "$used")/$(mib "$max") "
	for u in edge-sensord.service prometheus.service; do
		jmem=$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .memory_bytes')
		[ -n "$jmem" ] || fail "edgectl status --json has no unit $u: $(echo "$js" | jq -c '[.units[].unit]')"
		cgmem=$(cg_read "$u" memory memory.usage_in_bytes)
		within "$jmem" "$cgmem" $((2 << 20)) 10 || fail "edgectl $u memory $jmem vs memory.usage_in_bytes $cgmem"
		[ "$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .active_state')" = active ] ||
			fail "edgectl says $u is not active: $(echo "$js" | jq -c --arg u "$u" '.units[] | select(.unit==$u)')"
		mc=$(prop "$u" MemoryCurrent)
		info+="$u=$(mib "$jmem")(cgroup $(mib "$cgmem"),systemd $(mib "$mc")) "
	done
	cexec edgectl status >"$WORK/logs/edgectl-status.txt" 2>&1 || true
	# The daemon exports the same accounting (read at its last poll, so only
	# the limit is compared exactly).
	local dmax dmem
	dmax=$(prom_query "edge_unit_memory_max_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	[ "$dmax" = "$((max / 4096 * 4096))" ] || fail "edge_unit_memory_max_bytes{unit=\"$SLICE\"} is '${dmax}', want $((max / 4096 * 4096))"
	dmem=$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	within "${dmem:-0}" "$used" $((8 << 20)) 25 || fail "edge_unit_memory_bytes{unit=\"$SLICE\"} is '${dmem}', edgectl says $used"
	for u in edge-sensord.service prometheus.service; do
		[ -n "$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$u\"}")" ] || fail "the daemon exports no edge_unit_memory_bytes for $u"
	done
	info+="daemon_slice_metrics=ok "
	# A budget below the use is reported as such.
	rc=0
	js=$(cexec edgectl status --json --budget 1M 2>/dev/null) || rc=$?
	[ "$rc" = 1 ] || fail "edgectl status --budget 1M exited $rc, want 1 (over budget)"
	[ "$(echo "$js" | jq -r .total.over_budget)" = true ] || fail "edgectl --budget 1M: over_budget is not true"
	# A stopped unit makes the stack unhealthy.
	cexec systemctl stop edge-sensord.service
	rc=0
	js=$(cexec edgectl status --json 2>/dev/null) || rc=$?
	cexec systemctl start edge-sensord.service
	[ "$rc" = 1 ] || fail "edgectl status exited $rc with edge-sensord stopped, want 1"
	echo "$js" | jq -r '.problems[]' | grep -q edge-sensord || fail "edgectl problems do not name edge-sensord: $(echo "$js" | jq -c .problems)"
	wait_for 30 "edge-sensord active again" is_active edge-sensord.service
	wait_for 30 "target edge-sensord up again" target_up edge-sensord
	detail "${info}edgectl=0 over_budget_exit=1 stopped_unit_exit=1"
}

check_dashboard() {
	requires 2
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local js n expr end code ok=0 cur high
	js=$(cnet curl -sf --max-time 5 "$SENSORD/api/dashboard") || fail "GET /api/dashboard failed"
	echo "$js" >"$WORK/logs/dashboard.json"
	[ "$(echo "$js" | jq -r .history)" = true ] || fail "/api/dashboard: history is not true under systemd: $(echo "$js" | jq -c 'del(.panels)')"
	n=$(echo "$js" | jq '[.panels[].queries[]] | length')
	[ "$n" -gt 20 ] || fail "/api/dashboard lists only $n queries"
	# Every panel query over the last 12 hours at the page's resolution, three rounds, through
	# the daemon's proxy to Prometheus under the units' hardening.
	end=$(date +%s)
	for _ in 1 2 3; do
		while IFS= read -r expr; do
			cnet curl -sf --max-time 30 "$SENSORD/api/v1/query_range" --data-urlencode "query=$expr" \
				--data-urlencode "start=$((end - 43200))" --data-urlencode "end=$end" --data-urlencode step=44 |
				jq -e '.status == "success"' >/dev/null || fail "query_range through edge-sensord failed: $expr"
			ok=$((ok + 1))
		done < <(echo "$js" | jq -r '.panels[].queries[].expr')
	done
	code=$(cnet curl -s -o /dev/null -w '%{http_code}' -X POST "$SENSORD/-/quit")
	[ "$code" = 404 ] || fail "POST /-/quit through edge-sensord answered $code, want 404"
	is_active prometheus.service || fail "prometheus.service not active after the dashboard queries"
	cur=$(prop edge-sensord.service MemoryCurrent)
	high=$(prop edge-sensord.service MemoryHigh)
	[ "$cur" -lt "$high" ] || fail "edge-sensord uses $(mib "$cur") after the queries, over its MemoryHigh $(mib "$high")"
	detail "queries=$ok edge-sensord=$(mib "$cur")/$(mib "$high") quit=404"
}

check_watchdog() {
	requires 2
	local u=edge-sensord.service pid wd n0 n1 res seen="" since end newpid
	wait_for 30 "$u active" is_active $u
	pid=$(main_pid $u)
	wd=$(usec "$(prop $u WatchdogUSec)")
	[ "${wd:-0}" -gt 0 ] || fail "$u has no WatchdogSec"
	n0=$(prop $u NRestarts)
	since=$(cexec date '+%Y-%m-%d %H:%M:%S')
	note "SIGSTOP to edge-sensord (PID $pid), WatchdogSec=$((wd / 1000000))s"
	cexec sh -c "kill -STOP $pid" # the shell's kill: minbase has no /bin/kill
	# Bounded: watchdog timeout + abort/kill + RestartSec + margin.
	end=$((SECONDS + wd / 1000000 + 30))
	while :; do
		res=$(prop $u Result)
		[ "$res" = watchdog ] && seen=watchdog
		n1=$(prop $u NRestarts)
		newpid=$(main_pid $u)
		if [ "$n1" -gt "$n0" ] && is_active $u && [ "$newpid" != 0 ] && [ "$newpid" != "$pid" ]; then break; fi
		if [ $SECONDS -ge $end ]; then
			cexec sh -c "kill -CONT $pid" 2>/dev/null || true
			fail "no watchdog restart within $((wd / 1000000 + 30))s (NRestarts $n0 -> $n1, Result=$res, MainPID $pid -> $newpid)"
		fi
		sleep 0.2
	done
	# Result= is reset when the restarted service starts; the journal keeps it.
	cexec journalctl --no-pager -u $u --since "$since" >"$WORK/logs/watchdog-journal.log" 2>&1 || true
	grep -q "Watchdog timeout" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no 'Watchdog timeout' for $u: $(tail -n 15 "$WORK/logs/watchdog-journal.log")"
	grep -q "Failed with result 'watchdog'" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no \"Failed with result 'watchdog'\" for $u"
	local t1
	t1=$(date +%s)
	wait_for 60 "scraping of edge-sensord to recover" recent_scrapes_ok edge-sensord "$t1"
	detail "restarts=$((n1 - n0)) result=watchdog${seen:+(seen live)} pid=$pid->$newpid scraping=recovered"
}

check_memcap() {
	requires 2
	local pids_before u res code status limit fc0 fc1 maxu
	pids_before="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	limit=$(cg_read "$SLICE" memory memory.limit_in_bytes) || fail "no memory.limit_in_bytes for $SLICE"
	fc0=$(cg_read "$SLICE" memory memory.failcnt)
	u=memhog-$$
	note "running /opt/memhog 400M in $SLICE (limit $(mib "$limit"))"
	CEXEC_TIMEOUT=120 cexec systemd-run --quiet --slice="$SLICE" --unit="$u" --wait \
		-p StandardOutput=journal /opt/memhog 400M >"$WORK/logs/memhog.log" 2>&1 || true
	res=$(prop "$u.service" Result)
	code=$(prop "$u.service" ExecMainCode)
	status=$(prop "$u.service" ExecMainStatus)
	cexec journalctl --no-pager -u "$u.service" >>"$WORK/logs/memhog.log" 2>&1 || true
	if grep -q 'done: touched' "$WORK/logs/memhog.log"; then
		fail "memhog touched 400M inside $SLICE: the memory cap did not hold"
	fi
	case $res in signal | oom-kill) ;; *) fail "memhog ended with Result=$res (code $code status $status), want signal/oom-kill" ;; esac
	# status 9: SIGKILL from the OOM killer (v1); v2 says Result=oom-kill.
	[ "$res" = oom-kill ] || [ "$status" = 9 ] || fail "memhog Result=$res with status $status, want SIGKILL"
	fc1=$(cg_read "$SLICE" memory memory.failcnt)
	maxu=$(cg_read "$SLICE" memory memory.max_usage_in_bytes)
	[ "$fc1" -gt "$fc0" ] || fail "$SLICE memory.failcnt did not grow ($fc0 -> $fc1): limit never reached?"
	# The high-water mark may pass the limit by a few pages of forced charges.
	[ "$maxu" -le $((limit + (2 << 20))) ] || fail "$SLICE max usage $maxu above its limit $limit"
	# v1 counts oom_kill in the victim's own (now removed) cgroup, not in the
	# slice's; v2 reports Result=oom-kill instead.
	cexec systemctl reset-failed "$u.service" 2>/dev/null || true
	# The stack survives its neighbour being killed.
	all_active edge-sensord.service prometheus.service || fail "edge-sensord/prometheus not active after the OOM kill"
	local pids_after t1
	pids_after="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	[ "$pids_after" = "$pids_before" ] || fail "the OOM killer hit the stack: MainPIDs $pids_before -> $pids_after"
	t1=$(date +%s)
	wait_for 60 "scraping of edge-sensord to continue" recent_scrapes_ok edge-sensord "$t1"
	detail "memhog=result:$res,status:$status slice_limit=$(mib "$limit") max_usage=$(mib "$maxu") failcnt+=$((fc1 - fc0)) stack=unharmed scraping=ok"
}

check_reload() {
	requires 2
	local u pid0 since
	since=$(cexec date '+%Y-%m-%d %H:%M:%S')
	for u in edge-sensord.service prometheus.service; do
		pid0=$(main_pid $u)
		cexec systemctl reload $u >"$WORK/logs/reload.log" 2>&1 ||
			fail "systemctl reload $u failed: $(
				cat "$WORK/logs/reload.log"
				cexec journalctl --no-pager -u $u --since "$since" | grep -v 'level=' | tail -n 5
			)"
		# ExecReload waits for the daemon: no "reloading" state left behind.
		is_active $u || fail "$u is $(cexec systemctl is-active $u) right after systemctl reload returned"
		[ "$(main_pid $u)" = "$pid0" ] || fail "$u changed its MainPID on reload ($pid0 -> $(main_pid $u))"
	done
	wait_for 30 "target edge-sensord up after reload" target_up edge-sensord

	# A broken config: `systemctl reload` fails and says why; the daemon keeps
	# the running configuration, its PID and its scrapes.
	local cfg=/etc/edge-sensord/config.yml out status t1
	cp "$ROOT$cfg" "$WORK/config.yml.good"
	printf 'poll_interval: 5s\nstale_afterr: 3\n' >"$ROOT$cfg"
	pid0=$(main_pid edge-sensord.service)
	if out=$(cexec systemctl reload edge-sensord.service 2>&1); then
		cp "$WORK/config.yml.good" "$ROOT$cfg"
		fail "systemctl reload succeeded with a broken $cfg"
	fi
	status=$(prop edge-sensord.service StatusText)
	cp "$WORK/config.yml.good" "$ROOT$cfg"
	cexec journalctl --no-pager -u edge-sensord.service --since "$since" >"$WORK/logs/reload-bad.log" 2>&1 || true
	grep -q "$cfg:2: field .*stale_afterr.*unknown field" "$WORK/logs/reload-bad.log" ||
		fail "the journal does not name file, line and field of the bad config: $(tail -n 5 "$WORK/logs/reload-bad.log")"
	case $status in "Reload failed, running configuration kept: $cfg:2:"*) ;; *) fail "status line after a refused reload: $status" ;; esac
	is_active edge-sensord.service || fail "edge-sensord.service not active after a refused reload"
	[ "$(main_pid edge-sensord.service)" = "$pid0" ] || fail "a refused reload restarted edge-sensord"
	t1=$(date +%s)
	wait_for 30 "scraping of edge-sensord after a refused reload" recent_scrapes_ok edge-sensord "$t1"
	cexec systemctl reload edge-sensord.service >>"$WORK/logs/reload.log" 2>&1 ||
		fail "systemctl reload failed after restoring $cfg"
	status=$(prop edge-sensord.service StatusText)
	case $status in *"sensors, last poll"*) ;; *) fail "status line after the good reload: $status" ;; esac
	detail "reload=ok(edge-sensord,prometheus) same_pids bad_config=refused(systemctl_exit=1,pid_kept,scraping=ok) message=\"$(grep -o 'Job for.*' <<<"$out" | head -n1)\""
}

tsdb_wal_segments() { # number of WAL segment files of the local TSDB (or agent WAL)
	local d
	for d in /var/lib/prometheus/metrics2/wal /var/lib/prometheus/agent/wal; do
		if [ -d "$ROOT$d" ]; then
			find "$ROOT$d" -maxdepth 1 -type f -name '[0-9]*' | wc -l
			return 0
		fi
	done
	echo 0
}

check_upgrade() {
	requires 1 2
	[ -s "$WORK/prometheus.yml.sha" ] || fail "not run: check 3 did not edit prometheus.yml"
	local pid newdeb new_version t ver before after segs0 segs1 f sha build_info
	pid=$(cat "$WORK/upgrade-build.pid")
	while kill -0 "$pid" 2>/dev/null; do sleep 1; done
	wait "$pid" 2>/dev/null || true
	newdeb=$(find "$WORK/dist-upgrade" -maxdepth 1 -name "edge-observability_${NEW_UPSTREAM}*_amd64.deb" 2>/dev/null | head -n1)
	if [ -z "$newdeb" ]; then
		tail -n 30 "$WORK/logs/package-upgrade.log" >&2
		fail "building the upgrade package (VERSION=$NEW_UPSTREAM scripts/package.sh) failed (log above)"
	fi
	new_version=$(dpkg-deb -f "$newdeb" Version)
	dpkg --compare-versions "$new_version" gt "$OLD_VERSION" ||
		fail "upgrade package version $new_version does not sort after $OLD_VERSION"
	cp "$newdeb" "$WORK/debs/"
	wait_for 30 "prometheus ready" prom_ready
	# Prometheus's data before the upgrade: a series' sample count at a fixed time.
	t=$(date +%s)
	before=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${before:-0}" -gt 0 ] || fail "no samples of up{job=\"edge-sensord\"} before the upgrade"
	segs0=$(tsdb_wal_segments)
	[ "$segs0" -gt 0 ] || fail "no TSDB WAL segments under /var/lib/prometheus before the upgrade"

	note "apt-get install $(basename "$newdeb")"
	# As unattended upgrades do: keep locally modified conffiles without a
	# prompt (the tree may ship a changed default since the package under
	# test was built). A file that is not a conffile would still be replaced.
	cexec apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		/debs/"$(basename "$newdeb")" </dev/null >"$WORK/logs/upgrade.log" 2>&1 || {
		tail -n 40 "$WORK/logs/upgrade.log" >&2
		fail "apt-get install of the upgrade failed (log above)"
	}
	ver=$(cexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$new_version" ] || fail "version after upgrade is $ver, want $new_version"
	f=$ROOT/etc/edge-observability/prometheus.yml
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	[ "$sha" = "$(cat "$WORK/prometheus.yml.sha")" ] || fail "upgrade changed the edited /etc/edge-observability/prometheus.yml: $(head -n 40 "$f")"
	grep -q '^ARGS=.*--sensors.simulate' "$ROOT/etc/default/edge-sensord" || fail "upgrade lost the edit of /etc/default/edge-sensord"
	wait_for 60 "edge-sensord and prometheus active after the upgrade" all_active edge-sensord.service prometheus.service
	wait_for 60 "prometheus ready after the upgrade" prom_ready
	cnet curl -sf "$PROM/api/v1/status/config" | jq -r .data.yaml | grep -q "scrape_interval: $INTERVAL\$" ||
		fail "Prometheus runs without the kept scrape_interval $INTERVAL after the upgrade"
	# The running daemon is the new build.
	build_info=$(cnet curl -sf --max-time 5 "$SENSORD/metrics" | grep '^edge_sensor_build_info' || true)
	echo "$build_info" | grep -q "version=\"$NEW_UPSTREAM\"" ||
		fail "running edge-sensord is not the upgraded one: ${build_info:-no edge_sensor_build_info}"
	after=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${after:-0}" -ge "$before" ] || fail "Prometheus lost data in the upgrade: $before samples before, ${after:-0} after (same range)"
	segs1=$(tsdb_wal_segments)
	[ "$segs1" -ge "$segs0" ] || fail "TSDB WAL segments went from $segs0 to $segs1"
	wait_for 60 "scraping after the upgrade" recent_scrapes_ok edge-sensord "$(date +%s)"
	detail "upgrade=$OLD_VERSION->$ver conffile=kept samples_before=$before after=$after wal_segments=$segs0->$segs1"

	# remove: our units stop, our drop-ins go; Prometheus (another package) may run, but plainly.
	cexec apt-get remove -y edge-observability </dev/null >"$WORK/logs/remove.log" 2>&1 || {
		tail -n 40 "$WORK/logs/remove.log" >&2
		fail "apt-get remove edge-observability failed (log above)"
	}
	cexec systemctl daemon-reload
	! is_active edge-sensord.service || fail "edge-sensord still active after remove"
	if cexec sh -c 'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done' | grep -qx edge-sensord; then
		fail "an edge-sensord process is still running after remove"
	fi
	for f in /lib/systemd/system/prometheus.service.d/edge-observability.conf \
		/lib/systemd/system/grafana-server.service.d/edge-observability.conf \
		/lib/systemd/system/edge-sensord.service /usr/bin/edge-sensord /usr/bin/edgectl; do
		[ ! -e "$ROOT$f" ] || fail "$f still present after remove"
	done
	local dropins ppid pcg pcmd prom_state st
	dropins=$(prop prometheus.service DropInPaths)
	case $dropins in *edge-observability*) fail "prometheus.service still has our drop-in after remove: $dropins" ;; esac
	prom_state=$(cexec systemctl is-active prometheus.service || true)
	if [ "$prom_state" = active ]; then
		ppid=$(main_pid prometheus.service)
		pcg=$(cexec cat /proc/"$ppid"/cgroup)
		pcmd=$(cexec cat /proc/"$ppid"/cmdline | tr '\0' ' ')
		case $pcg in *"$SLICE"*) fail "prometheus still runs in $SLICE after remove (not restarted without the drop-in)" ;; esac
		case $pcmd in *edge-observability*) fail "prometheus still runs with our config after remove: $pcmd" ;; esac
	fi
	[ -f "$ROOT/etc/edge-observability/prometheus.yml" ] || fail "remove (not purge) deleted the conffile /etc/edge-observability/prometheus.yml"
	detail "remove=ok prometheus=$prom_state-without-dropin"

	cexec apt-get purge -y edge-observability </dev/null >"$WORK/logs/purge.log" 2>&1 || {
		tail -n 40 "$WORK/logs/purge.log" >&2
		fail "apt-get purge edge-observability failed (log above)"
	}
	for f in /etc/edge-observability /etc/default/edge-sensord /etc/default/edge-observability /etc/edge-sensord; do
		[ ! -e "$ROOT$f" ] || fail "$f still present after purge: $(find "$ROOT$f" | head -n 5)"
	done
	st=$(cexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	case ${st// /} in "" | un | pn) ;; *) fail "dpkg status of edge-observability after purge: '$st'" ;; esac
	detail "purge=ok"
}
