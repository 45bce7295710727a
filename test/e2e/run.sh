#!/usr/bin/env bash
# End-to-end test of the .deb on a real systemd: install, slice
# membership and limits, scraping, memory budget and edgectl, watchdog,
# memory cap, reload, upgrade/remove/purge.
#
# Usage: test/e2e/run.sh [GUEST]     (after `make package`)
#   nspawn      systemd-nspawn on this host, cgroup v1 (hybrid host): the
#               fast check (`make e2e`)
#   vm          Debian 13 (systemd 257, cgroup v2 only) in qemu, TCG; adds
#               MemoryHigh= throttling and the OOM alert (`make e2e-vm`)
#   vm-nomemcg  the same VM booted with cgroup_disable=memory, as Raspberry Pi
#               kernels are: the limits are dropped, and the stack must say so
#               (`make e2e-vm-nomemcg`)
#   vm-apt      the VM installs the package from a signed apt repository
#               (scripts/apt-repo.sh) and upgrades from it (`make e2e-vm-apt`)
#   vm-arm64    Debian 13 arm64 in qemu-system-aarch64 (TCG): the arm64 .deb
#               installs with apt, the units run and are scraped (`make e2e-vm-arm64`)
#        test/e2e/run.sh stop WORKDIR    stop a guest left by KEEP=1 and remove it
# Env:   E2E_DEB=path.deb           package under test (default: newest dist/*_<guest arch>.deb)
#        E2E_SCRAPES=300            scrapes that must all succeed
#        E2E_SCRAPE_INTERVAL=1s     scrape interval (= timeout) of job edge-sensord set for it
#                                   (whole seconds or NNNms below 1s; 2s in the VMs)
#        E2E_CACHE_DIR=...          rootfs / VM image cache (default /var/cache/edge-observability-e2e)
#        E2E_CHECKS=check_a,...     run only those checks of the guest's plan (with those they require)
#        KEEP=1                     leave the guest running and the work dir in place
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/lib/harness.sh
. "$HERE/../lib/harness.sh"
# shellcheck source=test/lib/rootfs.sh
. "$REPO/test/lib/rootfs.sh"

[ "$(id -u)" = 0 ] || die "must run as root (systemd-nspawn, cgroups, debootstrap)"

load_backend() { # GUEST
	case $1 in
	nspawn) backend=nspawn ;;
	vm | vm-nomemcg | vm-apt) backend=qemu ;;
	vm-arm64) backend=qemu VM_ARCH=arm64 ;;
	*) die "unknown guest '$1' (nspawn, vm, vm-nomemcg, vm-apt, vm-arm64)" ;;
	esac
	# shellcheck source=/dev/null
	. "$REPO/test/lib/$backend.sh"
}

# `run.sh stop WORKDIR` stops a guest left by KEEP=1 and removes it.
if [ "${1:-}" = stop ]; then
	WORK=$(readlink -f "${2:?usage: run.sh stop WORKDIR}")
	[ -f "$WORK/guest" ] || die "$WORK is not a work dir of this test"
	MACHINE=$(cat "$WORK/machine")
	load_backend "$(cat "$WORK/guest")"
	guest_stop
	rm -rf "$WORK"
	log "stopped $MACHINE and removed $WORK"
	exit 0
fi

GUEST=${1:-nspawn}
load_backend "$GUEST"
case $GUEST in
vm-nomemcg) VM_APPEND=cgroup_disable=memory ;;
vm-apt) INSTALL_FROM=repo ;;
esac

