# shellcheck shell=bash
# e2e checks: watchdog, memory limits, no memory controller.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

check_watchdog() {
	requires check_units
	local u=edge-sensord.service pid wd n0 n1 res seen="" since end newpid
	wait_for 30 "$u active" is_active $u
	pid=$(main_pid $u)
	wd=$(usec "$(prop $u WatchdogUSec)")
	[ "${wd:-0}" -gt 0 ] || fail "$u has no WatchdogSec"
	n0=$(prop $u NRestarts)
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	note "SIGSTOP to edge-sensord (PID $pid), WatchdogSec=$((wd / 1000000))s"
	gexec sh -c "kill -STOP $pid" # the shell's kill: minbase has no /bin/kill
	# Bounded: watchdog timeout + abort/kill + RestartSec + margin.
	end=$((SECONDS + wd / 1000000 + 60))
	while :; do
		res=$(prop $u Result)
		[ "$res" = watchdog ] && seen=watchdog
		n1=$(prop $u NRestarts)
		newpid=$(main_pid $u)
		if [ "$n1" -gt "$n0" ] && is_active $u && [ "$newpid" != 0 ] && [ "$newpid" != "$pid" ]; then break; fi
		if [ $SECONDS -ge $end ]; then
			gexec sh -c "kill -CONT $pid" 2>/dev/null || true
			fail "no watchdog restart within $((wd / 1000000 + 60))s (NRestarts $n0 -> $n1, Result=$res, MainPID $pid -> $newpid)"
		fi
		sleep 0.2
	done
	# Result= is reset when the restarted service starts; the journal keeps it.
	gexec journalctl --no-pager -u $u --since "$since" >"$WORK/logs/watchdog-journal.log" 2>&1 || true
	grep -q "Watchdog timeout" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no 'Watchdog timeout' for $u: $(tail -n 15 "$WORK/logs/watchdog-journal.log")"
	grep -q "Failed with result 'watchdog'" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no \"Failed with result 'watchdog'\" for $u"
	local t1
	t1=$(date +%s)
	wait_for 90 "scraping of edge-sensord to recover" recent_scrapes_ok edge-sensord "$t1"
	detail "restarts=$((n1 - n0)) result=watchdog${seen:+(seen live)} pid=$pid->$newpid scraping=recovered"
}

# run_hog UNIT SIZE [HOLD] [systemd-run options...]: /opt/memhog in the slice
# as a transient service, waited for; its output and journal go to the log.
run_hog() {
	local u=$1 size=$2 hold=$3
	shift 3
	GEXEC_TIMEOUT=600 gexec systemd-run --quiet --slice="$SLICE" --unit="$u" --wait \
		-p StandardOutput=journal "$@" /opt/memhog "$size" "$hold" >"$WORK/logs/$u.log" 2>&1 || true
	gexec journalctl --no-pager -u "$u.service" >>"$WORK/logs/$u.log" 2>&1 || true
}

