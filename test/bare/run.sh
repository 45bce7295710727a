#!/usr/bin/env bash
# The README's `make run` on a bare Debian: a minbase root with `make` and nothing else (no Go,
# no Prometheus, no curl) must install what it needs (apt packages; Go through scripts/go.sh,
# downloaded and checked anew every run: that is what is under test), build, and serve the
# dashboard, with Prometheus scraping it; Ctrl-C must then stop everything it started.
#
# Usage: test/bare/run.sh [SUITE...]    (trixie and/or bookworm; default: trixie bookworm)
# Env:   E2E_CACHE_DIR   where the debootstrapped roots are cached (shared with test/e2e)
#        BARE_TIMEOUT    seconds make run may take to say it runs (1800)
#        KEEP=1          keep the work dir (the root and its logs)
#
# The root runs in a chroot in a private mount namespace (proc, sys and dev mounted there go
# away with it) on the host's network, as root, with a clean environment: a chroot, not
# systemd-nspawn, because nspawn's PID namespace would kill whatever make run leaves behind
# when it ends, and the test must see such a process. The host's trusted CAs are handed to the
# root (where the network intercepts TLS with a CA of its own, as this one does); the root's
# ca-certificates, which make run installs, takes them in.
#
# A second suite's root starts with the first one's Go module and build caches (in /root, no
# Go toolchain among them): the same Go 1.26.11 builds the same static binaries on both, so only
# the first build compiles everything; what differs between the suites (apt's packages, the go
# command that fetches Go, fetching and checking Go itself) still starts from nothing.
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/lib/harness.sh
. "$HERE/../lib/harness.sh"
# shellcheck source=test/lib/rootfs.sh
. "$REPO/test/lib/rootfs.sh"

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mounts)"
SUITES=("$@")
[ $# -gt 0 ] || SUITES=(trixie bookworm)
for SUITE in "${SUITES[@]}"; do
	case $SUITE in trixie | bookworm) ;; *) die "unknown suite '$SUITE' (trixie or bookworm)" ;; esac
done
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
TIMEOUT=${BARE_TIMEOUT:-1800}
MACHINE=edgebare$$
need_tools debootstrap:debootstrap systemd-nspawn:systemd-container curl:curl jq:jq unshare:util-linux zip:zip
make_workdir edge-bare

# use_root SUITE: the suite's root, its log and free ports for the checks that follow.
use_root() {
	SUITE=$1
	ROOT=$WORK/$SUITE
	RUN_LOG=$WORK/logs/make-run-$SUITE.log
	SENSORD_PORT=$(free_port)
	PROM_PORT=$(free_port)
	SENSORD=http://127.0.0.1:$SENSORD_PORT
	PROM=http://127.0.0.1:$PROM_PORT
	# A command in the chroot, with a clean environment and the standard PATH (no Go).
	# shellcheck disable=SC2016 # the script is sh's, its arguments follow it
	ROOT_CMD=(unshare --mount --propagation private -- sh -ec
		'r=$1; shift; mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"; exec chroot "$r" "$@"'
		sh "$ROOT" env -i PATH="$GUEST_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb)
}
in_root() { "${ROOT_CMD[@]}" "$@"; }
gnet() { "$@"; } # the root shares the host's network (harness.sh's Prometheus helpers use it)
run_pid() { cat "$WORK/run.pid" 2>/dev/null; } # make run's PID, its process group's too

cleanup() {
	local rc=$? p
	set +e
	end_checks "$rc"
	rc=$?
	[ -z "$(run_pid)" ] || kill -KILL -- "-$(run_pid)" 2>/dev/null
	for p in $(root_pids); do kill -KILL "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: work dir $WORK"
	else
		rm -rf "$WORK"
	fi
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# root_pids: processes whose root directory is the chroot (what make run started there).
root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "${ROOT:-/nonexistent}" ] && echo "${p#/proc/}"
	done
	return 0
}

dump_diagnostics() {
	{
		echo "=============== make run's output (tail) ==============="
		tail -n 60 "$RUN_LOG" 2>/dev/null
		echo "========================================================"
	} >&2 || true
}

