# shellcheck shell=bash
# e2e checks: alerts delivered by the installed Alertmanager.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

AM_UNIT=prometheus-alertmanager.service

# listeners_as_documented: every TCP listener is one README.md lists (the dashboard on all
# addresses; Prometheus and Alertmanager on loopback; no cluster gossip), besides the guest's
# ssh and the test's receivers. Sets listeners.
listeners_as_documented() {
	local addr proc bad=""
	while read -r addr proc; do
		case "$addr $proc" in
		# ss names a process by its comm, cut at 15 characters: prometheus-aler.
		*":8000 "*edge-sensord* | "127.0.0.1:9090 "*prometheus* | "127.0.0.1:9093 "*prometheus-aler*) ;;
		*":22 "*sshd* | "127.0.0.1:9099 "* | "127.0.0.1:2525 "*) ;;
		*) bad+="$addr($proc) " ;;
		esac
	done < <(gexec ss -Hltnp | awk '{print $4, $6}')
	[ -z "$bad" ] || fail "listening beyond what README.md lists: $bad"
	listeners=$(gexec ss -Hltn | awk '{print $4}' | sort | tr '\n' ' ')
	listeners=${listeners% }
}

check_alerts() {
	requires check_units
	local st info="" mem max listeners
	# Installed while alerting is off: Debian's postinst starts it, the drop-in skips it.
	# (iproute2: ss, to see who listens where.)
	GEXEC_TIMEOUT=900 gexec apt-get install -y --no-install-recommends prometheus-alertmanager python3-aiosmtpd iproute2 \
		>"$WORK/logs/alertmanager-install.log" 2>&1 || fail "apt-get install prometheus-alertmanager failed: $(tail -n 5 "$WORK/logs/alertmanager-install.log")"
	info+="alertmanager=$(gexec dpkg-query -W -f='${Version}' prometheus-alertmanager) "
	st=$(gexec systemctl is-active $AM_UNIT || true)
	[ "$st" != active ] || fail "$AM_UNIT runs although alerting is off"
	! gexec sh -c 'ss -Hltn | grep -qE ":(9093|9094) "' || fail "something listens on 9093/9094 with alerting off: $(gexec ss -Hltnp)"
	info+="alerting_off=$st "

	receivers_up
	alerts_enable --group-wait 5s --group-interval 15s >"$WORK/logs/alerts-enable.log" 2>&1 ||
		fail "edgectl alerts enable failed: $(cat "$WORK/logs/alerts-enable.log")"
	wait_for 60 "$AM_UNIT active" is_active $AM_UNIT
	# Active is not listening: the unit is Type=simple, and Alertmanager binds its port after
	# loading its config and state (seconds in the TCG guest under load).
	wait_for 60 "Alertmanager ready on 127.0.0.1:9093" gnet curl -sf --max-time 2 http://127.0.0.1:9093/-/ready
	check_alertmanager_unit
	listeners_as_documented
	info+="listeners=\"$listeners\" "
	wait_for 60 "Prometheus sending to the local Alertmanager" target_up alertmanager

	GEXEC_TIMEOUT=200 gexec edgectl alerts test --timeout 90s >"$WORK/logs/alerts-test.log" 2>&1 ||
		fail "edgectl alerts test: $(cat "$WORK/logs/alerts-test.log")"
	hook_has EdgeAlertTest firing && mail_has EdgeAlertTest || fail "edgectl alerts test passed but a receiver has nothing"
	check_alert_fault
	info+="$fault_info "
	gexec edgectl alerts status >"$WORK/logs/alerts-status.txt" 2>&1 || fail "edgectl alerts status: $(cat "$WORK/logs/alerts-status.txt")"
	mem=$(mem_current $AM_UNIT)
	max=$(prop $AM_UNIT MemoryMax)
	[ "$mem" -lt "$max" ] || fail "$AM_UNIT uses $(mib "$mem"), at its MemoryMax $(mib "$max")"
	detail "${info}alertmanager_memory=$(mib "$mem")/$(mib "$max") slice=$(mib "$(mem_current "$SLICE")")"
}

