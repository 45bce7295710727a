#!/usr/bin/env bash
# End-to-end test of the amd64 .deb on a real systemd (PID 1 in
# systemd-nspawn): install, slice membership and limits, scraping, memory
# budget and edgectl, watchdog, memory cap, upgrade/remove/purge.
#
# Usage: test/e2e/run.sh            (after `make package`)
# Env:   E2E_DEB=path.deb           package under test (default: newest dist/*_amd64.deb)
#        E2E_SCRAPES=300            scrapes that must all succeed in check 3
#        E2E_SCRAPE_INTERVAL=1s     scrape interval (= timeout) of job edge-sensord set for it
#                                   (whole seconds or NNNms below 1s)
#        E2E_CACHE_DIR=...          rootfs cache (default /var/cache/edge-observability-e2e)
#        KEEP=1                     leave the container running and the work dir in place
#                                   (then: test/e2e/run.sh stop WORKDIR)
# dpkg-query formats and scripts run in the container are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH
# shellcheck source=test/e2e/nspawn.sh
. "$HERE/nspawn.sh"

[ "$(id -u)" = 0 ] || die "must run as root (systemd-nspawn, cgroups)"

# `run.sh stop WORKDIR` stops a container left by KEEP=1 and removes it.
if [ "${1:-}" = stop ]; then
	WORK=$(readlink -f "${2:?usage: run.sh stop WORKDIR}")
	[ -f "$WORK/machine" ] || die "$WORK is not a work dir of this test"
	MACHINE=$(cat "$WORK/machine")
	stop_container
	rm -rf "$WORK"
	log "stopped $MACHINE and removed $WORK"
	exit 0
fi

SCRAPES=${E2E_SCRAPES:-300}
# Written the way Prometheus prints durations, so the running config can be compared.
INTERVAL=${E2E_SCRAPE_INTERVAL:-1s}
case $INTERVAL in
[1-9][0-9][0-9]ms | [1-9][0-9]ms) INTERVAL_MS=${INTERVAL%ms} ;;
[1-9]s | [1-9][0-9]s) INTERVAL_MS=$((${INTERVAL%s} * 1000)) ;;
*) die "E2E_SCRAPE_INTERVAL=$INTERVAL: use whole seconds (1s) or 10ms..999ms" ;;
esac
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
EXTRA_PKGS="prometheus man-db"
MACHINE=edgee2e$$
PROM=http://127.0.0.1:9090
SENSORD=http://127.0.0.1:8000
SLICE=edge-observability.slice
BUDGET=$((150 * 1024 * 1024)) # the stack's memory budget (common layout)
NSPAWN_ARGS=()

# ---------------------------------------------------------------- host tools
missing_tools() {
	local t
	for t in systemd-nspawn:systemd-container debootstrap:debootstrap curl:curl jq:jq; do
		command -v "${t%%:*}" >/dev/null || printf '%s ' "${t#*:}"
	done
}
command -v go >/dev/null || die "go not found (expected in /usr/local/go/bin)"
if [ -n "$(missing_tools)" ] && [ -x "$REPO/scripts/deps.sh" ]; then
	"$REPO/scripts/deps.sh" test
fi
if [ -n "$(missing_tools)" ]; then
	log "installing $(missing_tools)"
	apt-get update -q >/dev/null
	# shellcheck disable=SC2046
	apt-get install -y -q --no-install-recommends $(missing_tools) ca-certificates
fi

# One test container at a time (see nspawn_lock); taken before the work dir exists.
nspawn_lock

# ------------------------------------------------------------ package to test
if [ -n "${E2E_DEB:-}" ]; then
	DEB=$(readlink -f "$E2E_DEB")
else
	DEB=$(ls -t "$REPO"/dist/edge-observability_*_amd64.deb 2>/dev/null | head -n1 || true)