# scripts/go.sh refuses a toolchain zip that is not the one the checksum database records, even
# with every setting that would skip the check in its environment: a module proxy in a directory
# (GOPROXY=file://) serves the checksum database's real answers, fetched here, and a forged zip.
check_go_forged_zip() {
	local v mod dir proxy gopath=$WORK/gopath out
	# shellcheck disable=SC2016 # a sed expression
	v=$(sed -n 's/^GO_VERSION=${GO_VERSION:-\(.*\)}$/\1/p' "$REPO/scripts/go.sh")
	mod=golang.org/toolchain@v0.0.1-go$v.linux-amd64
	proxy=$gopath/mod/cache/download
	(cd / && GOPATH=$gopath GOMODCACHE=$gopath/mod GOFLAGS=-modcacherw GOPROXY=https://proxy.golang.org \
		GOSUMDB=sum.golang.org GOTOOLCHAIN=local go list -m -json "$mod" >/dev/null) ||
		fail "go list -m $mod: no answer from the module proxy or the checksum database"
	cp "$gopath/pkg/sumdb/sum.golang.org/latest" "$proxy/sumdb/sum.golang.org/latest"
	: >"$proxy/sumdb/sum.golang.org/supported"
	dir=$WORK/forged/$mod
	mkdir -p "$dir/bin" "$dir/pkg/tool/linux_amd64"
	echo forged >"$dir/pkg/tool/linux_amd64/compile"
	printf '#!/bin/sh\necho go%s\n' "$v" >"$dir/bin/go" # answers go env GOVERSION as the real one
	echo "go$v" >"$dir/VERSION"
	(cd "$WORK/forged" && zip -qr "$proxy/golang.org/toolchain/@v/v0.0.1-go$v.linux-amd64.zip" "$mod")
	if out=$(GO_SDK=$WORK/sdk GO_VERSION=$v GOPROXY="file://$proxy" GOSUMDB=off GONOSUMDB='*' GONOSUMCHECK=1 \
		GOPRIVATE='*' GOINSECURE='*' "$REPO/scripts/go.sh" --install 2>&1); then
		fail "scripts/go.sh installed a forged zip: $out"
	fi
	grep -q 'SECURITY ERROR' <<<"$out" || fail "scripts/go.sh failed, but not on the checksum: $out"
	grep -q 'nothing was installed' <<<"$out" || fail "scripts/go.sh does not say that nothing was installed: $out"
	[ ! -e "$WORK/sdk/go$v" ] || fail "$WORK/sdk/go$v exists after a refused download"
	detail "refused=$mod"
}

check_bare_root() {
	in_root sh -c 'command -v make' >/dev/null || fail "no make in the $SUITE root"
	local tool
	for tool in go prometheus curl; do
		! in_root sh -c "command -v $tool" >/dev/null || fail "$tool is in the bare root already"
	done
	detail "suite=$SUITE debian=$(cat "$ROOT/etc/debian_version")"
}

# The README's `make run`, as a person types it: its own process group, SIGINT at its default
# (a terminal's foreground job), ports that are free on this host.
check_make_run() {
	requires check_bare_root
	local t0=$SECONDS line pid
	setsid env --default-signal=INT,QUIT "${ROOT_CMD[@]}" \
		sh -c "cd /src && exec make run SENSORD_PORT=$SENSORD_PORT PROM_PORT=$PROM_PORT" >"$RUN_LOG" 2>&1 &
	pid=$!
	echo "$pid" >"$WORK/run.pid"
	until grep -q '^edge observability stack running' "$RUN_LOG" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || fail "make run exited before saying it runs (its output above)"
		[ $((SECONDS - t0)) -lt "$TIMEOUT" ] || fail "make run did not say it runs within ${TIMEOUT}s"
		sleep 1
	done
	line=$(grep -m1 '^go.sh: installed Go' "$RUN_LOG") || fail "make run did not say that it installed Go"
	note "$line"
	grep -q '^go.sh: removing golang' "$RUN_LOG" || fail "the go command that fetched Go was not removed again"
	! in_root sh -c 'command -v go' >/dev/null || fail "a go command is left on the root's PATH"
	detail "ready_after=$((SECONDS - t0))s go_install=\"${line#*sum.golang.org): }\" root_disk=$(du -sxm "$ROOT" | cut -f1)MiB"
}