check_memcap() {
	requires check_units
	local pids_before u res code status limit hits0 hits1 peak oom0="" oom1="" high0="" stall0="" since
	pids_before="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	limit=$(mem_limit "$SLICE") || fail "no memory limit file for $SLICE"
	hits0=$(mem_limit_hits "$SLICE")
	if [ "$CG_V" = 2 ]; then
		oom0=$(mem_event "$SLICE" oom_kill)
		high0=$(mem_event "$SLICE" high)
		stall0=$(memory_stall edge-sensord.service)
	fi
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	u=memhog-$$
	note "running /opt/memhog 400M in $SLICE (limit $(mib "$limit"))"
	run_hog "$u" 400M 2s
	res=$(prop "$u.service" Result)
	code=$(prop "$u.service" ExecMainCode)
	status=$(prop "$u.service" ExecMainStatus)
	if grep -q 'done: touched' "$WORK/logs/$u.log"; then
		fail "memhog touched 400M inside $SLICE: the memory cap did not hold"
	fi
	# v1: SIGKILL from the OOM killer (Result=signal, status 9); v2 says Result=oom-kill.
	case $CG_V/$res in 2/oom-kill | 1/oom-kill) ;; 1/signal) [ "$status" = 9 ] || fail "memhog killed by signal $status, want SIGKILL" ;;
	*) fail "memhog ended with Result=$res (code $code status $status), want oom-kill (or SIGKILL on v1)" ;;
	esac
	hits1=$(mem_limit_hits "$SLICE")
	peak=$(mem_peak "$SLICE")
	[ "$hits1" -gt "$hits0" ] || fail "$SLICE never hit its limit ($hits0 -> $hits1)"
	# The high-water mark may pass the limit by a few pages of forced charges.
	[ "$peak" -le $((limit + (2 << 20))) ] || fail "$SLICE peak usage $peak above its limit $limit"
	# v2 counts the kill in the slice's memory.events too (v1 only in the
	# victim's own cgroup, gone with it).
	if [ "$CG_V" = 2 ]; then
		oom1=$(mem_event "$SLICE" oom_kill)
		[ "$oom1" -gt "$oom0" ] || fail "$SLICE memory.events oom_kill did not rise ($oom0 -> $oom1)"
	fi
	gexec systemctl reset-failed "$u.service" 2>/dev/null || true
	# The stack survives its neighbour being killed.
	all_active edge-sensord.service prometheus.service || fail "edge-sensord/prometheus not active after the OOM kill"
	local pids_after t1
	pids_after="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	# v2: while the hog is above the slice's MemoryHigh, every process of the
	# slice that allocates is throttled, the stack's too (informative).
	local stalled=""
	[ "$CG_V" = 2 ] && stalled="slice_high_events+=$(($(mem_event "$SLICE" high) - high0)) edge-sensord_memory_stall=$((($(memory_stall edge-sensord.service) - stall0) / 1000))ms"
	if [ "$pids_after" != "$pids_before" ]; then
		fail "the stack did not come through unharmed: MainPIDs $pids_before -> $pids_after ${stalled}; journal: $(
			gexec journalctl --no-pager -u edge-sensord.service -u prometheus.service --since "$since" |
				grep -E "Watchdog timeout|OOM killer|Failed with result" | tr '\n' ' ')"
	fi
	t1=$(date +%s)
	wait_for 90 "scraping of edge-sensord to continue" recent_scrapes_ok edge-sensord "$t1"
	detail "memhog=result:$res,status:$status slice_limit=$(mib "$limit") peak=$(mib "$peak") limit_hits+=$((hits1 - hits0))${oom1:+ oom_kill:$oom0->$oom1} ${stalled:+$stalled }stack=unharmed scraping=ok"
}

# memory_stall UNIT: microseconds its tasks stalled on memory (PSI "some" total, v2).
memory_stall() { cg_read "$1" memory memory.pressure | awk '$1=="some" {sub("total=", "", $5); print $5}'; }

