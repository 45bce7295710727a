# shellcheck shell=bash
# Shared helpers of the test harnesses. Source this file first, then one guest
# backend: test/lib/nspawn.sh (systemd-nspawn, cgroup v1 here) or
# test/lib/qemu.sh (a Debian VM, cgroup v2). A backend provides
#   guest_prepare   before boot: image/rootfs ready, the package's dependencies downloaded
#   guest_boot      boot, wait until systemd reports running or degraded
#   guest_stop      halt and remove what the boot created
#   guest_up        the guest's machine is running (not whether its systemd has booted)
#   guest_console   tail of the guest's console (diagnostics)
#   gexec_in CMD... run CMD as root in the guest, stdin passed through, clean environment
#   gnet CMD...     run a client command (curl) that reaches the guest's 127.0.0.1
#   hostnet CMD...  run a host program (a browser) that reaches the guest's edge-sensord
#                   at $(sensord_host_url), as a machine on the device's network would
# Callers set WORK (a work dir, see make_workdir) before using checks or a backend.
# Scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

HARNESS=${HARNESS:-$(basename "$(dirname "$0")")}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=edge-observability
export PATH=$PATH:/usr/sbin:/sbin
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROM=${PROM:-http://127.0.0.1:9090}

# log MESSAGE: a timestamped line on stderr, and in $LOG_FILE when that is set.
log() {
	printf '%s %s: %s\n' "$(date +%T)" "$HARNESS" "$*" >&2
	[ -z "${LOG_FILE:-}" ] || printf '%s %s\n' "$(date -u +%T)" "$*" >>"$LOG_FILE"
}
die() {
	log "ERROR: $*"
	exit 1
}
# Go as new as go.mod asks for first on PATH (scripts/go.sh installs it when missing).
GO_BIN=$("$REPO/scripts/go.sh") || die "no Go for the build (scripts/go.sh above)"
export PATH=$GO_BIN:$PATH

# fail ends the current check (or the script, outside a check) with a reason.
fail() {
	[ -n "${CHECK_REASON:-}" ] && printf '%s\n' "$*" >"$CHECK_REASON"
	log "FAIL: $*"
	exit 1
}

# poll SECONDS CMD...: true once CMD succeeds (its output dropped), false when
# it has not within SECONDS. Tries every $POLL_STEP seconds (0.5; benches
# that time a recovery set less).
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep "${POLL_STEP:-0.5}"
	done
}

# wait_for SECONDS WHAT CMD...: poll, and fail when CMD has not succeeded within SECONDS.
wait_for() {
	local limit=$1 what=$2
	shift 2
	poll "$limit" "$@" || fail "timed out after ${limit}s waiting for $what"
}

# wait_http URL [SECONDS]: wait (10 s) for a 2xx answer from URL on the host.
wait_http() { wait_for "${2:-10}" "an answer from $1" curl -sf -o /dev/null --max-time 2 "$1"; }

# free_port [N]: a loopback TCP port P that nothing listens on now, nor on the N-1 (0) after it.
# shellcheck disable=SC2120 # N is optional
free_port() {
	local p i
	while :; do
		p=$((20000 + RANDOM % 40000))
		for ((i = 0; i < ${1:-1}; i++)); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null; then continue 2; fi
		done
		echo "$p"
		return
	done
}

# step and ok: the progress lines of a harness that stops at its first fail.
step() { printf '\n==> %s\n' "$*"; }
ok() { echo "ok: $*"; }

load() { cut -d' ' -f1-3 /proc/loadavg; } # the load average, for the record
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; } # PART: listed in $PARTS

# wait_exit PID SECONDS: true once PID has exited, false when it still runs after SECONDS.
wait_exit() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# BG_PIDS: the background processes a harness started; stop_bg ends them (only those) and
# waits for them.
BG_PIDS=()
stop_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	BG_PIDS=()
}

# make_workdir PREFIX: a fresh work dir on disk (not tmpfs) in WORK.
make_workdir() {
	local base=/var/tmp
	[ "$(stat -f -c %T /var/tmp 2>/dev/null)" = tmpfs ] && base=/var/lib
	WORK=$(mktemp -d "$base/$1.XXXXXX")
	mkdir -p "$WORK/logs"
}