# What the banner promises answers, from the processes make run started in the root.
check_stack() {
	requires check_make_run
	local page dash metrics p names=""
	page=$(curl -sf --max-time 10 "$SENSORD/") || fail "no dashboard page at $SENSORD/"
	grep -qi '<html' <<<"$page" || fail "$SENSORD/ is not an HTML page: ${page:0:200}"
	dash=$(curl -sf --max-time 10 "$SENSORD/api/dashboard") || fail "no $SENSORD/api/dashboard"
	jq -e '.history == true and (.panels | length) > 0' <<<"$dash" >/dev/null || fail "/api/dashboard: ${dash:0:300}"
	jq -e '[.warnings[] | select(test("Not running under systemd"))] | length == 1' <<<"$dash" >/dev/null ||
		fail "/api/dashboard does not say that there is no slice without systemd: $(jq -c .warnings <<<"$dash")"
	metrics=$(curl -sf --max-time 10 "$SENSORD/metrics") || fail "no $SENSORD/metrics"
	grep -q '^edge_sensor_temperature_celsius{' <<<"$metrics" || fail "/metrics has no simulated temperature"
	wait_for 60 "Prometheus to scrape edge-sensord" target_up edge-sensord
	[ "$(prom_query 'up{job="edge-sensord"}')" = 1 ] || fail "Prometheus: up{job=\"edge-sensord\"} is not 1"
	for p in $(root_pids); do names+=" $(cat "/proc/$p/comm")"; done
	for p in edge-sensord prometheus; do
		case "$names " in *" $p "*) ;; *) fail "$p is not running in the root (there:$names)" ;; esac
	done
	names=${names# }
	detail "in_root=${names// /,}"
}

# Ctrl-C: SIGINT to make run's process group, as a terminal sends it; every process make run
# started in the root must be gone, and the ports free.
check_ctrl_c() {
	requires check_make_run
	local pid t0=$SECONDS
	pid=$(run_pid)
	kill -INT -- "-$pid" || fail "make run's process group $pid is gone already"
	wait_exit "$pid" 60 || fail "make run still runs 60 s after Ctrl-C"
	poll 30 test -z "$(root_pids)" || fail "left running in the root after Ctrl-C: $(root_pids | xargs -r ps -o pid=,args= -p)"
	! port_answers "$SENSORD_PORT" || fail "port $SENSORD_PORT still answers after Ctrl-C"
	! port_answers "$PROM_PORT" || fail "port $PROM_PORT still answers after Ctrl-C"
	grep -q '^run: stopping' "$RUN_LOG" || fail "scripts/run.sh did not say it was stopping"
	detail "stopped_in=$((SECONDS - t0))s"
}
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# prepare_root: the suite's root from the cache, the host's DNS and CAs, the tree in /src, and
# the Go caches of a root that ran before.
prepare_root() {
	local tarball rev prev
	tarball=$(rootfs_tarball bare "$SUITE" make) || die "no $SUITE root"
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xpf "$tarball"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	# A throwaway system: skip dpkg's fsync()s, which dominate install time (as in test/e2e).
	echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/bare-unsafe-io"
	if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
		mkdir -p "$ROOT/usr/local/share/ca-certificates"
		cp /etc/ssl/certs/ca-certificates.crt "$ROOT/usr/local/share/ca-certificates/host-trust.crt"
	fi
	# The tree as it is checked out, uncommitted edits of tracked files included.
	mkdir -p "$ROOT/src"
	rev=$(git -C "$REPO" stash create) || true
	git -C "$REPO" archive "${rev:-HEAD}" | tar -C "$ROOT/src" -xf -
	prev=$(cat "$WORK/previous-root" 2>/dev/null) || return 0
	if [ -d "$prev/root/.cache/go-build" ] && [ -d "$prev/root/go/pkg/mod" ]; then
		mkdir -p "$ROOT/root/.cache" "$ROOT/root/go/pkg"
		mv "$prev/root/.cache/go-build" "$ROOT/root/.cache/"
		mv "$prev/root/go/pkg/mod" "$ROOT/root/go/pkg/"
		log "$SUITE root starts with the Go module and build caches of ${prev##*/}'s make run"
	fi
	rm -rf "$prev"
}

plan_check check_go_forged_zip "scripts/go.sh refuses a toolchain zip the checksum database does not record"
run_checks

for s in "${SUITES[@]}"; do
	use_root "$s"
	t0=$SECONDS
	log "$SUITE root in $ROOT; ports $SENSORD_PORT (edge-sensord) and $PROM_PORT (Prometheus)"
	prepare_root
	log "root ready in $((SECONDS - t0))s"
	CHECK_PLAN=() RESULT=()
	plan_check check_bare_root "a bare Debian $SUITE root: make, no go, no prometheus, no curl"
	plan_check check_make_run "$SUITE: make run installs what it needs (Go included) and says it runs"
	plan_check check_stack "$SUITE: the dashboard, /api/dashboard, /metrics from its daemon; Prometheus scrapes it"
	plan_check check_ctrl_c "$SUITE: Ctrl-C stops make run and everything it started"
	run_checks
	echo "$ROOT" >"$WORK/previous-root"
	log "$SUITE done in $((SECONDS - t0))s"
done
summary
