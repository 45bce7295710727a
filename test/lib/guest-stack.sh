# shellcheck shell=bash
# The installed stack in a booted guest, for the benches that measure it there
# (test/bench/container.sh, test/bench/life.sh, test/bench/peers.sh). Sourced after
# harness.sh; brings the guest backend of STACK_GUEST: nspawn (the container,
# default) or vm (the Debian 13 VM of test/lib/qemu.sh, cgroup v2, a clock of its own).
# Callers add the PIDs of their own background work to BG_PIDS (stopped on exit).
STACK_GUEST=${STACK_GUEST:-nspawn}
# shellcheck source=test/lib/rootfs.sh
. "$REPO/test/lib/rootfs.sh"
case $STACK_GUEST in
nspawn)
	# shellcheck source=test/lib/nspawn.sh
	. "$REPO/test/lib/nspawn.sh"
	;;
vm)
	# shellcheck source=test/lib/qemu.sh
	. "$REPO/test/lib/qemu.sh"
	;;
*) die "STACK_GUEST=$STACK_GUEST: nspawn or vm" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root (guests, cgroups)"
RESULTS=${BENCH_RESULTS:-$REPO/test/bench/results}
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
# As test/e2e/run.sh: one rootfs cache (prepare_rootfs keeps only the newest key).
EXTRA_PKGS="prometheus man-db"
# shellcheck disable=SC2034 # for the benches
DATA=/var/lib/prometheus/metrics2 # Prometheus's data dir in the container
SLICE=edge-observability.slice

# stack_up NAME [DEB]: a fresh OUT=$RESULTS/NAME (log.txt: the notes), a work dir edge-NAME,
# and the guest booted with DEB (default: the newest dist/*_amd64.deb) installed and
# edge-sensord simulating its sensors; benchtool built as $BT. Sets OUT, MACHINE, DEB, WORK,
# ROOT, LEADER and BT; stack_down runs on exit.
# shellcheck disable=SC2034 # ROOT and LOG_FILE are read by nspawn.sh and harness.sh, BT by the benches
stack_up() {
	OUT=$RESULTS/$1
	MACHINE=edge$1$$
	DEB=$(amd64_deb "${2:-}")
	make_workdir "edge-$1"
	ROOT=$WORK/rootfs
	echo "$MACHINE" >"$WORK/machine"
	echo "$STACK_GUEST" >"$WORK/guest"
	mkdir -p "$OUT"
	rm -rf "${OUT:?}"/*
	LOG_FILE=$OUT/log.txt
	LEADER=""
	trap stack_down EXIT
	trap 'exit 130' INT TERM
	BT=$WORK/benchtool
	(cd "$REPO" && go build -o "$BT" ./test/bench/benchtool) || die "building benchtool failed"
	note "machine $MACHINE, work dir $WORK, package ${DEB##*/}, load $(load)"
	guest_prepare "$DEB"
	guest_boot
	cg_detect
	gexec mkdir -p /debs
	gput "$DEB" "/debs/${DEB##*/}"
	gexec apt-get install -y -q --no-install-recommends "/debs/${DEB##*/}" >"$OUT/install.log" 2>&1 ||
		{
			tail -n 30 "$OUT/install.log" >&2
			die "installing the package failed"
		}
	simulate_sensors
}

# stack_down (on exit): the background work stopped, the journal saved in $OUT (the
# journalctl options in STACK_JOURNAL, default the stack's units), the guest stopped
# and the work dir removed.
stack_down() {
	local rc=$?
	set +e
	stop_bg
	if guest_up; then
		# shellcheck disable=SC2086 # the units' -u options
		gexec journalctl --no-pager -o short-precise ${STACK_JOURNAL--u edge-sensord.service -u prometheus.service} >"$OUT/journal.log" 2>&1
	fi
	guest_stop
	rm -rf "$WORK"
	log "$STACK_GUEST guest stopped, $WORK removed (exit $rc)"
	return $rc
}

# restart_prometheus: after a change of its unit or configuration; waits until it is ready
# and job edge-sensord is up.
restart_prometheus() {
	gexec systemctl daemon-reload
	gexec systemctl restart prometheus.service
	wait_for 90 "prometheus ready" prom_ready
	wait_for 30 "target edge-sensord up" target_up edge-sensord
}