# amd64_deb [PATH]: the package under test, PATH or else the newest dist/*_amd64.deb, built
# (amd64 only) when there is none; an absolute path.
amd64_deb() {
	local deb=${1:-}
	[ -n "$deb" ] || deb=$(ls -t "$REPO"/dist/edge-observability_*_amd64.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$REPO" && PACKAGE_ARCHES=amd64 scripts/package.sh) >&2
		deb=$(ls -t "$REPO"/dist/edge-observability_*_amd64.deb | head -n1)
	fi
	readlink -f "$deb"
}

# dist_deb DIR ARCH: the one DIR/edge-observability_*_ARCH.deb; fails unless there is exactly one.
dist_deb() {
	local debs
	mapfile -t debs < <(compgen -G "$1/${PKG}_*_$2.deb" || true)
	[ ${#debs[@]} -eq 1 ] || fail "want exactly one $1/${PKG}_*_$2.deb, found ${#debs[@]} (run make package)"
	echo "${debs[0]}"
}

# debian_mirror prints the host's Debian mirror (deb822 sources first).
debian_mirror() {
	local m=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
		m=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

# need_tools CMD:PACKAGE...: install the packages of missing commands
# (through scripts/deps.sh first, which CI uses).
need_tools() {
	local t missing=()
	for t in "$@"; do command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ -x "${REPO:-}/scripts/deps.sh" ]; then "$REPO/scripts/deps.sh" test; fi
	missing=()
	for t in "$@"; do command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	apt-get update -q >/dev/null
	apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" ca-certificates
}

# ------------------------------------------------------------------ units
mib() { awk -v b="$1" 'BEGIN { printf "%.1fMiB", b / 1048576 }'; }  # bytes -> "12.3MiB"
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }     # KiB -> "12.3" (report tables)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; } # A B -> A/B
# samples [-sum] [-series] NAME-REGEXP...: the samples of the Prometheus text on stdin, read with
# its parser (benchtool samples; the caller builds benchtool as $BT): their values one a line,
# "SERIES VALUE" lines, or their sum (nothing when none matched).
samples() { "${BT:?benchtool is not built}" samples "$@"; }

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

within() { # A B TOLERANCE_BYTES TOLERANCE_PERCENT: |A-B| within the larger tolerance
	awk -v a="$1" -v b="$2" -v t="$3" -v p="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b * p / 100; if (m < t) m = t; exit !(d <= m) }'
}

# ------------------------------------------------------------------ guest
gexec() { gexec_in "$@" </dev/null; } # CMD...: as gexec_in, without stdin
gput() { gexec_in sh -c 'cat >"$1"' sh "$2" <"$1"; } # HOSTFILE GUESTPATH
gcat() { gexec cat "$1"; }                         # GUESTPATH

prop() { gexec systemctl show -p "$2" --value "$1"; } # UNIT PROPERTY
main_pid() { prop "$1" MainPID; }
is_active() { [ "$(gexec systemctl is-active "$@")" = active ]; }
all_active() {
	local u
	for u in "$@"; do is_active "$u" || return 1; done
}

# guest_running: the guest's systemd has finished booting (running or degraded).
guest_running() {
	case $(gexec systemctl is-system-running 2>/dev/null) in running | degraded) return 0 ;; esac
	return 1
}

# ------------------------------------------------------------------ cgroups
# CG_V: the guest's cgroup version (2 when /sys/fs/cgroup is cgroup2), set by cg_detect.
cg_detect() {
	case $(gexec stat -f -c %T /sys/fs/cgroup/) in
	cgroup2fs) CG_V=2 ;;
	*) CG_V=1 ;;
	esac
}

# cg_file UNIT CONTROLLER FILE: guest path of a cgroup file of the unit
# (v1: in the controller's hierarchy; v2: in the unified one).
cg_file() {
	local cg dir
	cg=$(prop "$1" ControlGroup)
	[ -n "$cg" ] || return 1
	if [ "$CG_V" = 2 ]; then
		gexec test -e "/sys/fs/cgroup$cg/$3" || return 1
		echo "/sys/fs/cgroup$cg/$3"
		return 0
	fi
	for dir in "/sys/fs/cgroup/$2" "/sys/fs/cgroup/$2,cpuacct" "/sys/fs/cgroup/cpu,$2"; do
		if gexec test -e "$dir$cg/$3"; then
			echo "$dir$cg/$3"
			return 0
		fi
	done
	return 1
}
cg_read() { local f; f=$(cg_file "$@") && gcat "$f"; } # UNIT CONTROLLER FILE

