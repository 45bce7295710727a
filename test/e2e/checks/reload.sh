# shellcheck shell=bash
# e2e checks: reload.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

check_reload() {
	requires check_units
	local u pid0 since
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	for u in edge-sensord.service prometheus.service; do
		pid0=$(main_pid $u)
		gexec systemctl reload $u >"$WORK/logs/reload.log" 2>&1 ||
			fail "systemctl reload $u failed: $(
				cat "$WORK/logs/reload.log"
				gexec journalctl --no-pager -u $u --since "$since" | grep -v 'level=' | tail -n 5
			)"
		# ExecReload waits for the daemon: no "reloading" state left behind.
		is_active $u || fail "$u is $(gexec systemctl is-active $u) right after systemctl reload returned"
		[ "$(main_pid $u)" = "$pid0" ] || fail "$u changed its MainPID on reload ($pid0 -> $(main_pid $u))"
	done
	wait_for 60 "target edge-sensord up after reload" target_up edge-sensord

	check_reload_refused
	detail "reload=ok(edge-sensord,prometheus) same_pids bad_config=refused(systemctl_exit=1,pid_kept,scraping=ok,shown_after_a_poll=status+healthz+dashboard+edgectl,cleared_by_good_reload) message=\"$(grep -o 'Job for.*' "$WORK/logs/reload-refused.log" | head -n1)\""
}

# check_reload_refused (part of check_reload): a broken config makes `systemctl
# reload` fail and say why; the daemon keeps the running configuration, its
# PID and its scrapes, and shows the refusal in its status line, /healthz
# (still 200) and the dashboard's warnings on every poll until a reload
# succeeds, as edgectl status does.
check_reload_refused() {
	local cfg=/etc/edge-sensord/config.yml since pid0 t0 t1 where
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	gexec cp $cfg /root/config.yml.good
	gexec sh -c "printf 'poll_interval: 5s\nstale_afterr: 3\n' >$cfg"
	pid0=$(main_pid edge-sensord.service)
	if gexec systemctl reload edge-sensord.service >"$WORK/logs/reload-refused.log" 2>&1; then
		gexec cp /root/config.yml.good $cfg
		fail "systemctl reload succeeded with a broken $cfg"
	fi
	# Restoring the file changes nothing until the next reload.
	gexec cp /root/config.yml.good $cfg
	t0=$(sensord_metric edge_sensor_poll_last_success_timestamp_seconds)
	gexec journalctl --no-pager -u edge-sensord.service --since "$since" >"$WORK/logs/reload-bad.log" 2>&1 || true
	grep -q "$cfg:2: field .*stale_afterr.*unknown field" "$WORK/logs/reload-bad.log" ||
		fail "the journal does not name file, line and field of the bad config: $(tail -n 5 "$WORK/logs/reload-bad.log")"
	is_active edge-sensord.service || fail "edge-sensord.service not active after a refused reload"
	[ "$(main_pid edge-sensord.service)" = "$pid0" ] || fail "a refused reload restarted edge-sensord"
	wait_for 30 "a poll of edge-sensord after the refused reload" sensord_polled_after "$t0"
	where=$(reload_refusal_shown "$cfg:2: field \"stale_afterr\"")
	[ "$where" = "status healthz dashboard edgectl" ] ||
		fail "after a further poll the refused reload is shown in [$where], not in all of status healthz dashboard edgectl: status line \"$(prop edge-sensord.service StatusText)\""
	t1=$(date +%s)
	wait_for 60 "scraping of edge-sensord after a refused reload" recent_scrapes_ok edge-sensord "$t1"

	gexec systemctl reload edge-sensord.service >>"$WORK/logs/reload.log" 2>&1 ||
		fail "systemctl reload failed after restoring $cfg"
	t0=$(sensord_metric edge_sensor_poll_last_success_timestamp_seconds)
	wait_for 30 "a poll of edge-sensord after the good reload" sensord_polled_after "$t0"
	where=$(reload_refusal_shown "")
	[ -z "$where" ] || fail "a good reload left the refused one shown in [$where]: status line \"$(prop edge-sensord.service StatusText)\""
	[[ $(prop edge-sensord.service StatusText) == *"sensors, last poll"* ]] || fail "status line after the good reload: $(prop edge-sensord.service StatusText)"
}

# sensord_polled_after TIME: the daemon's last poll is later than TIME (its
# edge_sensor_poll_last_success_timestamp_seconds).
sensord_polled_after() {
	local t
	t=$(sensord_metric edge_sensor_poll_last_success_timestamp_seconds) && [ -n "$t" ] &&
		awk -v a="$t" -v b="$1" 'BEGIN { exit !(a + 0 > b + 0) }'
}

# reload_refusal_shown REASON: where a refused reload whose reason contains
# REASON is now shown: any of "status" (the unit's status line), "healthz" (the
# body of a 200), "dashboard" (one of /api/dashboard's warnings) and "edgectl"
# (one of edgectl status's warnings).
reload_refusal_shown() {
	local refused="reload failed at " kept="running configuration kept: " where=() body
	[[ $(prop edge-sensord.service StatusText) == *"$refused"*"$kept"*"$1"* ]] && where+=(status)
	body=$(gnet curl -sf --max-time 5 "$SENSORD/healthz") && [[ $body == *"$refused"*"$kept"*"$1"* ]] && where+=(healthz)
	[ "$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard" | jq --arg r "$refused" --arg k "$kept" --arg w "$1" \
		'[.warnings[] | select(startswith($r) and contains($k) and contains($w))] | length')" = 1 ] && where+=(dashboard)
	[ "$({ gexec edgectl status --json --window 1m 2>/dev/null || true; } | jq --arg w "$1" \
		'[.warnings[] | select(startswith("edge-sensord refused its last reload") and contains($w))] | length')" = 1 ] && where+=(edgectl)
	echo "${where[*]}"
}
