#!/usr/bin/env bash
# The default stack against Netdata, each with its own dashboard open, in one
# booted container (real systemd as PID 1 in systemd-nspawn), one after the
# other in the same run, measured the same way:
#   1. the amd64 .deb as shipped (edge-sensord with --sensors.simulate, Prometheus,
#      in edge-observability.slice, local alerting off) for PEERS_SOAK seconds, the
#      built-in dashboard open in headless Chromium;
#   2. the same with local alerting on (`edgectl alerts enable` to a webhook and an
#      SMTP server in the container): Debian's prometheus-alertmanager joins the slice;
#   3. Debian's netdata (--no-install-recommends, its default config, not enabled
#      at boot, its own unit started by hand) for as long, its dashboard open.
# Each side starts with a cold page cache (its units stopped, the host's caches
# dropped, its units started), as after a device's boot: each unit is then
# charged for the pages of its executable that it reads, not the installer.
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

# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
# shellcheck source=test/lib/guest-stack.sh
. "$REPO/test/lib/guest-stack.sh"

SOAK=${PEERS_SOAK:-600}
SAMPLE=${PEERS_SAMPLE:-30}
DASHBOARD=http://127.0.0.1:8000/
NETDATA=http://127.0.0.1:19999/
export GEXEC_TIMEOUT=$((SOAK + 300))
GUEST_FETCH="netdata prometheus-alertmanager python3-aiosmtpd" # fetched before boot, installed below
STACK_JOURNAL=""    # the whole journal

need_tools curl:curl jq:jq chromium:chromium
stack_up peers "${PEERS_DEB:-}"
note "soak ${SOAK}s per side"
gput "$BT" /usr/local/bin/benchtool
gexec chmod 0755 /usr/local/bin/benchtool
def=$ROOT/etc/default/edge-sensord
# Netdata is installed but not started: invoke-rc.d asks policy-rc.d, and
# the unit is disabled so that only the start below runs it.
gexec sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d &&
	apt-get install -y -q --no-install-recommends netdata prometheus-alertmanager python3-aiosmtpd &&
	systemctl disable netdata.service && rm /usr/sbin/policy-rc.d' \
	>>"$OUT/install.log" 2>&1 || { tail -n 30 "$OUT/install.log" >&2; die "installing netdata and prometheus-alertmanager failed"; }
is_active netdata.service && die "netdata started at install"
wait_for 90 "prometheus ready" prom_ready
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "uptime: $(uptime)"
	echo "package: $(basename "$DEB")"
	echo "commit: $(git -C "$REPO" rev-parse --short HEAD)"
	echo "knobs: PEERS_SOAK=$SOAK PEERS_SAMPLE=$SAMPLE; each side from a cold page cache"
	echo "versions: $(gexec dpkg-query -W -f='${Package} ${Version}, ' prometheus prometheus-alertmanager netdata netdata-core netdata-web netdata-plugins-bash)"
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
	gnet "$BT" browse -url "$url" -duration "$((SOAK + 5))s" -log "$OUT/$name.requests.log" -screenshot "$OUT/$name.png" >"$OUT/$name.browse.kv" 2>"$OUT/$name.browse.err" &
	bpid=$!
	gexec benchtool cgsoak -duration "${SOAK}s" -interval "${SAMPLE}s" -out "/var/tmp/peers/$name" "${groups[@]}" >"$OUT/$name.kv"
	wait "$bpid" || note "$name: browser exited $?: $(tail -n 3 "$OUT/$name.browse.err")"
	cp -r "$ROOT/var/tmp/peers/$name" "$OUT/$name"
	note "$name done, load $(load)"
}

# cold_start UNIT...: the units started with nothing of theirs in the page cache.
cold_start() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	gexec systemctl start "$@"
}

STACK_UNITS=(edge-sensord.service prometheus.service)
gexec systemctl stop "${STACK_UNITS[@]}"
cold_start "${STACK_UNITS[@]}"
wait_for 90 "prometheus ready" prom_ready
side stack "$DASHBOARD" edge-observability.slice "${STACK_UNITS[@]}"
gexec edgectl status >"$OUT/edgectl-status.txt" 2>&1 || true

receivers_up
# shellcheck disable=SC2119 # the shipped timing: no flags
alerts_enable >"$OUT/alerts-enable.log" 2>&1 || die "edgectl alerts enable: $(cat "$OUT/alerts-enable.log")"
STACK_UNITS+=(prometheus-alertmanager.service)
gexec systemctl stop "${STACK_UNITS[@]}"
cold_start "${STACK_UNITS[@]}"
wait_for 90 "prometheus ready" prom_ready
wait_for 60 "alertmanager ready" gnet curl -sf --max-time 2 -o /dev/null http://127.0.0.1:9093/-/ready
side stack-alerts "$DASHBOARD" edge-observability.slice "${STACK_UNITS[@]}"
gexec edgectl status >"$OUT/edgectl-status-alerts.txt" 2>&1 || true
gexec systemctl stop "${STACK_UNITS[@]}"

gexec systemctl set-property --runtime netdata.service MemoryAccounting=yes CPUAccounting=yes
cold_start netdata.service
# Its page stalls on charts that do not exist yet (404) when opened in its first second.
wait_for 60 "netdata serving its charts" gnet curl -sf --max-time 2 -o /dev/null "${NETDATA}api/v1/data?chart=system.cpu&points=1"
side netdata "$NETDATA" netdata.service
gexec systemctl stop netdata.service

"$BT" peers-report "$OUT" | tee "$RESULTS/peers.md"
