# shellcheck shell=bash
# e2e checks: clock.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

# The installed daemon reads the clock's status under the unit's seccomp filter,
# agrees with systemd-timedated's NTPSynchronized, Prometheus stores it, and the
# dashboard and edgectl status warn exactly when it is 0.
check_clock() {
	requires check_units
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local m ntp want warned edgectl_warned
	m=$(sensord_metric edge_clock_synchronized)
	[ -n "$m" ] || fail "edge-sensord exports no edge_clock_synchronized: $(gexec journalctl -u edge-sensord -o cat | grep -m1 'clock status' || true)"
	ntp=$(gexec timedatectl show -p NTPSynchronized --value) || fail "timedatectl show -p NTPSynchronized failed"
	want=0
	[ "$ntp" = yes ] && want=1
	[ "$m" = "$want" ] || fail "edge_clock_synchronized $m, but timedated says NTPSynchronized=$ntp"
	wait_for 60 "Prometheus to store edge_clock_synchronized $m" prom_query_is 'edge_clock_synchronized{job="edge-sensord"}' "$m"
	warned=$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard" | jq '[.warnings[] | select(test("clock is not synchronised"))] | length')
	[ "$warned" = $((1 - m)) ] || fail "/api/dashboard carries $warned clock warnings with edge_clock_synchronized $m"
	# Its exit code says whether the stack is healthy, which is not the question here.
	edgectl_warned=$({ gexec edgectl status --json --window 1m 2>/dev/null || true; } | jq '[.warnings[] | select(test("clock is not synchronised"))] | length')
	[ "$edgectl_warned" = "$warned" ] || fail "edgectl status --json carries $edgectl_warned clock warnings, the dashboard $warned"
	detail "edge_clock_synchronized=$m (stored) NTPSynchronized=$ntp dashboard_warning=$warned edgectl_warning=$edgectl_warned"
}

# check_clock_steps (VM: a clock of its own): the guest's clock stepped back
# and then forward again, as NTP corrects a device without a real-time clock.
# The daemon polls on through the steps on its monotonic times (no stale
# sensor, no watchdog restart, a short "last poll … ago"); Prometheus rejects
# the samples stamped behind those it has, which edgectl status reports, and
# stores again once the clock is back; marked synchronised, the clock warning
# leaves /metrics, the dashboard and edgectl status.
check_clock_steps() {
	requires check_clock
	local u=edge-sensord.service n0 ooo0 ooo1 back=600 line stale st=0 behind=0
	n0=$(prop $u NRestarts)
	# From Prometheus's /metrics: its stored samples of the counters are stamped by the clock under test.
	ooo0=$(rejected) && [ -n "$ooo0" ] || fail "no prometheus_target_scrapes_sample_* counters on $PROM/metrics"
	gexec sh -c 'date -u -s "@$(($(date +%s) - $1))" >/dev/null' sh "$back" || fail "date -s (back ${back}s) failed"
	# Should the check fail from here on, the clock goes forward again for the checks after it.
	# shellcheck disable=SC2064 # $back is expanded now, on purpose
	trap "gexec sh -c 'date -u -s @\$((\$(date +%s) + $back))' >/dev/null 2>&1 || true" EXIT
	note "guest clock stepped back ${back}s"
	wait_for 60 "a poll stamped by the stepped clock" polled_since_step
	line=$(prop $u StatusText)
	stale=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | samples -sum edge_sensor_stale)
	[ "${stale:-0}" = 0 ] || fail "$stale sensors stale after the clock went back ${back}s (status: $line)"
	[[ $line =~ last\ poll\ [0-9.]+m?s\ ago ]] || fail "status line after the step back: $line"
	wait_for 90 "Prometheus rejecting samples stamped behind its newest" rejected_above "$ooo0"
	ooo1=$(rejected)
	# Scrapes succeed meanwhile; edgectl status must still say that nothing is stored.
	gexec edgectl status --window 1m >"$WORK/logs/edgectl-behind.txt" 2>&1 || behind=$?
	[ "$behind" = 1 ] && grep -q 'ahead of the system clock' "$WORK/logs/edgectl-behind.txt" ||
		fail "edgectl status (exit $behind) does not report the samples stored ahead of the clock: $(grep -v '^$' "$WORK/logs/edgectl-behind.txt" | tail -n 3 | tr '\n' ' ')"
	gexec sh -c 'date -u -s "@$(($(date +%s) + $1))" >/dev/null && /opt/benchtool timex-sync >/dev/null' sh "$back" || fail "stepping forward and marking the clock synchronised failed"
	trap - EXIT
	note "guest clock stepped forward ${back}s and marked synchronised"
	wait_for 60 "edge_clock_synchronized 1" sensord_metric_is edge_clock_synchronized 1
	wait_for 90 "samples of job edge-sensord stored again" stored_since 20
	[ "$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard" | jq '[.warnings[] | select(test("clock"))] | length')" = 0 ] ||
		fail "the dashboard still warns about the clock once it is synchronised"
	gexec edgectl status --window 1m >"$WORK/logs/edgectl-clock.txt" 2>&1 || st=$?
	! grep -qi 'clock is not synchronised' "$WORK/logs/edgectl-clock.txt" || fail "edgectl status still warns about the clock (exit $st)"
	[ "$(prop $u NRestarts)" = "$n0" ] || fail "edge-sensord restarted during the clock steps (NRestarts $n0 -> $(prop $u NRestarts))"
	detail "clock_back=${back}s sensord_restarts=0 stale=0 rejected_samples=$ooo0->$ooo1 edgectl_behind=exit:$behind stored_again=yes synchronised_warning=cleared edgectl_exit=$st"
}

# polled_since_step: the daemon's last successful poll is stamped no later than
# the guest's stepped clock (a poll before the step is stamped ahead of it).
polled_since_step() {
	local t now
	t=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | samples edge_sensor_poll_last_success_timestamp_seconds)
	t=${t%.*}
	now=$(gexec date +%s)
	[ -n "$t" ] && [ "$t" -le $((now + 1)) ]
}
# rejected: samples of scrapes Prometheus refused for their timestamps. After a
# step back its scrape-time alignment stamps every scrape with the scheduled time
# of the last one before the step: rejected as out of order, or as duplicate
# timestamps where that scrape had been stamped with the same time.
rejected() {
	gnet curl -sf --max-time 5 "$PROM/metrics" | samples -sum 'prometheus_target_scrapes_sample_(out_of_order|duplicate_timestamp|out_of_bounds)_total'
}
rejected_above() { local n; n=$(rejected) && [ -n "$n" ] && [ "$n" -gt "$1" ]; } # N
sensord_metric_is() { [ "$(sensord_metric "$1")" = "$2" ]; } # NAME VALUE
stored_since() { [ -n "$(prom_query "count_over_time(up{job=\"edge-sensord\"}[${1}s]) > 0")" ]; } # SECONDS