# The same quantity under its v1 and v2 names; every one prints bytes or a count.
mem_current() { if [ "$CG_V" = 2 ]; then cg_read "$1" memory memory.current; else cg_read "$1" memory memory.usage_in_bytes; fi; }
mem_limit() { if [ "$CG_V" = 2 ]; then cg_read "$1" memory memory.max; else cg_read "$1" memory memory.limit_in_bytes; fi; }
mem_peak() { if [ "$CG_V" = 2 ]; then cg_read "$1" memory memory.peak; else cg_read "$1" memory memory.max_usage_in_bytes; fi; }
# mem_limit_hits UNIT: times the limit was hit (v1 failcnt, v2 memory.events "max").
mem_limit_hits() { if [ "$CG_V" = 2 ]; then mem_event "$1" max; else cg_read "$1" memory memory.failcnt; fi; }
mem_event() { cg_read "$1" memory memory.events | awk -v k="$2" '$1==k {print $2; f=1} END {exit !f}'; } # UNIT KEY (v2)
# cpu_quota UNIT -> "QUOTA PERIOD" in microseconds (QUOTA "max" when unlimited).
cpu_quota() {
	if [ "$CG_V" = 2 ]; then
		cg_read "$1" cpu cpu.max
	else
		echo "$(cg_read "$1" cpu cpu.cfs_quota_us) $(cg_read "$1" cpu cpu.cfs_period_us)"
	fi
}
# cpu_throttled UNIT -> "THROTTLED/PERIODS" from cpu.stat.
cpu_throttled() {
	cg_read "$1" cpu cpu.stat | awk '$1=="nr_periods"{p=$2} $1=="nr_throttled"{t=$2} END{printf "%s/%s", t, p}'
}

# ------------------------------------------------------------------ Prometheus
# prom_query QUERY [TIME]: the first result's value, "" when the result is
# empty; fails (with Prometheus's error on stderr) on a bad query or no answer.
prom_query() {
	local args=(--data-urlencode "query=$1") out
	[ -n "${2:-}" ] && args+=(--data-urlencode "time=$2")
	out=$(gnet curl -s --max-time 20 "$PROM/api/v1/query" "${args[@]}") || {
		log "prom_query: no answer from $PROM for $1"
		return 1
	}
	jq -r 'if .status=="success" then (.data.result[0].value[1] // "") else error("\(.errorType): \(.error)") end' <<<"$out" ||
		{
			log "prom_query: $1: ${out:0:300}"
			return 1
		}
}

# prom_try QUERY [TIME]: as prom_query, but "" on any failure: a bench records
# what it saw and goes on.
prom_try() { LOG_FILE='' prom_query "$@" 2>/dev/null || true; }

# shellcheck disable=SC2120 # the URL is optional
prom_ready() { gnet curl -sf --max-time 5 "${1:-$PROM}/-/ready" >/dev/null; } # [URL]

# sensord_metric NAME: the value of the daemon's metric NAME without labels, from $SENSORD/metrics.
sensord_metric() { gnet curl -sf --max-time 5 "$SENSORD/metrics" | samples "$1"; } # NAME: its value

target_up() { # JOB: Prometheus reports the job's targets healthy
	gnet curl -sf --max-time 5 "$PROM/api/v1/targets?state=active" |
		jq -e --arg j "$1" '[.data.activeTargets[] | select(.labels.job==$j)] | length > 0 and all(.health=="up")' >/dev/null
}

