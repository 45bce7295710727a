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

	# A broken config: `systemctl reload` fails and says why; the daemon keeps
	# the running configuration, its PID and its scrapes.
	local cfg=/etc/edge-sensord/config.yml out status t1
	gexec cp $cfg /root/config.yml.good
	gexec sh -c "printf 'poll_interval: 5s\nstale_afterr: 3\n' >$cfg"
	pid0=$(main_pid edge-sensord.service)
	if out=$(gexec systemctl reload edge-sensord.service 2>&1); then
		gexec cp /root/config.yml.good $cfg
		fail "systemctl reload succeeded with a broken $cfg"
	fi
	status=$(prop edge-sensord.service StatusText)
	gexec cp /root/config.yml.good $cfg
	gexec journalctl --no-pager -u edge-sensord.service --since "$since" >"$WORK/logs/reload-bad.log" 2>&1 || true
	grep -q "$cfg:2: field .*stale_afterr.*unknown field" "$WORK/logs/reload-bad.log" ||
		fail "the journal does not name file, line and field of the bad config: $(tail -n 5 "$WORK/logs/reload-bad.log")"
	case $status in "Reload failed, running configuration kept: $cfg:2:"*) ;; *) fail "status line after a refused reload: $status" ;; esac
	is_active edge-sensord.service || fail "edge-sensord.service not active after a refused reload"
	[ "$(main_pid edge-sensord.service)" = "$pid0" ] || fail "a refused reload restarted edge-sensord"
	t1=$(date +%s)
	wait_for 60 "scraping of edge-sensord after a refused reload" recent_scrapes_ok edge-sensord "$t1"
	gexec systemctl reload edge-sensord.service >>"$WORK/logs/reload.log" 2>&1 ||
		fail "systemctl reload failed after restoring $cfg"
	status=$(prop edge-sensord.service StatusText)
	case $status in *"sensors, last poll"*) ;; *) fail "status line after the good reload: $status" ;; esac
	detail "reload=ok(edge-sensord,prometheus) same_pids bad_config=refused(systemctl_exit=1,pid_kept,scraping=ok) message=\"$(grep -o 'Job for.*' <<<"$out" | head -n1)\""
}
