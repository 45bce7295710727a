#!/usr/bin/env bash
# The default stack against Netdata, each with its own dashboard open, in one
# booted container (real systemd as PID 1 in systemd-nspawn), one after the
# other in the same run, measured the same way:
#   1. the amd64 .deb as shipped (edge-sensord with --sensors.simulate, Prometheus,
#      in edge-observability.slice) for PEERS_SOAK seconds, the built-in dashboard
#      open in headless Chromium; then the stack is stopped;
#   2. Debian's netdata (--no-install-recommends, its default config, not enabled
#      at boot, its own unit started by hand) for as long, its dashboard open.
# benchtool cgsoak samples each unit's cgroup and every process in it from
# inside the container; benchtool browse runs Chromium on the host in the
# container's network namespace, so neither is in a measured cgroup.
# Usage: test/bench/peers.sh   (or test/bench/run.sh peers); needs root.
# Knobs: PEERS_SOAK=600 (seconds per side), PEERS_SAMPLE=30,
#   PEERS_DEB=path.deb (default: newest dist/*_amd64.deb, built when none),
#   BENCH_RESULTS=dir (instead of test/bench/results).
# dpkg-query's format is single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH:/usr/sbin:/sbin
# shellcheck source=test/bench/container.sh
. "$REPO/test/bench/container.sh"

[ "$(id -u)" = 0 ] || die "must run as root (systemd-nspawn, cgroups)"

SOAK=${PEERS_SOAK:-600}
SAMPLE=${PEERS_SAMPLE:-30}
RESULTS=${BENCH_RESULTS:-$REPO/test/bench/results}
OUT=$RESULTS/peers
CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/edge-observability-e2e}
EXTRA_PKGS="prometheus man-db" # the rootfs cache of test/e2e/run.sh: another key would replace it
MACHINE=edgepeers$$
DASHBOARD=http://127.0.0.1:8000/
NETDATA=http://127.0.0.1:19999/
export GEXEC_TIMEOUT=$((SOAK + 300))

need_tools systemd-nspawn:systemd-container debootstrap:debootstrap curl:curl jq:jq chromium:chromium
DEB=$(amd64_deb "${PEERS_DEB:-}")
nspawn_lock
make_workdir edge-peers
ROOT=$WORK/rootfs
mkdir -p "$WORK/debs" "$OUT"
rm -rf "${OUT:?}"/*
LEADER=""
cleanup() {
	local rc=$?
	set +e
	[ -n "$LEADER" ] && cexec journalctl --no-pager -o short-precise >"$OUT/journal.log" 2>&1
	stop_container
	rm -rf "$WORK"
	log "container stopped, $WORK removed (exit $rc)"
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$REPO" && CGO_ENABLED=0 go build -o "$WORK/benchtool" ./test/bench/benchtool)
note "machine $MACHINE, package $(basename "$DEB"), soak ${SOAK}s per side, load $(load)"
prepare_rootfs
cp "$DEB" "$WORK/debs/"
NSPAWN_ARGS=(--bind-ro="$WORK/debs:/debs")
ns_run sh -c "apt-get install -y -q --no-install-recommends --download-only /debs/$(basename "$DEB") netdata" >"$WORK/download.log" 2>&1 ||
	{ tail -n 20 "$WORK/download.log" >&2; die "downloading the packages failed"; }
cp "$WORK/benchtool" "$ROOT/usr/local/bin/benchtool"
boot

cexec apt-get install -y -q --no-install-recommends /debs/"$(basename "$DEB")" </dev/null >"$OUT/install.log" 2>&1 ||
	{ tail -n 30 "$OUT/install.log" >&2; die "installing the package failed"; }
def=$ROOT/etc/default/edge-sensord
sed -i -E 's/^ARGS="?([^"]*)"?$/ARGS="--sensors.simulate \1"/' "$def"
# Netdata is installed but not started: invoke-rc.d asks policy-rc.d, and
# the unit is disabled so that only the start below runs it.
cexec sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d &&
	apt-get install -y -q --no-install-recommends netdata && systemctl disable netdata.service && rm /usr/sbin/policy-rc.d' \
	</dev/null >>"$OUT/install.log" 2>&1 || { tail -n 30 "$OUT/install.log" >&2; die "installing netdata failed"; }
is_active netdata.service && die "netdata started at install"
cexec systemctl restart edge-sensord.service prometheus.service
wait_until 90 "prometheus ready" prom_ready
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "uptime: $(uptime)"
	echo "package: $(basename "$DEB")"
	echo "commit: $(git -C "$REPO" rev-parse --short HEAD)"
	echo "knobs: PEERS_SOAK=$SOAK PEERS_SAMPLE=$SAMPLE"
	echo "versions: $(cexec dpkg-query -W -f='${Package} ${Version}, ' prometheus netdata netdata-core netdata-web netdata-plugins-bash)"
	echo "chromium: $(chromium --version 2>/dev/null | head -n1)"
	echo "edge-sensord ARGS: $(grep '^ARGS=' "$def")"
	echo "netdata.conf: $(grep -v '^\s*#' "$ROOT/etc/netdata/netdata.conf" | grep . | tr -s '\t\n' '  ')"
} >"$OUT/env.txt"

# side NAME URL UNIT...: soak the units with the page at URL open; NAME.kv and NAME.browse.kv.
side() {
	local name=$1 url=$2 groups=() u bpid
	shift 2
	for u in "$@"; do groups+=("${u%.service}=$(prop "$u" ControlGroup)"); done
	note "$name: ${SOAK}s with $url open, load $(load)"
	cnet "$WORK/benchtool" browse -url "$url" -duration "$((SOAK + 5))s" -log "$OUT/$name.requests.log" -screenshot "$OUT/$name.png" >"$OUT/$name.browse.kv" 2>"$OUT/$name.browse.err" &
	bpid=$!
	cexec benchtool cgsoak -duration "${SOAK}s" -interval "${SAMPLE}s" -out "/var/tmp/peers/$name" "${groups[@]}" </dev/null >"$OUT/$name.kv"
	wait "$bpid" || note "$name: browser exited $?: $(tail -n 3 "$OUT/$name.browse.err")"
	cp -r "$ROOT/var/tmp/peers/$name" "$OUT/$name"
	note "$name done, load $(load)"
}

side stack "$DASHBOARD" edge-observability.slice edge-sensord.service prometheus.service
cexec edgectl status >"$OUT/edgectl-status.txt" 2>&1 || true
cexec systemctl stop edge-sensord.service prometheus.service

cexec systemctl set-property --runtime netdata.service MemoryAccounting=yes CPUAccounting=yes
cexec systemctl start netdata.service
# Its page stalls on charts that do not exist yet (404) when opened in its first second.
wait_until 60 "netdata serving its charts" cnet curl -sf --max-time 2 -o /dev/null "${NETDATA}api/v1/data?chart=system.cpu&points=1"
side netdata "$NETDATA" netdata.service
cexec systemctl stop netdata.service

"$WORK/benchtool" peers-report "$OUT" | tee "$RESULTS/peers.md"