# recent_scrapes_ok JOB SINCE: every scrape since SINCE (epoch) succeeded and there were >= 3
recent_scrapes_ok() {
	local w=$(($(date +%s) - $2))
	[ "$w" -gt 1 ] || return 1
	[ "$(prom_query "count_over_time(up{job=\"$1\"}[${w}s])")" -ge 3 ] 2>/dev/null &&
		[ "$(prom_query "min_over_time(up{job=\"$1\"}[${w}s])")" = 1 ]
}

# scrape_every INTERVAL [JOB] <prometheus.yml: the config with JOB (edge-sensord) scraped
# every INTERVAL (= timeout); fails when the job is not in it.
scrape_every() {
	awk -v iv="$1" -v job="${2:-edge-sensord}" '
		function indent(s) { match(s, /^[ -]*/); return RLENGTH }
		$0 ~ "job_name: *[\"\047]?" job "[\"\047]? *$" {
			print; pad = sprintf("%" indent($0) "s", "")
			print pad "scrape_interval: " iv; print pad "scrape_timeout: " iv
			injob = 1; done = 1; next }
		injob && /job_name:/ { injob = 0 }
		injob && /^[^ #]/ { injob = 0 }
		injob && /^ *scrape_(interval|timeout):/ { next }
		{ print }
		END { if (!done) exit 1 }'
}

# keep_all <prometheus.yml: the config without its metric_relabel_configs blocks: the shipped
# keep list of Prometheus's self-scrape off, all of its series stored.
keep_all() {
	awk '/^ *metric_relabel_configs:/ { match($0, /^ */); pad = RLENGTH; skip = 1; next }
		skip { match($0, /^ */); if (RLENGTH > pad || $0 ~ /^ *$/) next; skip = 0 }
		{ print }'
}

# drop_self_buckets <prometheus.yml: the config with Prometheus's self-scrape
# (job prometheus) dropping its histogram buckets, most of its series.
drop_self_buckets() {
	awk '{ print } /^ *- *job_name: *prometheus *$/ { match($0, /^ *- */); pad = sprintf("%" RLENGTH "s", "")
		print pad "metric_relabel_configs:"; print pad "  - source_labels: [__name__]"; print pad "    regex: .+_bucket"; print pad "    action: drop" }'
}

# ------------------------------------------------------------------ the stack in the guest
# simulate_sensors: no sensors in a guest; keep the shipped ARGS, add the flag, restart.
simulate_sensors() {
	local def=/etc/default/edge-sensord
	gexec test -f $def || fail "$def not installed"
	if gexec grep -q '^ARGS=' $def; then
		gexec grep -q '^ARGS=.*--sensors.simulate' $def ||
			gexec sed -i -E 's/^ARGS="?([^"]*)"?$/ARGS="--sensors.simulate \1"/' $def
	else
		gexec sh -c "echo 'ARGS=\"--sensors.simulate\"' >>$def"
	fi
	gexec grep -q '^ARGS=.*--sensors.simulate' $def || fail "could not set ARGS in $def"
	gexec systemctl restart edge-sensord.service || fail "systemctl restart edge-sensord failed"
	wait_for 60 "edge-sensord and prometheus active" all_active edge-sensord.service prometheus.service
}

# ------------------------------------------------------------------ alert receivers in the guest
# A webhook receiver (127.0.0.1:9099/hook) and an SMTP server with AUTH (127.0.0.1:2525, user
# pump, password in /root/smtp.pw; Debian's python3-aiosmtpd) in the guest, as transient units
# outside the stack's slice; each notification lands in a file of HOOKS / MAILS.
HOOKS=/var/tmp/e2e-hooks
MAILS=/var/tmp/e2e-mail

receivers_up() {
	gput "$REPO/test/lib/smtp-sink.py" /opt/smtp-sink.py
	gput "$REPO/test/lib/webhook-sink.py" /opt/webhook-sink.py
	gexec sh -c "chmod 0755 /opt/smtp-sink.py /opt/webhook-sink.py && mkdir -p $HOOKS $MAILS &&
		umask 077 && echo 'e2e-smtp-pw' >/root/smtp.pw"
	gexec systemd-run --quiet --unit=e2e-webhook /opt/webhook-sink.py --listen 127.0.0.1:9099 --dir $HOOKS
	gexec systemd-run --quiet --unit=e2e-smtp /opt/smtp-sink.py --listen 127.0.0.1:2525 --dir $MAILS \
		--user pump --password-file /root/smtp.pw
	wait_for 30 "the guest's receivers" gexec bash -c '</dev/tcp/127.0.0.1/9099 && </dev/tcp/127.0.0.1/2525'
}

# alerts_enable [FLAGS...]: edgectl alerts enable with both receivers; FLAGS add to it.
alerts_enable() {
	gexec edgectl alerts enable --webhook http://127.0.0.1:9099/hook --email ops@example.org --smtp 127.0.0.1:2525 \
		--smtp-from pump@example.org --smtp-auth-username pump --smtp-auth-password-file /root/smtp.pw --smtp-require-tls=false "$@"
}

# hook_count NAME STATUS: webhook notifications with alert NAME in STATUS ("" any).
hook_count() {
	gexec sh -c "cat $HOOKS/[0-9]*.json 2>/dev/null || true" |
		jq -s --arg n "$1" --arg s "$2" '[.[] | select(any(.alerts[]; .labels.alertname == $n and ($s == "" or .status == $s)))] | length'
}
hook_has() { [ "$(hook_count "$1" "$2")" -ge 1 ]; }
# mail_count WORD...: messages whose Subject: line has every word.
mail_count() {
	local subjects w
	subjects=$(gexec sh -c "grep -h '^Subject:' $MAILS/[0-9]*.eml 2>/dev/null" || true)
	for w in "$@"; do subjects=$(grep -F -- "$w" <<<"$subjects" || true); done
	if [ -n "$subjects" ]; then wc -l <<<"$subjects"; else echo 0; fi
}
mail_has() { [ "$(mail_count "$@")" -ge 1 ]; }

# ------------------------------------------------------------------ checks
# Checks are functions run in order by run_checks, numbered as they run; a
# check ends at its first fail. plan_check FUNCTION TITLE adds one to the plan.
CHECK_PLAN=()
CHECKS_PASSED=0
CHECKS_FAILED=0
SUMMARY_DONE=0
declare -A RESULT=()

# E2E_CHECKS=check_a,check_b keeps only those of the plan (a quicker run while working on a check;
# name the checks it requires too).
plan_check() { [[ -z ${E2E_CHECKS:-} || ,$E2E_CHECKS, == *",$1,"* ]] && CHECK_PLAN+=("$1|$2") || true; }
detail() { printf '%s ' "$*" >>"$WORK/detail"; } # key=value words for the PASS line
note() { log "  $*"; }
requires() { # FUNCTION...: checks that must have passed
	local f
	for f in "$@"; do
		[ "${RESULT[$f]:-}" = pass ] || fail "not run: needs $f, which failed"
	done
}

# dump_diagnostics is called after a failed check; callers may redefine it.
dump_diagnostics() { :; }

run_check() { # N TITLE FUNCTION
	local n=$1 title=$2 fn=$3 rc
	: >"$WORK/detail"
	: >"$WORK/reason"
	log "check $n: $title"
	set +e
	# In the background and waited for, so that a signal to the script is
	# handled at once (its trap can then end the check with kill_check).
	(
		set -Eeuo pipefail
		CHECK_REASON=$WORK/reason
		trap '[ -s "$WORK/reason" ] || printf "command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >"$WORK/reason"' ERR
		"$fn"
	) &
	CHECK_PID=$!
	wait "$CHECK_PID"
	rc=$?
	CHECK_PID=""
	set -e
	if [ $rc -eq 0 ]; then
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
		RESULT[$fn]=pass
		echo "PASS $n $title: $(cat "$WORK/detail")"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		RESULT[$fn]=fail
		echo "FAIL $n $title: $(cat "$WORK/reason")"
		grep -q '^not run' "$WORK/reason" || dump_diagnostics
	fi
}

# kill_check ends a running check (from a signal trap).
kill_check() { [ -z "${CHECK_PID:-}" ] || kill "$CHECK_PID" 2>/dev/null || true; }

run_checks() {
	local i=0 c
	for c in "${CHECK_PLAN[@]}"; do
		i=$((i + 1))
		run_check "$i" "${c#*|}" "${c%%|*}"
	done
}

# end_checks RC: the checks' part of a harness's EXIT trap: ends a running check and, when the
# script did not get to its summary, prints it and returns 1; else returns RC.
end_checks() {
	kill_check
	[ "$SUMMARY_DONE" = 1 ] && return "$1"
	summary
	return 1
}

# summary counts planned checks that never ran as failed; true when all passed.
summary() {
	local i=0 c
	for c in "${CHECK_PLAN[@]}"; do
		i=$((i + 1))
		if [ -z "${RESULT[${c%%|*}]:-}" ]; then
			CHECKS_FAILED=$((CHECKS_FAILED + 1))
			echo "FAIL $i ${c#*|}: not run, the test stopped before it (see the errors above)"
		fi
	done
	echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
	SUMMARY_DONE=1
	[ "$CHECKS_FAILED" -eq 0 ]
}