fi
{ [ -n "$DEB" ] && [ -f "$DEB" ]; } || die "no dist/edge-observability_*_amd64.deb: run 'make package' first (or set E2E_DEB)"
OLD_VERSION=$(dpkg-deb -f "$DEB" Version)
# The upgrade is built from the same tree with a higher upstream version
# (the packager appends its own Debian revision).
NEW_UPSTREAM=${OLD_VERSION%-*}+e2e1
log "package under test: $DEB ($OLD_VERSION)"

# ------------------------------------------------------------------ work dir
tmpbase=/var/tmp
[ "$(stat -f -c %T /var/tmp 2>/dev/null)" = tmpfs ] && tmpbase=/var/lib
WORK=$(mktemp -d "$tmpbase/edge-e2e.XXXXXX")
ROOT=$WORK/rootfs
mkdir -p "$WORK/debs" "$WORK/logs"
echo "$MACHINE" >"$WORK/machine"
LEADER=""
BG_PIDS=()
PASSED=0
FAILED=0
declare -A RESULT=()

ALL_CHECKS="1 2 3 4 9 5 6 8 7"
SUMMARY_DONE=0

summary() {
	local n
	for n in $ALL_CHECKS; do
		if [ -z "${RESULT[$n]:-}" ]; then
			FAILED=$((FAILED + 1))
			echo "FAIL $n not run: the test stopped before it (see the errors above)"
		fi
	done
	echo "$PASSED passed, $FAILED failed"
	SUMMARY_DONE=1
}

