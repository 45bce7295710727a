# shellcheck shell=bash
# e2e checks: upgrade.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

tsdb_wal_segments() { # number of WAL segment files of the local TSDB (or agent WAL)
	gexec sh -c 'for d in /var/lib/prometheus/metrics2/wal /var/lib/prometheus/agent/wal; do
		if [ -d $d ]; then find $d -maxdepth 1 -type f -name "[0-9]*" | wc -l; exit 0; fi; done; echo 0'
}

# upgrade_deb: path of the upgrade package built in the background (see
# start_upgrade_build), once it is there and sorts after the package under test.
upgrade_deb() {
	local pid newdeb
	pid=$(cat "$WORK/upgrade-build.pid")
	while kill -0 "$pid" 2>/dev/null; do sleep 1; done
	newdeb=$(find "$WORK/dist-upgrade" -maxdepth 1 -name "edge-observability_${NEW_UPSTREAM}*_amd64.deb" 2>/dev/null | head -n1)
	if [ -z "$newdeb" ]; then
		tail -n 30 "$WORK/logs/package-upgrade.log" >&2
		fail "building the upgrade package (VERSION=$NEW_UPSTREAM scripts/package.sh) failed (log above)"
	fi
	dpkg --compare-versions "$(dpkg-deb -f "$newdeb" Version)" gt "$OLD_VERSION" ||
		fail "upgrade package version $(dpkg-deb -f "$newdeb" Version) does not sort after $OLD_VERSION"
	echo "$newdeb"
}

check_upgrade() {
	requires check_install check_units
	[ -s "$WORK/prometheus.yml.sha" ] || fail "not run: the scrapes check did not edit prometheus.yml"
	local newdeb new_version t ver before after segs0 segs1 f build_info
	newdeb=$(upgrade_deb)
	new_version=$(dpkg-deb -f "$newdeb" Version)
	gput "$newdeb" "/debs/${newdeb##*/}"
	wait_for 60 "prometheus ready" prom_ready
	# Prometheus's data before the upgrade: a series' sample count at a fixed time.
	t=$(date +%s)
	before=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${before:-0}" -gt 0 ] || fail "no samples of up{job=\"edge-sensord\"} before the upgrade"
	segs0=$(tsdb_wal_segments)
	[ "$segs0" -gt 0 ] || fail "no TSDB WAL segments under /var/lib/prometheus before the upgrade"

	note "apt-get install ${newdeb##*/}"
	# As unattended upgrades do: keep locally modified conffiles without a
	# prompt (the tree may ship a changed default since the package under
	# test was built). A file that is not a conffile would still be replaced.
	GEXEC_TIMEOUT=1200 gexec apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		/debs/"${newdeb##*/}" >"$WORK/logs/upgrade.log" 2>&1 || {
		tail -n 40 "$WORK/logs/upgrade.log" >&2
		fail "apt-get install of the upgrade failed (log above)"
	}
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$new_version" ] || fail "version after upgrade is $ver, want $new_version"
	f=/etc/edge-observability/prometheus.yml
	[ "$(gexec sha256sum $f | cut -d' ' -f1)" = "$(cat "$WORK/prometheus.yml.sha")" ] ||
		fail "upgrade changed the edited $f: $(gcat $f | head -n 40)"
	gexec grep -q '^ARGS=.*--sensors.simulate' /etc/default/edge-sensord || fail "upgrade lost the edit of /etc/default/edge-sensord"
	wait_for 90 "edge-sensord and prometheus active after the upgrade" all_active edge-sensord.service prometheus.service
	wait_for 120 "prometheus ready after the upgrade" prom_ready
	running_config_has_interval || fail "Prometheus runs without the kept scrape_interval $INTERVAL after the upgrade"
	# The running daemon is the new build.
	build_info=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | grep '^edge_sensor_build_info' || true)
	echo "$build_info" | grep -q "version=\"$NEW_UPSTREAM\"" ||
		fail "running edge-sensord is not the upgraded one: ${build_info:-no edge_sensor_build_info}"
	after=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${after:-0}" -ge "$before" ] || fail "Prometheus lost data in the upgrade: $before samples before, ${after:-0} after (same range)"
	segs1=$(tsdb_wal_segments)
	[ "$segs1" -ge "$segs0" ] || fail "TSDB WAL segments went from $segs0 to $segs1"
	wait_for 90 "scraping after the upgrade" recent_scrapes_ok edge-sensord "$(date +%s)"
	detail "upgrade=$OLD_VERSION->$ver conffile=kept samples_before=$before after=$after wal_segments=$segs0->$segs1"
}