# alert_firing NAME UNIT: Prometheus has ALERTS{alertname=NAME,unit=UNIT} firing.
alert_firing() {
	[ "$(prom_query "ALERTS{alertname=\"$1\",alertstate=\"firing\",unit=\"$2\"}")" = 1 ]
}

oom_counted() { # MIN: the daemon's counter of the slice is at least MIN
	[ "$(prom_query "edge_unit_oom_kills_total{job=\"edge-sensord\",unit=\"$SLICE\"}")" -ge "$1" ]
}

check_oom_alert() {
	requires check_memcap
	local rule kills
	# The shipped rule, as loaded by the installed Prometheus.
	rule=$(gnet curl -sf "$PROM/api/v1/rules?type=alert" |
		jq -c '[.data.groups[].rules[] | select(.name=="EdgeUnitOOMKilled")] | first // empty')
	[ -n "$rule" ] || fail "the installed Prometheus has no alerting rule EdgeUnitOOMKilled"
	[ "$(echo "$rule" | jq -r .health)" = ok ] || fail "rule EdgeUnitOOMKilled is unhealthy: $rule"
	wait_for 60 "edge_unit_oom_kills_total{unit=\"$SLICE\"} to count the kill" oom_counted 1
	kills=$(prom_query "edge_unit_oom_kills_total{job=\"edge-sensord\",unit=\"$SLICE\"}")
	[ "$kills" = "$(mem_event "$SLICE" oom_kill)" ] || fail "edge_unit_oom_kills_total is $kills, memory.events says $(mem_event "$SLICE" oom_kill)"
	# No for: in the rule: it fires at the first evaluation that sees the
	# increase (evaluation_interval 15s).
	wait_for 180 "alert EdgeUnitOOMKilled firing for $SLICE" alert_firing EdgeUnitOOMKilled "$SLICE"
	detail "edge_unit_oom_kills_total{unit=\"$SLICE\"}=$kills rule=\"$(echo "$rule" | jq -r .query)\" for=$(echo "$rule" | jq -r .duration)s ALERTS=firing"
}

check_memhigh() {
	requires check_units
	local u=memhigh-$$ high=32M size=40M slice_high0 slice_high1 ev cur mh res
	slice_high0=$(mem_event "$SLICE" high)
	note "running /opt/memhog $size in $SLICE under MemoryHigh=$high (no MemoryMax of its own)"
	GEXEC_TIMEOUT=60 gexec systemd-run --quiet --slice="$SLICE" --unit="$u" -p MemoryHigh=$high \
		-p MemorySwapMax=0 -p StandardOutput=journal /opt/memhog "$size" 10m >"$WORK/logs/$u.log" 2>&1 ||
		fail "systemd-run of memhog failed: $(cat "$WORK/logs/$u.log")"
	wait_for 600 "memhog to touch $size under MemoryHigh=$high" hog_done "$u"
	is_active "$u.service" || fail "memhog is $(gexec systemctl is-active "$u.service") after touching $size"
	ev=$(cg_read "$u.service" memory memory.events | tr '\n' ' ')
	cur=$(mem_current "$u.service")
	mh=$(cg_read "$u.service" memory memory.high)
	gexec systemctl stop "$u.service"
	res=$(prop "$u.service" Result)
	gexec journalctl --no-pager -u "$u.service" >>"$WORK/logs/$u.log" 2>&1 || true
	slice_high1=$(mem_event "$SLICE" high)
	[ "$(event_count high "$ev")" -gt 0 ] || fail "memory.events of $u has no high events: $ev"
	[ "$(event_count max "$ev")" = 0 ] && [ "$(event_count oom_kill "$ev")" = 0 ] ||
		fail "memory.events of $u shows limit hits or kills: $ev"
	[ "$cur" -gt "$mh" ] || fail "memhog's memory $cur not above memory.high $mh: reclaimed rather than throttled?"
	[ "$res" = success ] || fail "memhog Result=$res after stop"
	[ "$slice_high1" -gt "$slice_high0" ] || fail "$SLICE memory.events high did not rise ($slice_high0 -> $slice_high1)"
	all_active edge-sensord.service prometheus.service || fail "the stack is not active after the throttled neighbour"
	detail "unit_memory=$(mib "$cur") memory.high=$(mib "$mh") unit_events=\"$ev\" slice_high_events=$slice_high0->$slice_high1 result=$res"
}

event_count() { awk -v k="$1" '{for (i = 1; i < NF; i += 2) if ($i == k) print $(i+1)}' <<<"$2"; } # KEY "k v k v ..."
# hog_done UNIT: memhog has touched all its memory; fails the check when it ended before.
hog_done() {
	gexec journalctl --no-pager -u "$1.service" | grep -q 'done: touched' && return 0
	is_active "$1.service" || fail "$1 ended before touching its memory: Result=$(prop "$1.service" Result) $(gexec journalctl --no-pager -u "$1.service" | tail -n 3)"
	return 1
}

check_limits_dropped() {
	requires check_install
	simulate_sensors
	local mm u=memhog-$$ res jr
	mm=$(prop "$SLICE" MemoryMax)
	[ "$mm" = "$BUDGET" ] || fail "systemctl show $SLICE MemoryMax=$mm, want the configured $BUDGET"
	! mem_limit "$SLICE" >/dev/null 2>&1 || fail "$SLICE has a memory limit file without the memory controller"
	note "systemd shows MemoryMax=$(mib "$mm") for $SLICE; $(prop "$SLICE" ControlGroup) has no memory.max"
	run_hog "$u" 400M 2s
	res=$(prop "$u.service" Result)
	grep -q 'done: touched 400 MiB' "$WORK/logs/$u.log" ||
		fail "memhog did not touch 400M (Result=$res): $(tail -n 5 "$WORK/logs/$u.log")"
	# Silently: PID 1 logged nothing at warning or above about memory.
	jr=$(gexec journalctl --no-pager -b _PID=1 -p warning | grep -i memory || true)
	[ -z "$jr" ] || fail "systemd warned after all: $jr"
	detail "MemoryMax(systemctl)=$(mib "$mm") memory.max=absent memhog=400MiB-touched(result:$res) systemd_warnings=none"
}

# The contract of the stack without the memory controller: the daemon's
# metric, an alert on it, edgectl and the status line say so, and so did the
# install.
check_memcg_warnings() {
	requires check_limits_dropped
	local m rule name dur rc=0 out missing=()
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	m=$(prom_query 'edge_cgroup_controller_enabled{job="edge-sensord",controller="memory"}') || true
	[ "$m" = 0 ] || missing+=("metric edge_cgroup_controller_enabled{controller=\"memory\"} is '${m:-absent}', want 0")
	rule=$(gnet curl -sf "$PROM/api/v1/rules?type=alert" |
		jq -c '[.data.groups[].rules[] | select(.query | test("edge_cgroup_controller_enabled"))] | first // empty')
	if [ -z "$rule" ]; then
		missing+=("no alerting rule on edge_cgroup_controller_enabled")
	else
		name=$(echo "$rule" | jq -r .name)
		dur=$(echo "$rule" | jq -r '.duration | floor')
		# The rule's for: plus two evaluations and a margin.
		if ! (wait_for $((dur + 120)) "alert $name firing" prom_query_is "ALERTS{alertname=\"$name\",alertstate=\"firing\"}" 1); then
			missing+=("alert $name not firing after its for: of ${dur}s")
		fi
	fi
	out=$(gexec edgectl status 2>&1) || rc=$?
	[ "$rc" = 1 ] || missing+=("edgectl status exited $rc, want 1")
	grep -q 'memory budget NOT enforced' <<<"$out" || missing+=("edgectl status does not say 'memory budget NOT enforced'")
	grep -q '^problem: memory budget NOT enforced: ' "$WORK/logs/install.log" || missing+=("the install printed no 'memory budget NOT enforced' warning")
	status_mentions 'memory budget NOT enforced' || missing+=("status line: '$(prop edge-sensord.service StatusText)'")
	# The status line asks Prometheus for its alerts every 15 s.
	poll 30 status_mentions '; [1-9][0-9]* alerts\? firing' ||
		missing+=("status line counts no firing alert: '$(prop edge-sensord.service StatusText)'")
	[ ${#missing[@]} -eq 0 ] || fail "$(printf '%s; ' "${missing[@]}")"
	detail "metric=0 alert=$name(firing) edgectl_exit=1 install_warning=yes status=\"$(prop edge-sensord.service StatusText)\""
}

prom_query_is() { [ "$(prom_query "$1")" = "$2" ]; } # QUERY VALUE
