#!/usr/bin/env bash
# Bytes written to storage by the daemon and by Prometheus at the shipped
# settings (query log in RAM, as prometheus-exec sets it up), next to
# Prometheus with its query log on disk, with Debian's defaults, storing all
# of its own series (the shipped keep list off) and without WAL compression, all
# at once on this host for SDW_DURATION seconds (no
# container: the processes and the filesystem are the same as on a device;
# journald is measured in the container by life.sh).
# Usage: test/bench/sdwrites.sh   (or test/bench/run.sh sdwrites)
# Knobs: SDW_DURATION=2100 SDW_SAMPLE=30 BENCH_RESULTS=dir
set -euo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
cd "$REPO"
RESULTS=${BENCH_RESULTS:-$REPO/test/bench/results}
OUT=$RESULTS/sdwrites
DURATION=${SDW_DURATION:-2100}
SAMPLE=${SDW_SAMPLE:-30}
rm -rf "$OUT" && mkdir -p "$OUT"
[ -x bin/edge-sensord ] || make -s build
BT=$OUT/benchtool
go build -o "$BT" ./test/bench/benchtool
# Not under /tmp: that may be a tmpfs, which writes nothing to a disk.
TMP=$(mktemp -d /var/tmp/edge-sdw.XXXXXX)
RAM=$(mktemp -d /dev/shm/edge-sdw.XXXXXX)
cleanup() {
	stop_bg
	rm -rf "$TMP" "$RAM"
}
trap cleanup EXIT

sp=$(free_port)
bin/edge-sensord --sensors.simulate --path.sysfs=test/fixtures/sysfs --path.cgroupfs=test/fixtures/cgroup/v2 \
	--web.listen-address=127.0.0.1:"$sp" >"$OUT/sensord.log" 2>&1 &
BG_PIDS+=($!)
declare -A PID
PID[sensord]=$!

# config NAME PORT [unfiltered]: the shipped prometheus.yml and rules, pointed at this host's ports.
config() {
	mkdir -p "$TMP/$1/data"
	cp etc/prometheus/rules/edge-observability.yml "$TMP/$1/rules.yml"
	sed -e "s|/etc/edge-observability/rules/\*.yml|$TMP/$1/rules.yml|" -e "s|127.0.0.1:8000|127.0.0.1:$sp|" \
		-e "s|127.0.0.1:9090|127.0.0.1:$2|" etc/prometheus/prometheus.yml >"$TMP/$1/prometheus.yml"
	if [ "${3:-}" = unfiltered ]; then
		keep_all <"$TMP/$1/prometheus.yml" >"$TMP/$1/p.yml" && mv "$TMP/$1/p.yml" "$TMP/$1/prometheus.yml"
	fi
}
prom() { # NAME ENV FLAGS...
	local name=$1 env=$2 port
	shift 2
	port=$(free_port)
	config "$name" "$port" "$([ "$name" = unfiltered ] && echo unfiltered)"
	env $env /usr/bin/prometheus --config.file="$TMP/$name/prometheus.yml" --storage.tsdb.path="$TMP/$name/data" \
		--web.listen-address=127.0.0.1:"$port" "$@" >"$OUT/$name.log" 2>&1 &
	BG_PIDS+=($!)
	PID[$name]=$!
	echo "$name 127.0.0.1:$port pid $! env '$env' flags $*" >>"$OUT/env.txt"
}
SHIPPED=(--storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB --query.max-concurrency=2 --query.max-samples=50000 --query.timeout=15s --web.max-connections=64)
# As prometheus-exec does: the query log in RAM.
mkdir -p "$TMP/shipped/data"
ln -s "$RAM/queries.active" "$TMP/shipped/data/queries.active"
prom shipped "GOMEMLIMIT=56MiB GOGC=50" "${SHIPPED[@]}"
prom disklog "GOMEMLIMIT=56MiB GOGC=50" "${SHIPPED[@]}"
prom default "X=1"
prom unfiltered "GOMEMLIMIT=56MiB GOGC=50" "${SHIPPED[@]}"
prom nowalcompr "GOMEMLIMIT=56MiB GOGC=50" "${SHIPPED[@]}" --no-storage.tsdb.wal-compression
{
	echo "date: $(date -u '+%F %T') UTC; duration ${DURATION}s; load $(load)"
	echo "machine: $(nproc) CPUs, kernel $(uname -r), $(df -hT /var/tmp | awk 'NR==2{print $2, $1}'), prometheus $(dpkg-query -W -f='${Version}' prometheus)"
} >>"$OUT/env.txt"

procs=()
for n in "${!PID[@]}"; do procs+=("$n=${PID[$n]}"); done
"$BT" iosample -every "${SAMPLE}s" -for "${DURATION}s" "${procs[@]}" >"$OUT/io.csv" &
BG_PIDS+=($!)
: >"$OUT/files.txt"
t0=$(date +%s)
while [ $(($(date +%s) - t0)) -le "$DURATION" ]; do
	(cd "$TMP" && find . -path '*/data/*' -type f -printf "$(date +%s) %p %s\n") >>"$OUT/files.txt"
	sleep "$SAMPLE"
done
wait "${BG_PIDS[-1]}"
for n in shipped disklog default unfiltered nowalcompr; do
	port=$(awk -v n="$n" '$1 == n { print $2 }' "$OUT/env.txt")
	echo "$n: $(curl -s "http://$port/metrics" | grep -E '^(prometheus_tsdb_head_samples_appended_total|prometheus_tsdb_head_series|prometheus_tsdb_wal_page_flushes_total|prometheus_tsdb_wal_completed_pages_total|prometheus_tsdb_compactions_total) ' | tr '\n' ' ')"
	echo "$n flags: $(curl -s "http://$port/api/v1/status/flags" | jq -c '.data | with_entries(select(.key | test("wal-compression|retention|block")))')"
done >"$OUT/end-metrics.txt"
# Per process: bytes per hour (write_bytes - cancelled_write_bytes, and wchar) over the run; per
# instance and kind of TSDB file: the bytes that appeared (largest size each file reached,
# deleted files count).
"$BT" sdwrites-report "$OUT" | tee "$OUT/summary.txt"