# The arm64 guest shows the package at work, not the long soak: emulating
# another architecture costs several times more host CPU per guest instruction.
SCRAPES=300
[ "$GUEST" != vm-arm64 ] || SCRAPES=60
SCRAPES=${E2E_SCRAPES:-$SCRAPES}
# Written the way Prometheus prints durations, so the running config can be compared.
# 2s in the VMs: there the emulated CPU makes a poll of the daemon take 0.2-0.4 s
# (0.5 ms in nspawn), its CPUQuota=20% throttles it in a quarter of the periods,
# and scrapes that meet both took just over 1 s.
INTERVAL=1s
[ "$GUEST" = nspawn ] || INTERVAL=2s
INTERVAL=${E2E_SCRAPE_INTERVAL:-$INTERVAL}
case $INTERVAL in
[1-9][0-9][0-9]ms | [1-9][0-9]ms) INTERVAL_MS=${INTERVAL%ms} ;;
[1-9]s | [1-9][0-9]s) INTERVAL_MS=$((${INTERVAL%s} * 1000)) ;;
*) die "E2E_SCRAPE_INTERVAL=$INTERVAL: use whole seconds (1s) or 10ms..999ms" ;;
esac
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
EXTRA_PKGS="prometheus man-db"
MACHINE=edgee2e$$
SENSORD=http://127.0.0.1:8000
SLICE=edge-observability.slice
BUDGET=$((150 * 1024 * 1024)) # the stack's memory budget (common layout)

need_tools curl:curl jq:jq

# ------------------------------------------------------------ package to test
if [ -n "${E2E_DEB:-}" ]; then
	DEB=$(readlink -f "$E2E_DEB")
else
	DEB=$(ls -t "$REPO"/dist/edge-observability_*_"${VM_ARCH:-amd64}".deb 2>/dev/null | head -n1 || true)
fi
{ [ -n "$DEB" ] && [ -f "$DEB" ]; } || die "no dist/edge-observability_*_${VM_ARCH:-amd64}.deb: run 'make package' first (or set E2E_DEB)"
OLD_VERSION=$(dpkg-deb -f "$DEB" Version)
# The upgrade is built from the same tree with a higher upstream version
# (the packager appends its own Debian revision).
NEW_UPSTREAM=${OLD_VERSION%-*}+e2e1
log "package under test: $DEB ($OLD_VERSION), guest: $GUEST"

# ------------------------------------------------------------------ work dir
make_workdir edge-e2e
ROOT=$WORK/rootfs
echo "$MACHINE" >"$WORK/machine"
echo "$GUEST" >"$WORK/guest"