# check_remove: our units stop, our drop-ins go; Prometheus (another package) may run, but plainly.
check_remove() {
	requires check_install
	local f dropins ppid pcg pcmd prom_state
	GEXEC_TIMEOUT=600 gexec apt-get remove -y edge-observability >"$WORK/logs/remove.log" 2>&1 || {
		tail -n 40 "$WORK/logs/remove.log" >&2
		fail "apt-get remove edge-observability failed (log above)"
	}
	gexec systemctl daemon-reload
	! is_active edge-sensord.service || fail "edge-sensord still active after remove"
	if gexec sh -c 'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done' | grep -qx edge-sensord; then
		fail "an edge-sensord process is still running after remove"
	fi
	for f in /lib/systemd/system/prometheus.service.d/edge-observability.conf \
		/lib/systemd/system/grafana-server.service.d/edge-observability.conf \
		/lib/systemd/system/prometheus-alertmanager.service.d/edge-observability.conf \
		/lib/systemd/system/edge-sensord.service /usr/bin/edge-sensord /usr/bin/edgectl; do
		! gexec test -e "$f" || fail "$f still present after remove"
	done
	dropins=$(prop prometheus.service DropInPaths)
	case $dropins in *edge-observability*) fail "prometheus.service still has our drop-in after remove: $dropins" ;; esac
	prom_state=$(gexec systemctl is-active prometheus.service || true)
	if [ "$prom_state" = active ]; then
		ppid=$(main_pid prometheus.service)
		pcg=$(gexec cat /proc/"$ppid"/cgroup)
		pcmd=$(gexec cat /proc/"$ppid"/cmdline | tr '\0' ' ')
		case $pcg in *"$SLICE"*) fail "prometheus still runs in $SLICE after remove (not restarted without the drop-in)" ;; esac
		case $pcmd in *edge-observability*) fail "prometheus still runs with our config after remove: $pcmd" ;; esac
	fi
	gexec test -f /etc/edge-observability/prometheus.yml || fail "remove (not purge) deleted the conffile /etc/edge-observability/prometheus.yml"
	# Alertmanager, where the alerts check installed it, runs on as Debian configures it, outside the slice.
	local am_state=absent
	if gexec test -f /lib/systemd/system/prometheus-alertmanager.service; then
		am_state=$(gexec systemctl is-active prometheus-alertmanager.service || true)
		case $(prop prometheus-alertmanager.service DropInPaths) in *edge-observability.conf*) fail "prometheus-alertmanager.service still has our drop-in after remove" ;; esac
		[ "$(prop prometheus-alertmanager.service Slice)" != "$SLICE" ] || fail "prometheus-alertmanager.service still in $SLICE after remove"
	fi
	detail "remove=ok prometheus=$prom_state-without-dropin alertmanager=$am_state-without-dropin"
}

# check_purge: what the package and its scripts made goes, conffiles included.
check_purge() {
	requires check_remove
	local f st
	GEXEC_TIMEOUT=600 gexec apt-get purge -y edge-observability >"$WORK/logs/purge.log" 2>&1 || {
		tail -n 40 "$WORK/logs/purge.log" >&2
		fail "apt-get purge edge-observability failed (log above)"
	}
	for f in /etc/edge-observability /etc/default/edge-sensord /etc/default/edge-observability /etc/edge-sensord \
		/etc/systemd/system/prometheus-alertmanager.service.d/edge-observability-secrets.conf; do
		! gexec test -e "$f" || fail "$f still present after purge: $(gexec find "$f" | head -n 5)"
	done
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	case ${st// /} in "" | un | pn) ;; *) fail "dpkg status of edge-observability after purge: '$st'" ;; esac
	detail "purge=ok"
}
