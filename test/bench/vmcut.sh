#!/usr/bin/env bash
# Power cuts of a whole machine: the qemu VM of the e2e test (Debian 13, its
# own kernel and systemd, cgroup v2) with the .deb installed, killed with
# SIGKILL VMCUT_CUTS times in a row at random moments (every scrape writes the
# WAL) and, every third cut, as soon as Prometheus starts a compaction. The
# guest's page cache is lost as in a power cut; what qemu already wrote to the
# disk image survives, and writes the guest had not flushed may be lost, as
# from a disk's volatile write cache (virtio-blk, cache=writeback).
# After each cut the VM boots on the same disk: the stack must come up by
# itself; promtool checks the TSDB as the cut left it (copied by a unit that
# runs before Prometheus); config and password files must be unchanged.
# Usage: test/bench/vmcut.sh   (or test/bench/run.sh vmcut); needs root.
# Knobs: VMCUT_CUTS=20 VMCUT_DEB=path.deb VM_NICE=10 BENCH_RESULTS=dir
# Scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck disable=SC2034 # harness.sh's log prefix
HARNESS=vmcut
for f in harness rootfs qemu; do
	# shellcheck source=/dev/null
	. "$REPO/test/lib/$f.sh"
done
[ "$(id -u)" = 0 ] || die "must run as root (qemu image build, debootstrap)"

CUTS=${VMCUT_CUTS:-20}
OUT=${BENCH_RESULTS:-$REPO/test/bench/results}/vmcut
# shellcheck disable=SC2034 # qemu.sh's image cache, shared with the e2e test
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
MACHINE=edgevmcut$$
# Below the e2e's VM (nice -10), which may run at the same time.
VM_NICE=${VM_NICE:-10}
DATA=/var/lib/prometheus/metrics2
COPY=/var/tmp/cut-copy

DEB=$(amd64_deb "${VMCUT_DEB:-}")
make_workdir edge-vmcut
echo vm >"$WORK/guest"
echo "$MACHINE" >"$WORK/machine"
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
# shellcheck disable=SC2034 # read by harness.sh's log
LOG_FILE=$OUT/log.txt # note's lines, kept with the results
trap 'guest_stop; rm -rf "$WORK"' EXIT

guest_prepare "$DEB"
guest_boot
gexec mkdir -p /debs
gput "$DEB" "/debs/${DEB##*/}"
GEXEC_TIMEOUT=1200 gexec apt-get install -y --no-install-recommends "/debs/${DEB##*/}" >"$OUT/install.log" 2>&1 ||
	die "apt-get install failed ($OUT/install.log)"
# Compressed time, as test/bench/life.sh: blocks of a minute merged up to three, the
# daemon scraped every second. A copy of the TSDB is taken at boot before Prometheus opens it.
gexec sh -ec '
	f=/etc/edge-observability/prometheus.yml
	awk "$3" "$f" >"$f.new" && cat "$f.new" >"$f" && rm "$f.new"
	mkdir -p /etc/systemd/system/prometheus.service.d
	printf "[Service]\nExecStart=\nExecStart=/usr/bin/edgectl prometheus-exec -- --storage.tsdb.min-block-duration=1m --storage.tsdb.max-block-duration=3m\n" \
		>/etc/systemd/system/prometheus.service.d/zz-vmcut.conf
	printf "[Unit]\nBefore=prometheus.service\nRequiresMountsFor=%s\n[Service]\nType=oneshot\nExecStart=/bin/sh -c \"rm -rf %s && cp -a %s %s\"\n[Install]\nWantedBy=multi-user.target\n" \
		"$1" "$2" "$1" "$2" >/etc/systemd/system/vmcut-copy.service
	systemctl daemon-reload
	systemctl enable -q vmcut-copy.service
	systemctl restart prometheus.service' sh "$DATA" "$COPY" \
	'{ print } /^  - job_name: edge-sensord$/ { print "    scrape_interval: 1s"; print "    scrape_timeout: 1s" }'