cleanup() {
	local rc=$?
	set +e
	end_checks "$rc"
	rc=$?
	stop_bg
	# The gpg-agent of the repository's signing key (check_install with INSTALL_FROM=repo).
	[ ! -d "$WORK/gnupg" ] || GNUPGHOME=$WORK/gnupg gpgconf --kill all
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: guest $MACHINE ($GUEST) left running in $WORK"
		log "        stop and remove it with: $0 stop $WORK"
		return $rc
	fi
	guest_stop
	rm -rf "$WORK"
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dump_diagnostics() {
	{
		echo "=============== diagnostics ($(date +%T)) ==============="
		gexec systemctl --no-pager --full status "$SLICE" edge-sensord.service prometheus.service prometheus-alertmanager.service 2>&1 | head -n 160
		echo "--- systemctl --failed"
		gexec systemctl --no-pager --failed 2>&1
		echo "--- journal (edge-sensord, prometheus, alertmanager, memhog)"
		gexec journalctl --no-pager -o short-precise -n 150 -u edge-sensord.service -u prometheus.service -u prometheus-alertmanager.service -u 'memhog*' 2>&1
		echo "--- guest console (tail)"
		guest_console 60
		echo "==========================================================="
	} >&2 || true
}

# The checks, one file per concern.
for f in "$HERE"/checks/*.sh; do
	# shellcheck source=/dev/null
	. "$f"
done

start_upgrade_build() {
	# Built while the first checks run; scripts/package.sh honours VERSION, PACKAGE_ARCHES and DIST_DIR.
	(
		cd "$REPO"
		VERSION=$NEW_UPSTREAM PACKAGE_ARCHES=amd64 DIST_DIR=$WORK/dist-upgrade scripts/package.sh
	) >"$WORK/logs/package-upgrade.log" 2>&1 &
	BG_PIDS+=($!)
	echo $! >"$WORK/upgrade-build.pid"
}

# The checks every guest runs, after the guest's own ones.
plan_stack_checks() {
	plan_check check_install "apt-get install of the package pulls in prometheus"
	plan_check check_units "units active in $SLICE with their limits and STATUS"
	plan_check check_scrapes "$SCRAPES scrapes of edge-sensord, none failed"
	plan_check check_budget "memory under budget, edgectl agrees with the cgroups"
	plan_check check_dashboard "the dashboard page, its assets and panel data through edge-sensord's proxy"
	plan_check check_clock "edge_clock_synchronized agrees with timedated; the dashboard warns when 0"
	plan_check check_host "host metrics from the host's mount table under the hardened unit"
	plan_check check_watchdog "watchdog restarts a stopped daemon"
	plan_check check_memcap "the slice's memory cap kills a hog, the stack survives"
}

case $GUEST in
nspawn)
	plan_stack_checks
	plan_check check_reload "systemctl reload (SIGHUP) of both services"
	plan_check check_upgrade "upgrade keeps conffiles and data"
	plan_check check_remove "remove stops the units and takes the drop-ins"
	plan_check check_purge "purge removes the configuration"
	;;
vm)
	plan_check check_guest_v2 "Debian 13 guest: systemd 257, cgroup v2 only"
	plan_stack_checks
	plan_check check_device_faults "a full filesystem, a chip over its limit and under-voltage fire their alerts and show on the page"
	plan_check check_oom_alert "the OOM kill is counted and EdgeUnitOOMKilled fires"
	plan_check check_memhigh "a unit past its MemoryHigh= is throttled, not killed"
	plan_check check_alerts "alerts enable: Alertmanager in the slice on loopback; a fault reaches a webhook and a mailbox, and its end"
	plan_check check_reload "systemctl reload (SIGHUP) of both services"
	plan_check check_clock_steps "the clock stepped back and forward: monotonic polls, Prometheus's rejections, the warning follows NTP"
	plan_check check_upgrade "upgrade keeps conffiles and data"
	plan_check check_remove "remove stops the units and takes the drop-ins"
	plan_check check_purge "purge removes the configuration"
	;;
vm-nomemcg)
	plan_check check_guest_nomemcg "guest booted with cgroup_disable=memory: no memory controller"
	plan_check check_install "apt-get install of the package pulls in prometheus"
	plan_check check_limits_dropped "systemd drops MemoryMax= silently: a hog outgrows the budget"
	plan_check check_memcg_warnings "the stack says the memory budget is not enforced"
	;;
vm-apt)
	plan_check check_guest_v2 "Debian 13 guest: systemd 257, cgroup v2 only"
	plan_check check_install "apt-get install from the signed repository pulls in prometheus"
	plan_check check_units "units active in $SLICE with their limits and STATUS"
	plan_check check_repo_upgrade "apt-get upgrade from the same repository keeps the edits"
	;;
vm-arm64)
	plan_check check_guest_arm64 "Debian 13 arm64 guest: aarch64 kernel, systemd 257, cgroup v2 only"
	plan_check check_install "apt-get install of the arm64 package pulls in prometheus"
	plan_check check_units "units active in $SLICE with their limits and STATUS"
	plan_check check_scrapes "$SCRAPES scrapes of edge-sensord, none failed"
	plan_check check_budget "memory under budget, edgectl agrees with the cgroups"
	;;
esac

main() {
	local t0=$SECONDS
	log "work dir $WORK, machine $MACHINE"
	guest_prepare "$DEB"
	GOARCH=${VM_ARCH:-amd64} CGO_ENABLED=0 go build -trimpath -o "$WORK/memhog" "$HERE/memhog" || die "building memhog failed"
	# benchtool reads /metrics for the checks (samples) and, in the VM, marks its clock
	# synchronised (timex-sync, check_clock_steps).
	BT=$WORK/benchtool
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$BT" ./test/bench/benchtool) || die "building benchtool failed"
	log "prepared in $((SECONDS - t0))s"
	guest_boot
	cg_detect
	gexec mkdir -p /debs
	gput "$DEB" "/debs/${DEB##*/}"
	gput "$WORK/memhog" /opt/memhog
	gexec chmod 0755 /opt/memhog
	if [ "$GUEST" = vm ]; then
		gput "$WORK/benchtool" /opt/benchtool
		gexec chmod 0755 /opt/benchtool
	fi
	case $GUEST in nspawn | vm | vm-apt) start_upgrade_build ;; esac
	run_checks
	log "all checks done in $((SECONDS - t0))s"
}

main
summary