cleanup() {
	local rc=$?
	set +e
	[ "$SUMMARY_DONE" = 1 ] || { summary; rc=1; }
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: container $MACHINE left running; enter it with: nsenter -t $(cat "$WORK/leader.pid" 2>/dev/null) -a bash"
		log "        stop and remove it with: $0 stop $WORK"
		return $rc
	fi
	stop_container
	rm -rf "$WORK"
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ check framework

# fail records why the current check failed and ends it.
fail() {
	printf '%s\n' "$*" >"$WORK/reason"
	log "FAIL: $*"
	exit 1
}
# detail adds key=value words to the current check's PASS line.
detail() { printf '%s ' "$*" >>"$WORK/detail"; }
note() { log "  $*"; }
requires() {
	local n
	for n in "$@"; do
		[ "${RESULT[$n]:-}" = pass ] || fail "not run: needs check $n, which failed"
	done
}

dump_diagnostics() {
	{
		echo "=============== diagnostics ($(date +%T)) ==============="
		cexec systemctl --no-pager --full status "$SLICE" edge-sensord.service prometheus.service 2>&1 | head -n 120
		echo "--- systemctl --failed"
		cexec systemctl --no-pager --failed 2>&1
		echo "--- journal (edge-sensord, prometheus, memhog)"
		cexec journalctl --no-pager -o short-precise -n 150 -u edge-sensord.service -u prometheus.service -u 'memhog*' 2>&1
		echo "--- container console (tail)"
		tail -n 20 "$WORK/console.log" 2>/dev/null
		echo "==========================================================="
	} >&2 || true
}

run_check() { # N "title" function
	local n=$1 title=$2 fn=$3 rc
	: >"$WORK/detail"
	: >"$WORK/reason"
	log "check $n: $title"
	set +e
	(
		set -Eeuo pipefail
		trap '[ -s "$WORK/reason" ] || printf "command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >"$WORK/reason"' ERR
		"$fn"
	)
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		PASSED=$((PASSED + 1))
		RESULT[$n]=pass
		echo "PASS $n $(cat "$WORK/detail")"
	else
		FAILED=$((FAILED + 1))
		RESULT[$n]=fail
		echo "FAIL $n $title: $(cat "$WORK/reason")"
		if ! grep -q '^not run' "$WORK/reason"; then dump_diagnostics; fi
	fi
}

# --------------------------------------------------------------- small tools
prom_query() { # QUERY [TIME] -> first result's value, or "" when empty
	local args=(--data-urlencode "query=$1")
	[ -n "${2:-}" ] && args+=(--data-urlencode "time=$2")
	cnet curl -sf --max-time 20 "$PROM/api/v1/query" "${args[@]}" |
		jq -r 'if .status=="success" then (.data.result[0].value[1] // "") else error("query failed") end'
}

wait_for() { # SECONDS DESCRIPTION COMMAND... : poll every 0.5 s
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "timed out after ${limit}s waiting for $what"
		sleep 0.5
	done
}

prop() { cexec systemctl show -p "$2" --value "$1"; } # UNIT PROPERTY

is_active() { [ "$(cexec systemctl is-active "$@")" = active ]; }
all_active() { local u; for u in "$@"; do is_active "$u" || return 1; done; }

target_up() { # JOB: Prometheus reports the job's target healthy
	cnet curl -sf --max-time 5 "$PROM/api/v1/targets?state=active" |
		jq -e --arg j "$1" '[.data.activeTargets[] | select(.labels.job==$j)] | length > 0 and all(.health=="up")'
}

prom_ready() { cnet curl -sf --max-time 5 "$PROM/-/ready"; }

# recent_scrapes_ok JOB SINCE: every scrape since SINCE (epoch) succeeded and there were >= 3
recent_scrapes_ok() {
	local w=$(($(date +%s) - $2))
	[ "$w" -gt 1 ] || return 1
	[ "$(prom_query "count_over_time(up{job=\"$1\"}[${w}s])")" -ge 3 ] 2>/dev/null &&
		[ "$(prom_query "min_over_time(up{job=\"$1\"}[${w}s])")" = 1 ]
}

# cg_file UNIT CONTROLLER FILE: path of a cgroup v1 file of the unit inside the container
cg_file() {
	local cg dir
	cg=$(prop "$1" ControlGroup)
	[ -n "$cg" ] || return 1
	for dir in "/sys/fs/cgroup/$2" "/sys/fs/cgroup/$2,cpuacct" "/sys/fs/cgroup/cpu,$2"; do
		if cexec test -e "$dir$cg/$3"; then
			echo "$dir$cg/$3"
			return 0
		fi
	done
	return 1
}
cg_read() { local f; f=$(cg_file "$@") && cexec cat "$f"; }

usec() { # systemd time span ("200ms", "1.500000s", "1min 30s") -> microseconds
	awk -v s="$1" 'BEGIN {
		n = split(s, t, " "); tot = 0
		for (i = 1; i <= n; i++) {
			v = t[i]; u = v; sub(/^[0-9.]+/, "", u); v = substr(v, 1, length(v) - length(u))
			m = (u == "us" ? 1 : u == "ms" ? 1000 : u == "s" || u == "" ? 1000000 : u == "min" ? 60000000 : -1)
			if (m < 0) { print "bad"; exit 1 }
			tot += v * m
		}
		printf "%.0f\n", tot }'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1fMiB", b / 1048576 }'; }

main_pid() { prop "$1" MainPID; }

# ==================================================================== checks

check_install() {
	# --no-install-recommends: Debian's prometheus recommends node-exporter and
	# its collectors (nvme-cli, smartmontools, ...), which are not part of
	# this stack and triple the install time. man-db: to read the package's manual pages.
	cexec apt-get install -y --no-install-recommends /debs/"$(basename "$DEB")" man-db </dev/null >"$WORK/logs/install.log" 2>&1 || {
		tail -n 40 "$WORK/logs/install.log" >&2
		fail "apt-get install of $(basename "$DEB") failed (log above)"
	}
	local st ver pver
	st=$(cexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "edge-observability not installed after apt-get (status '$st')"
	ver=$(cexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$OLD_VERSION" ] || fail "installed version $ver, expected $OLD_VERSION"
	st=$(cexec dpkg-query -W -f='${db:Status-Abbrev}' prometheus 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "prometheus was not pulled in (status '$st')"
	pver=$(cexec dpkg-query -W -f='${Version}' prometheus)
	grep -q 'prometheus' "$WORK/logs/install.log" || fail "apt log does not mention prometheus"
	local p
	for p in edge-sensord edgectl; do
		cexec env MANWIDTH=80 man "$p" 2>&1 | grep -Eq "^ +$p +- " || fail "man $p: $(cexec env MANWIDTH=80 man "$p" 2>&1 | head -n 5)"
	done
	# The postinst says whether the kernel enforces the budget (edgectl status --check=cgroup).
	grep -q '^memory budget enforced: ' "$WORK/logs/install.log" || fail "postinst printed no cgroup verdict (see install.log)"
	# Informative: Debian's prometheus postinst may start prometheus.service
	# with our drop-in before our conffiles are configured.
	local early
	early=$(cexec journalctl --no-pager -u prometheus.service 2>/dev/null | grep -c "Failed with result" || true)
	detail "version=$ver prometheus=$pver prometheus_failed_starts_during_install=$early man_pages=ok"
}

check_units() {
	requires 1
	# No sensors in a container: simulate. Keep the shipped ARGS and add the flag.
	local def=$ROOT/etc/default/edge-sensord
	[ -f "$def" ] || fail "/etc/default/edge-sensord not installed"
	if grep -q '^ARGS=' "$def"; then
		grep -q '^ARGS=.*--sensors.simulate' "$def" ||
			sed -i -E 's/^ARGS="?([^"]*)"?$/ARGS="--sensors.simulate \1"/' "$def"
	else
		echo 'ARGS="--sensors.simulate"' >>"$def"
	fi
	grep -q '^ARGS=.*--sensors.simulate' "$def" || fail "could not set ARGS in /etc/default/edge-sensord"
	cexec systemctl restart edge-sensord.service || fail "systemctl restart edge-sensord failed"
	wait_for 30 "edge-sensord and prometheus active" all_active edge-sensord.service prometheus.service

	local u pid cg mm mf cq period quota want info=""
	for u in edge-sensord.service prometheus.service; do
		[ "$(prop $u Slice)" = "$SLICE" ] || fail "$u: Slice=$(prop $u Slice), want $SLICE"
		pid=$(main_pid $u)
		[ "${pid:-0}" -gt 0 ] || fail "$u has no MainPID"
		# A dash in a slice name nests it: edge-observability.slice lives in edge.slice.
		want=$(prop $u ControlGroup)
		case $want in */"$SLICE/$u") ;; *) fail "$u: ControlGroup=$want is not below $SLICE" ;; esac
		cg=$(cexec cat /proc/"$pid"/cgroup)
		for c in memory 'name=systemd'; do
			echo "$cg" | grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:$want\$" >/dev/null ||
				fail "$u (PID $pid) is not in $want for $c: $(echo "$cg" | tr '\n' ' ')"
		done
	done
	# The unit files' limits must be in the cgroups (nspawn's read-only v1
	# mounts would make systemd drop them silently).
	for u in "$SLICE" edge-sensord.service prometheus.service; do
		mm=$(prop "$u" MemoryMax)
		if [ "$mm" != infinity ]; then
			mf=$(cg_read "$u" memory memory.limit_in_bytes) || fail "$u: no memory.limit_in_bytes"
			want=$((mm / 4096 * 4096)) # the kernel rounds down to pages
			[ "$mf" = "$want" ] || fail "$u: MemoryMax=$mm but memory.limit_in_bytes=$mf"
			info+="$u:mem=$(mib "$mm") "
		elif [ "$u" = "$SLICE" ]; then
			fail "$SLICE has no MemoryMax"
		fi
		cq=$(prop "$u" CPUQuotaPerSecUSec)
		if [ "$cq" != infinity ]; then
			period=$(cg_read "$u" cpu cpu.cfs_period_us) || fail "$u: no cpu.cfs_period_us"
			quota=$(cg_read "$u" cpu cpu.cfs_quota_us)
			want=$(($(usec "$cq") * period / 1000000))
			[ "$quota" = "$want" ] || fail "$u: CPUQuotaPerSecUSec=$cq but cpu.cfs_quota_us=$quota (period $period)"
			info+="$u:cpu=$((want * 100 / period))% "
		fi
	done
	[ "$(prop "$SLICE" MemoryMax)" -le "$BUDGET" ] || fail "$SLICE MemoryMax $(prop "$SLICE" MemoryMax) exceeds the 150M budget"
	# STATUS= from the daemon (sd_notify) shown by systemctl status.
	wait_for 20 "edge-sensord STATUS= mentioning sensors" \
		sh -c "nsenter -t $LEADER -a systemctl show -p StatusText --value edge-sensord | grep -q sensors"
	local status
	status=$(cexec systemctl --no-pager status edge-sensord.service 2>&1 || true)
	echo "$status" | grep -E '^ +Status: ".*sensors' >/dev/null || fail "systemctl status shows no Status: line with 'sensors': $status"
	note "status: $(prop edge-sensord.service StatusText)"
	detail "${info}status=\"$(prop edge-sensord.service StatusText)\""
}

set_fast_scrape() { # job edge-sensord in the conffile: scrape every $INTERVAL
	local f=$ROOT/etc/edge-observability/prometheus.yml tmp
	[ -f "$f" ] || fail "/etc/edge-observability/prometheus.yml not installed"
	tmp=$(mktemp "$WORK/prom.XXXXXX")
	awk -v iv="$INTERVAL" '
		function indent(s) { match(s, /^[ -]*/); return RLENGTH }
		/job_name: *["'\'']?edge-sensord["'\'']? *$/ {
			print; ind = indent($0); pad = sprintf("%" ind "s", "")
			print pad "scrape_interval: " iv; print pad "scrape_timeout: " iv
			injob = 1; done = 1; next }
		injob && /job_name:/ { injob = 0 }
		injob && /^[^ #]/ { injob = 0 }
		injob && /^ *scrape_(interval|timeout):/ { next }
		{ print }
		END { if (!done) exit 1 }' "$f" >"$tmp" || fail "no job_name: edge-sensord in prometheus.yml"
	cat "$tmp" >"$f"
	rm -f "$tmp"
}

check_scrapes() {
	requires 1
	set_fast_scrape
	sha256sum "$ROOT/etc/edge-observability/prometheus.yml" | cut -d' ' -f1 >"$WORK/prometheus.yml.sha"
	local t0
	t0=$(date +%s)
	echo "$t0" >"$WORK/t_scrape_start"
	cexec systemctl restart prometheus.service || fail "systemctl restart prometheus failed"
	wait_for 60 "prometheus ready" prom_ready
	cnet curl -sf "$PROM/api/v1/status/config" | jq -r .data.yaml | grep -q "scrape_interval: $INTERVAL\$" ||
		fail "running Prometheus config has no scrape_interval $INTERVAL (edited conffile not used?)"
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	# Wait (bounded) until the window since the restart holds enough scrapes.
	local limit=$((SCRAPES * INTERVAL_MS * 3 / 2000 + 60)) n=0 w now # the scrapes' time plus half again
	local end=$((SECONDS + limit))
	while :; do
		now=$(date +%s)
		w=$((now - t0))
		n=$(prom_query "count_over_time(up{job=\"edge-sensord\"}[${w}s])" "$now")
		[ "${n:-0}" -ge "$SCRAPES" ] && break
		[ $SECONDS -lt $end ] || fail "only ${n:-0} scrapes of edge-sensord in ${w}s (want $SCRAPES)"
		sleep 5
	done
	local ok samples dup thr
	ok=$(prom_query "sum_over_time(up{job=\"edge-sensord\"}[${w}s])" "$now")
	# CPU throttling of the daemon by its CPUQuota= (informative; explains slow scrapes).
	thr=$(cg_read edge-sensord.service cpu cpu.stat | awk '$1=="nr_periods"{p=$2} $1=="nr_throttled"{t=$2} END{printf "%s/%s", t, p}' || true)
	local dur
	dur=$(prom_query "max_over_time(scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$now")
	if [ "$ok" != "$n" ]; then
		note "longest scrape: ${dur}s; load average: $(cut -d' ' -f1-3 /proc/loadavg); last error: $(cnet curl -sf "$PROM/api/v1/targets?state=active" | jq -r '.data.activeTargets[] | select(.labels.job=="edge-sensord") | .lastError')"
		note "failed scrapes at: $(cnet curl -sf "$PROM/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[${w}s]" --data-urlencode "time=$now" |
			jq -r '[.data.result[0].values[] | select(.[1]=="0") | (.[0] | strftime("%T"))] | join(" ")')"
		note "edge-sensord CPU periods throttled: $thr"
		fail "scrapes=$n failed=$((n - ${ok:-0})) in the ${w}s window (interval=timeout=$INTERVAL)"
	fi
	samples=$(prom_query "min_over_time(scrape_samples_scraped{job=\"edge-sensord\"}[${w}s])" "$now")
	[ "${samples:-0}" -gt 0 ] || fail "scrape_samples_scraped of edge-sensord was ${samples:-absent}"
	dup=$(prom_query 'sum(prometheus_target_scrapes_sample_duplicate_timestamp_total) + sum(prometheus_target_scrapes_sample_out_of_order_total)' "$now")
	[ -z "$dup" ] || [ "$dup" = 0 ] || fail "Prometheus rejected samples (duplicate/out-of-order timestamps): $dup"
	detail "scrapes=$n failed=0 interval=$INTERVAL window=${w}s min_samples_per_scrape=$samples rejected_samples=${dup:-n/a} sensord_cpu_throttled_periods=$thr max_scrape_duration=${dur}s"
}

# shellcheck source=test/e2e/checks.sh
. "$HERE/checks.sh"

start_upgrade_build() {
	# Built while check 3 waits; scripts/package.sh honours VERSION, PACKAGE_ARCHES (and DIST_DIR when supported).
	(
		cd "$REPO"
		if grep -q DIST_DIR scripts/package.sh 2>/dev/null; then
			VERSION=$NEW_UPSTREAM PACKAGE_ARCHES=amd64 DIST_DIR=$WORK/dist-upgrade scripts/package.sh
		else
			VERSION=$NEW_UPSTREAM PACKAGE_ARCHES=amd64 scripts/package.sh
			mkdir -p "$WORK/dist-upgrade"
			mv dist/*"$NEW_UPSTREAM"* "$WORK/dist-upgrade/"
		fi
	) >"$WORK/logs/package-upgrade.log" 2>&1 &
	BG_PIDS+=($!)
	echo $! >"$WORK/upgrade-build.pid"
}

main() {
	log "work dir $WORK, machine $MACHINE"
	prepare_rootfs
	cp "$DEB" "$WORK/debs/"
	CGO_ENABLED=0 go build -trimpath -o "$ROOT/opt/memhog" "$HERE/memhog" || die "building memhog failed"
	# Make sure everything the package needs is in the rootfs's apt cache
	# (host network, before boot); a no-op when the cache is complete.
	NSPAWN_ARGS=(--bind-ro="$WORK/debs:/debs")
	ns_run sh -c "apt-get install -y -q --no-install-recommends --download-only /debs/$(basename "$DEB")" >"$WORK/logs/download.log" 2>&1 || {
		tail -n 30 "$WORK/logs/download.log" >&2
		die "could not download the package's dependencies into the rootfs"
	}
	boot
	run_check 1 "apt-get install of the package pulls in prometheus" check_install
	run_check 2 "units active in $SLICE with their limits and STATUS" check_units
	start_upgrade_build
	run_check 3 "$SCRAPES scrapes of edge-sensord, none failed" check_scrapes
	run_check 4 "memory under budget, edgectl agrees with the cgroups" check_budget
	run_check 9 "dashboard queries through edge-sensord's proxy, daemon under its MemoryHigh" check_dashboard
	run_check 5 "watchdog restarts a stopped daemon" check_watchdog
	run_check 6 "the slice's memory cap kills a hog, the stack survives" check_memcap
	run_check 8 "systemctl reload (SIGHUP) of both services" check_reload
	run_check 7 "upgrade keeps conffile and data; remove; purge" check_upgrade
}

main
summary
[ "$FAILED" -eq 0 ]