poll 120 prom_ready || die "prometheus not ready after the set-up"
since=$(gexec date +%s.%N)
SUMS='sha256sum /etc/edge-observability/prometheus.yml /etc/edge-observability/grafana-admin-password /etc/default/edge-sensord /etc/default/edge-observability /etc/edge-sensord/config.yml /etc/edge-observability/rules/*.yml'
gexec sh -c "$SUMS" >"$WORK/sums.ref"
{
	echo "host: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); qemu at nice $(ps -o ni= -p "$(cat "$WORK/qemu.pid")")"
	echo "guest: $(gexec uname -r), $(gexec systemctl --version | head -n1), $(gexec prometheus --version 2>&1 | head -n1)"
	echo "package: ${DEB##*/}"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

# first_sample SINCE: time of the first sample of the 1 s job after SINCE (guest clock).
first_sample() {
	gnet curl -sf "$PROM/api/v1/query" --data-urlencode 'query=up{job="edge-sensord"}[10m]' |
		jq -r --argjson s "$1" '[.data.result[0].values[] | .[0] | select(. > $s)] | min // ""' || true
}

# power_cut MODE DELAY: SIGKILL to qemu; prints the guest's time just before it.
power_cut() {
	local pid t
	pid=$(cat "$WORK/qemu.pid")
	if [ "$1" = compaction ]; then
		# The guest waits for the temporary directory of a compaction's new block.
		t=$(GEXEC_TIMEOUT=200 gexec sh -c 'end=$(($(date +%s) + 180)); until ls -d "$1"/*.tmp-for-creation >/dev/null 2>&1 || [ $(date +%s) -gt $end ]; do sleep 0.02; done; date +%s.%N' sh "$DATA")
	else
		sleep "$2"
		t=$(gexec date +%s.%N)
	fi
	kill -KILL "$pid"
	wait_exit "$pid" 10 || die "qemu $pid still running after SIGKILL"
	local SSH_ARGS
	vm_ssh_args
	ssh "${SSH_ARGS[@]}" -O exit >/dev/null 2>&1 || true
	rm -f "$WORK/ssh.ctl" "$WORK/ssh-port" "$WORK/qemu.pid"
	echo "$t"
}

# lost_s: seconds of samples Prometheus had taken before the cut and no longer has after the
# boot (from the later of the last sample kept and the first one taken since the last boot).
echo "cut,mode,delay_s,cut_time,last_sample,lost_s,boot_to_ready_s,tsdb_list,tsdb_analyze,files,replay,restarts,edgectl,mid_compaction,units,first_sample" >"$OUT/powercut.csv"
poll 120 target_up edge-sensord >/dev/null || true
sleep 2
first=$(first_sample "$since")
for i in $(seq "$CUTS"); do
	mode=random
	[ $((i % 3)) = 0 ] && mode=compaction
	wait_s=$((RANDOM % 25 + 5))
	[ $mode = compaction ] && wait_s=0
	tcut=$(power_cut $mode "$wait_s")
	tb=$SECONDS
	guest_boot >>"$OUT/boot.log" 2>&1
	if ! poll 600 prom_ready; then
		gexec journalctl -b -u prometheus.service -o cat --no-pager >"$OUT/cut-$i-journal.log" 2>&1 || true
		die "Prometheus not ready 600 s after boot $i (journal: $OUT/cut-$i-journal.log)"
	fi
	t_up=$((SECONDS - tb))
	list=ok analyze=ok files=ok
	gexec promtool tsdb list "$COPY" >"$OUT/cut-$i-list.txt" 2>&1 || list=FAIL
	GEXEC_TIMEOUT=600 gexec promtool tsdb analyze "$COPY" >"$OUT/cut-$i-analyze.txt" 2>&1 || analyze=FAIL
	gexec ls -la "$COPY" "$COPY/wal" >>"$OUT/cut-$i-list.txt" 2>&1 || true
	midc=$(gexec sh -c 'ls -d "$1"/*.tmp-for-creation 2>/dev/null | wc -l' sh "$COPY")
	gexec sh -c "$SUMS" | cmp -s - "$WORK/sums.ref" || files=CHANGED
	poll 120 target_up edge-sensord >/dev/null || true
	# The last sample of the 1 s job stored before the cut (guest clock on both sides).
	tlast=$(gnet curl -sf "$PROM/api/v1/query" --data-urlencode 'query=up{job="edge-sensord"}[5m]' --data-urlencode "time=${tcut%.*}" |
		jq -r '[.data.result[0].values[] | .[0]] | max // ""' || true)
	lost=$(awk -v a="$tcut" -v b="$tlast" -v f="$first" 'BEGIN{ if (f == "") print "unknown"; else printf "%.1f", a - (b > f ? b : f) }')
	replay=$(gexec journalctl -b -u prometheus.service -o cat --no-pager | grep -cE 'WAL replay completed|Replaying WAL' || true)
	restarts=$(gexec systemctl show -p NRestarts --value prometheus.service)
	units=$(gexec systemctl is-active edge-sensord.service prometheus.service | tr '\n' '/')
	st=0
	gexec edgectl status --window 1m >"$OUT/cut-$i-edgectl.txt" 2>&1 || st=$?
	gexec journalctl -b -u prometheus.service -o cat --no-pager >"$OUT/cut-$i-journal.log" 2>&1 || true
	echo "$i,$mode,$wait_s,$tcut,$tlast,$lost,$t_up,$list,$analyze,$files,$replay,$restarts,$st,$midc,${units%/},$first" | tee -a "$OUT/powercut.csv" >&2
	sleep 2
	first=$(first_sample "$tcut")
done
go run "$REPO/test/bench/benchtool" cuts-report "$OUT" | tee "$OUT/summary.txt"
