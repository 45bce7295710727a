# shellcheck shell=bash
# e2e checks: install, units.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

check_install() {
	# The package file, or the package by name from the signed repository (INSTALL_FROM=repo).
	local pkg=/debs/${DEB##*/}
	if [ "${INSTALL_FROM:-file}" = repo ]; then
		mkdir -p "$WORK/dist-v1"
		cp "$DEB" "$WORK/dist-v1/"
		publish_repo "$WORK/dist-v1"
		pkg=edge-observability
	fi
	# As the README says: --no-install-recommends, as Debian's prometheus recommends
	# node-exporter and its collectors (nvme-cli, smartmontools, ...), which are not part
	# of this stack (README, "Install on a device"). man-db: to read the manual pages.
	GEXEC_TIMEOUT=1200 gexec apt-get install -y --no-install-recommends "$pkg" man-db >"$WORK/logs/install.log" 2>&1 || {
		tail -n 40 "$WORK/logs/install.log" >&2
		fail "apt-get install of $pkg failed (log above)"
	}
	local st ver pver
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "edge-observability not installed after apt-get (status '$st')"
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$OLD_VERSION" ] || fail "installed version $ver, expected $OLD_VERSION"
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' prometheus 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "prometheus was not pulled in (status '$st')"
	pver=$(gexec dpkg-query -W -f='${Version}' prometheus)
	grep -q 'prometheus' "$WORK/logs/install.log" || fail "apt log does not mention prometheus"
	note "guest: $(gexec prometheus --version 2>&1 | head -n1)"
	local p
	for p in edge-sensord edgectl; do
		gexec env MANWIDTH=80 man "$p" 2>&1 | grep -Eq "^ +$p +- " || fail "man $p: $(gexec env MANWIDTH=80 man "$p" 2>&1 | head -n 5)"
	done
	# The postinst says whether the kernel enforces the budget (edgectl status --check=cgroup).
	grep -Eq '^(problem: )?memory budget (enforced|NOT enforced): ' "$WORK/logs/install.log" ||
		fail "postinst printed no cgroup verdict (see install.log)"
	# Informative: Debian's prometheus postinst may start prometheus.service
	# with our drop-in before our conffiles are configured.
	local early
	early=$(gexec journalctl --no-pager -u prometheus.service 2>/dev/null | grep -c "Failed with result" || true)
	detail "version=$ver from=${INSTALL_FROM:-file} prometheus=$pver prometheus_failed_starts_during_install=$early man_pages=ok"
}

# in_cgroup UNIT: its main process is in the unit's cgroup (v1: memory and
# name=systemd hierarchies; v2: the unified one).
in_cgroup() {
	local u=$1 pid want cg c
	pid=$(main_pid "$u")
	[ "${pid:-0}" -gt 0 ] || fail "$u has no MainPID"
	want=$(prop "$u" ControlGroup)
	cg=$(gexec cat /proc/"$pid"/cgroup)
	if [ "$CG_V" = 2 ]; then
		[ "$cg" = "0::$want" ] || fail "$u (PID $pid) is not in $want: $(echo "$cg" | tr '\n' ' ')"
		return 0
	fi
	for c in memory 'name=systemd'; do
		echo "$cg" | grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:$want\$" >/dev/null ||
			fail "$u (PID $pid) is not in $want for $c: $(echo "$cg" | tr '\n' ' ')"
	done
}

check_units() {
	requires check_install
	simulate_sensors
	local u want mm mh mf cq quota period info=""
	for u in edge-sensord.service prometheus.service; do
		[ "$(prop $u Slice)" = "$SLICE" ] || fail "$u: Slice=$(prop $u Slice), want $SLICE"
		# A dash in a slice name nests it: edge-observability.slice lives in edge.slice.
		want=$(prop $u ControlGroup)
		case $want in */"$SLICE/$u") ;; *) fail "$u: ControlGroup=$want is not below $SLICE" ;; esac
		in_cgroup $u
	done
	# The unit files' limits must be in the cgroups (systemd drops them
	# silently where it cannot write them).
	for u in "$SLICE" edge-sensord.service prometheus.service; do
		mm=$(prop "$u" MemoryMax)
		if [ "$mm" != infinity ]; then
			mf=$(mem_limit "$u") || fail "$u: no memory limit file"
			want=$((mm / 4096 * 4096)) # the kernel rounds down to pages
			[ "$mf" = "$want" ] || fail "$u: MemoryMax=$mm but the cgroup's limit is $mf"
			info+="$u:max=$(mib "$mm") "
		elif [ "$u" = "$SLICE" ]; then
			fail "$SLICE has no MemoryMax"
		fi
		mh=$(prop "$u" MemoryHigh)
		if [ "$CG_V" = 2 ] && [ "$mh" != infinity ]; then
			mf=$(cg_read "$u" memory memory.high) || fail "$u: no memory.high"
			[ "$mf" = "$((mh / 4096 * 4096))" ] || fail "$u: MemoryHigh=$mh but memory.high=$mf"
			info+="$u:high=$(mib "$mh") "
		fi
		cq=$(prop "$u" CPUQuotaPerSecUSec)
		if [ "$cq" != infinity ]; then
			mf=$(cpu_quota "$u") || fail "$u: no CPU quota file"
			read -r quota period <<<"$mf"
			want=$(($(usec "$cq") * period / 1000000))
			[ "$quota" = "$want" ] || fail "$u: CPUQuotaPerSecUSec=$cq but the cgroup's quota is $quota (period $period)"
			info+="$u:cpu=$((want * 100 / period))% "
		fi
	done
	[ "$(prop "$SLICE" MemoryMax)" -le "$BUDGET" ] || fail "$SLICE MemoryMax $(prop "$SLICE" MemoryMax) exceeds the 150M budget"
	# STATUS= from the daemon (sd_notify) shown by systemctl status.
	wait_for 30 "edge-sensord STATUS= mentioning sensors" status_mentions sensors
	local status
	status=$(gexec systemctl --no-pager status edge-sensord.service 2>&1 || true)
	echo "$status" | grep -E '^ +Status: ".*sensors' >/dev/null || fail "systemctl status shows no Status: line with 'sensors': $status"
	note "status: $(prop edge-sensord.service StatusText)"
	detail "cgroup=v$CG_V ${info}status=\"$(prop edge-sensord.service StatusText)\""
}

status_mentions() { prop edge-sensord.service StatusText | grep -q -- "$1"; }