# check_alertmanager_unit: the drop-in applies: in the slice with its limits and Go knobs,
# loopback only, no gossip, the secret handed over by systemd and trimmed.
check_alertmanager_unit() {
	local want env rendered
	[ "$(prop $AM_UNIT Slice)" = "$SLICE" ] || fail "$AM_UNIT: Slice=$(prop $AM_UNIT Slice), want $SLICE"
	in_cgroup $AM_UNIT
	want=$(prop $AM_UNIT MemoryMax)
	[ "$(mem_limit $AM_UNIT)" = "$((want / 4096 * 4096))" ] || fail "$AM_UNIT: MemoryMax=$want but the cgroup's limit is $(mem_limit $AM_UNIT)"
	env=$(prop $AM_UNIT Environment)
	for want in GOMAXPROCS=1 GOGC=50 GOMEMLIMIT=16MiB GODEBUG=disablethp=1; do
		grep -qw -- "$want" <<<"$env" || fail "$AM_UNIT lacks $want: $env"
	done
	gexec ss -Hltnp | grep "pid=$(main_pid $AM_UNIT)," | awk '{print $4}' | grep -qx 127.0.0.1:9093 ||
		fail "Alertmanager does not listen on 127.0.0.1:9093 only: $(gexec ss -Hltnp)"
	! gexec sh -c 'ss -Hlnp | grep -q ":9094 "' || fail "cluster gossip on 9094 is not off"
	rendered=/run/edge-observability-alertmanager
	[ "$(gexec stat -c '%a %U' $rendered/alertmanager.yml $rendered/smtp-auth-password | sort -u)" = "600 prometheus" ] ||
		fail "rendered config or password copy not 0600 prometheus: $(gexec ls -l $rendered)"
	[ "$(gexec cat $rendered/smtp-auth-password)" = e2e-smtp-pw ] || fail "the password handed to Alertmanager is not the trimmed secret"
	gexec grep -q 'LoadCredential=smtp-auth-password:/root/smtp.pw' /etc/systemd/system/$AM_UNIT.d/edge-observability-secrets.conf ||
		fail "no LoadCredential= of the password"
	# systemctl reload renders again and signals the same process.
	local pid
	pid=$(main_pid $AM_UNIT)
	gexec systemctl reload $AM_UNIT || fail "systemctl reload $AM_UNIT failed: $(gexec journalctl -u $AM_UNIT -n 5 --no-pager)"
	[ "$(main_pid $AM_UNIT)" = "$pid" ] && is_active $AM_UNIT || fail "$AM_UNIT restarted or stopped on reload"
}

# check_alert_fault: edge-sensord stopped: the shipped EdgeTargetDown fires after its 1m
# and reaches both receivers with the device's labels and summary; edgectl status lists it;
# the daemon back, the resolved notification arrives at both. Sets fault_info.
check_alert_fault() {
	local t0 js dev summary labels
	dev=$(gexec cat /etc/machine-id)
	gexec systemctl stop edge-sensord.service
	t0=$SECONDS
	wait_for 240 "EdgeTargetDown at the webhook" hook_has EdgeTargetDown firing
	wait_for 60 "EdgeTargetDown by mail" mail_has FIRING EdgeTargetDown "$dev"
	fault_info="fired_after=$((SECONDS - t0))s"
	js=$(gexec sh -c "cat $HOOKS/[0-9]*.json" | jq -s -c '[.[].alerts[] | select(.labels.alertname == "EdgeTargetDown" and .status == "firing")] | first')
	labels=$(jq -c .labels <<<"$js")
	summary=$(jq -r .annotations.summary <<<"$js")
	[ "$(jq -r .labels.device <<<"$js")" = "$dev" ] && [ "$(jq -r .labels.severity <<<"$js")" = critical ] ||
		fail "EdgeTargetDown at the webhook has labels $labels, want device $dev and severity critical"
	[[ $summary == "Scrape target edge-sensord ("*") is down" ]] || fail "EdgeTargetDown summary: $summary"
	local rc=0
	js=$(gexec edgectl status --json --window 1m 2>/dev/null) || rc=$?
	[ "$rc" = 1 ] && jq -e '[.alerts[] | select(.name == "EdgeTargetDown" and .state == "firing")] | length == 1' <<<"$js" >/dev/null ||
		fail "edgectl status (exit $rc) does not list EdgeTargetDown firing: $(jq -c .alerts <<<"$js")"
	gexec systemctl start edge-sensord.service
	t0=$SECONDS
	wait_for 180 "EdgeTargetDown resolved at the webhook" hook_has EdgeTargetDown resolved
	wait_for 60 "EdgeTargetDown resolved by mail" mail_has RESOLVED EdgeTargetDown "$dev"
	fault_info+=" resolved_after=$((SECONDS - t0))s firing=$(hook_count EdgeTargetDown firing)+$(mail_count FIRING EdgeTargetDown)mail"
	fault_info+=" summary=\"$summary\" edgectl_status=exit:$rc"
	wait_for 60 "target edge-sensord up again" target_up edge-sensord
}
