#!/usr/bin/env bash
# The whole stack in a booted container (real systemd as PID 1 in
# systemd-nspawn, the amd64 .deb installed, edge-sensord with
# --sensors.simulate, job edge-sensord scraped every 1 s):
#   1. memory soak of the units and the slice (cgroup v1 files), then
#      Prometheus with and without the edge tuning of its drop-in;
#   2. scrape success and p99 scrape duration with stress-ng on the host;
#   3. faults: SIGKILL of the daemon, SIGKILL of Prometheus, full disk
#      under Prometheus's data dir (filled by another file, then by the
#      TSDB's own data against the derived retention size).
# Usage: test/bench/container.sh   (or test/bench/run.sh stack); needs root.
# Knobs (seconds unless noted):
#   STACK_SOAK=600       memory soak with the shipped tuning (its last
#                        STACK_STRESS seconds are the no-stress baseline)
#   STACK_UNTUNED=300    Prometheus without GOMEMLIMIT/GOGC/limits/retention
#   STACK_TUNED=300      then again as shipped, for the same time
#   STACK_STRESS=300     scraping under stress-ng --cpu 2 on the host
#   STACK_PARTS="soak daemon-kill stress tuning prometheus-kill disk-full disk-retention"
#                        the parts to run, in this order (stress needs soak for its baseline)
#   STACK_SAMPLE=30      memory sampling period
#   STACK_INTERVAL=1s    scrape interval (= timeout) of job edge-sensord
#   STACK_DISK=64M       tmpfs under /var/lib/prometheus/metrics2 (fault 3b)
#   STACK_RETENTION_DISK=32M  tmpfs filled with backfilled blocks (fault 3c)
#   STACK_DEB=path.deb   package (default: newest dist/*_amd64.deb, built when none)
#   BENCH_RESULTS=dir    instead of test/bench/results
# dpkg-query formats and scripts run in the container are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
# shellcheck source=test/lib/guest-stack.sh
. "$REPO/test/lib/guest-stack.sh"

SOAK=${STACK_SOAK:-600}
UNTUNED=${STACK_UNTUNED:-300}
TUNED=${STACK_TUNED:-300}
STRESS=${STACK_STRESS:-300}
SAMPLE=${STACK_SAMPLE:-30}
INTERVAL=${STACK_INTERVAL:-1s}
DISK=${STACK_DISK:-64M}
RETENTION_DISK=${STACK_RETENTION_DISK:-32M}
PARTS=${STACK_PARTS:-soak daemon-kill stress tuning prometheus-kill disk-full disk-retention}
UNITS=("$SLICE" edge-sensord.service prometheus.service)
POLL_STEP=0.1 # recovery times are read off the polls

need_tools curl:curl jq:jq stress-ng:stress-ng

# ------------------------------------------------------------------ helpers
restarted() { # UNIT OLDPID [ACTIVE]: a new main process (and active when ACTIVE=1)
	local p
	p=$(prop "$1" MainPID)
	[ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$2" ] || return 1
	[ "${3:-0}" = 0 ] || is_active "$1"
}
scraped_ok_since() { # EPOCH: last scrape of edge-sensord began at/after EPOCH and succeeded
	[ "$(gnet curl -sf "$PROM/api/v1/targets?state=active" | jq -r --argjson t "$1" \
		'.data.activeTargets[] | select(.labels.job=="edge-sensord") | select(.health=="up") | (.lastScrape | sub("\\.[0-9]+"; "") | fromdateiso8601) >= ($t | floor)')" = true ]
}
now() { date +%s.%N | cut -c1-14; }
minus() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN{printf f, a - b}'; } # A B [FORMAT]: A - B

# mem_sample PHASE T0: one CSV row per unit from the cgroup v1 memory files.
mem_sample() {
	local t
	t=$(date +%s)
	gexec sh -c 'for u in "$@"; do
		cg=$(systemctl show -p ControlGroup --value "$u")
		d=/sys/fs/cgroup/memory$cg
		[ -r "$d/memory.usage_in_bytes" ] || { echo "$u,,,,,,"; continue; }
		awk -v u="$u" -v usage="$(cat "$d/memory.usage_in_bytes")" -v peak="$(cat "$d/memory.max_usage_in_bytes")" -v fc="$(cat "$d/memory.failcnt")" \
			-v cpu="$(p=$(systemctl show -p MainPID --value "$u"); [ "${p:-0}" != 0 ] && awk '"'"'{print $14 + $15}'"'"' /proc/$p/stat)" \
			'"'"'$1=="total_rss"{r=$2} $1=="total_cache"{c=$2} END{printf "%s,%s,%s,%s,%s,%s,%s\n", u, usage, r, c, peak, fc, cpu}'"'"' "$d/memory.stat"
	done' sh "${UNITS[@]}" | sed "s/^/$1,$t,$((t - $2)),/" >>"$OUT/memory.csv"
	# Prometheus's own view of its memory.
	printf '%s,%s,%s,%s,%s,%s\n' "$1" "$t" "$((t - $2))" \
		"$(prom_try 'process_resident_memory_bytes{job="prometheus"}')" \
		"$(prom_try 'go_memstats_heap_inuse_bytes{job="prometheus"}')" \
		"$(prom_try 'prometheus_tsdb_head_series')" >>"$OUT/prometheus-self.csv"
}
reset_peaks() {
	gexec sh -c 'for u in "$@"; do echo 0 >/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value "$u")/memory.max_usage_in_bytes; done' sh "${UNITS[@]}"
}
# soak PHASE SECONDS: sample every $SAMPLE s for SECONDS.
soak() {
	local phase=$1 dur=$2 t0 next s
	t0=$(date +%s)
	reset_peaks
	note "phase $phase: ${dur}s, load $(load)"
	mem_sample "$phase" "$t0"
	next=$((t0 + SAMPLE))
	while [ $next -le $((t0 + dur)) ]; do
		s=$((next - $(date +%s)))
		[ $s -le 0 ] || sleep $s
		mem_sample "$phase" "$t0"
		next=$((next + SAMPLE))
	done
	note "phase $phase done, load $(load)"
}

# scrape_stats LABEL END SECONDS: scrape figures of job edge-sensord over [END-SECONDS, END].
scrape_stats() {
	local w=${3}s e=$2 n ok p99 p50 mx
	n=$(prom_try "count_over_time(up{job=\"edge-sensord\"}[$w])" "$e")
	ok=$(prom_try "sum_over_time(up{job=\"edge-sensord\"}[$w])" "$e")
	p50=$(prom_try "quantile_over_time(0.5, scrape_duration_seconds{job=\"edge-sensord\"}[$w])" "$e")
	p99=$(prom_try "quantile_over_time(0.99, scrape_duration_seconds{job=\"edge-sensord\"}[$w])" "$e")
	mx=$(prom_try "max_over_time(scrape_duration_seconds{job=\"edge-sensord\"}[$w])" "$e")
	printf '%s window=%s end=%s scrapes=%s ok=%s ratio=%s p50=%s p99=%s max=%s\n' "$1" "$w" "$e" "$n" "$ok" \
		"$(awk -v a="$ok" -v b="$n" 'BEGIN{ if (b > 0) printf "%.5f", a / b; else print "n/a" }')" "$p50" "$p99" "$mx" | tee -a "$OUT/cpu.txt"
}
cpu_stat() { # UNIT -> "nr_periods nr_throttled throttled_ns" of its cpu cgroup
	cg_read "$1" cpu cpu.stat | awk '{v[$1]=$2} END{print v["nr_periods"], v["nr_throttled"], v["throttled_time"]}'
}
cpu_usage() { # UNIT -> CPU seconds of its main process (no cpuacct in the container here)
	gexec sh -c 'awk "{print \$14 + \$15}" /proc/$(systemctl show -p MainPID --value "$1")/stat' sh "$1" |
		awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", $1 / hz}'
}
flags() { gnet curl -sf "$PROM/api/v1/status/flags" | jq -c ".data | {$1}"; } # "KEY", ...: Prometheus's flags

# data_on_tmpfs SIZE: Prometheus stopped, its data dir on a fresh tmpfs of SIZE.
data_on_tmpfs() {
	gexec systemctl stop prometheus.service
	gexec mount -t tmpfs -o "size=$1,mode=0755" tmpfs-edge-bench $DATA
}
# data_off_tmpfs: Prometheus stopped, its data dir back on the container's disk.
data_off_tmpfs() {
	gexec systemctl stop prometheus.service
	gexec umount $DATA
}

# ===================================================================== setup
stack_up stack "${STACK_DEB:-}"
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "uptime: $(uptime)"
	echo "package: $(basename "$DEB")"
	echo "knobs: PARTS=\"$PARTS\" SOAK=$SOAK UNTUNED=$UNTUNED TUNED=$TUNED STRESS=$STRESS SAMPLE=$SAMPLE INTERVAL=$INTERVAL DISK=$DISK"
} >"$OUT/env.txt"
echo "phase,time,t,unit,usage_bytes,total_rss,total_cache,max_usage_bytes,failcnt,main_pid_cpu_ticks" >"$OUT/memory.csv"
echo "phase,time,t,process_resident_memory_bytes,go_heap_inuse_bytes,head_series" >"$OUT/prometheus-self.csv"
f=/etc/edge-observability/prometheus.yml
gcat $f | scrape_every "$INTERVAL" >"$WORK/prometheus.yml" || die "no job edge-sensord in $f"
gput "$WORK/prometheus.yml" $f
restart_prometheus
{
	echo "prometheus: $(gexec dpkg-query -W -f='${Version}' prometheus)"
	for u in "${UNITS[@]}"; do
		echo "$u: $(gexec systemctl show -p MemoryMax -p MemoryHigh -p CPUQuotaPerSecUSec -p CPUWeight -p Environment "$u" | tr '\n' ' ')"
	done
	echo "scrape job: $(gnet curl -sf "$PROM/api/v1/status/config" | jq -r .data.yaml | grep -A3 'job_name: edge-sensord' | tr -s ' \n' ' ')"
	echo "prometheus flags: $(flags '"storage.tsdb.retention.time", "storage.tsdb.retention.size"')"
} >>"$OUT/env.txt"
note "stack up: $(gexec systemctl is-active edge-sensord.service prometheus.service | tr '\n' ' ')"

# ============================================== 1. memory soak, as shipped
SOAK_END=""
if want soak; then
	SOAK_T0=$(date +%s)
	soak soak "$SOAK"
	SOAK_END=$(date +%s)
	gexec edgectl status --window "$((SOAK_END - SOAK_T0))s" >"$OUT/edgectl-after-soak.txt" 2>&1 || true
	scrape_stats soak "$SOAK_END" "$((SOAK_END - SOAK_T0 - 5))"
fi

# ====================================== 3c. daemon SIGKILL, restart by systemd
want daemon-kill && {
	u=edge-sensord.service
	pid0=$(prop $u MainPID)
	n0=$(prop $u NRestarts)
	tk=$(now)
	gexec systemctl kill -s KILL $u
	poll 120 restarted $u "$pid0" 1 || true
	ta=$(now)
	pid1=$(prop $u MainPID)
	# First successful scrape that began after the daemon was active again.
	poll 120 scraped_ok_since "$ta" || true
	ts=$(now)
	sleep 10
	te=$(date +%s)
	w=$((te - ${tk%.*} + 5))
	echo "kill=$tk pid=$pid0 -> $pid1 NRestarts=$n0 -> $(prop $u NRestarts)"
	echo "active_again_after_s=$(minus "$ta" "$tk") first_good_scrape_after_s=$(minus "$ts" "$tk") (target lastScrape has 1 s resolution here)"
	echo "scrapes in the ${w}s around the kill: $(prom_try "count_over_time(up{job=\"edge-sensord\"}[${w}s])" "$te"), failed: $(prom_try "count_over_time(up{job=\"edge-sensord\"}[${w}s]) - sum_over_time(up{job=\"edge-sensord\"}[${w}s])" "$te")"
	echo "failed scrapes (raw): $(gnet curl -sf "$PROM/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[${w}s]" --data-urlencode "time=$te" | jq -c '[.data.result[0].values[] | select(.[1]=="0") | .[0]]')"
	echo "journal:"
	gexec journalctl --no-pager -o short-precise -u $u --since "@${tk%.*}" | grep -E 'Main process exited|Failed with result|Scheduled restart|Started|Stopped' || true
} 2>&1 | tee "$OUT/fault-daemon-kill.txt"

# ========================================== 2. CPU saturation on the host
if want stress; then
# The soak's last $STRESS seconds (before the daemon's SIGKILL) are the baseline.
[ -z "$SOAK_END" ] || scrape_stats baseline-no-stress "$SOAK_END" "$STRESS"
read -r sp0 st0 _ <<<"$(cpu_stat edge-sensord.service)"
read -r pp0 pt0 _ <<<"$(cpu_stat prometheus.service)"
sc0=$(cpu_usage edge-sensord.service)
pc0=$(cpu_usage prometheus.service)
note "stress-ng --cpu 2 on the host for ${STRESS}s (cgroup $(awk -F: '$2=="cpu"{print $3}' /proc/self/cgroup)), load $(load)"
stress-ng --cpu 2 --timeout "$((STRESS + 5))s" --metrics-brief >"$OUT/stress-ng.log" 2>&1 &
BG_PIDS+=($!)
sleep 5
ST_T0=$(date +%s)
soak stress "$STRESS"
ST_END=$(date +%s)
wait "${BG_PIDS[-1]}" || true
unset 'BG_PIDS[-1]'
note "stress done, load $(load)"
scrape_stats stress "$ST_END" "$((ST_END - ST_T0))"
read -r sp1 st1 _ <<<"$(cpu_stat edge-sensord.service)"
read -r pp1 pt1 _ <<<"$(cpu_stat prometheus.service)"
{
	echo "throttled periods during stress: edge-sensord $((st1 - st0))/$((sp1 - sp0)), prometheus $((pt1 - pt0))/$((pp1 - pp0))"
	echo "CPU seconds during stress (${STRESS}s): edge-sensord $(minus "$(cpu_usage edge-sensord.service)" "$sc0" %.2f), prometheus $(minus "$(cpu_usage prometheus.service)" "$pc0" %.2f)"
} | tee -a "$OUT/cpu.txt"
fi

# ============================ 1b. Prometheus without the edge tuning, then with
if want tuning; then
# /run in the container is its own tmpfs, so the drop-in is written from inside.
gexec_in sh -c 'mkdir -p /run/systemd/system/prometheus.service.d && cat >/run/systemd/system/prometheus.service.d/zz-untuned.conf' <<'EOF'
[Service]
UnsetEnvironment=GOMEMLIMIT GOGC
MemoryHigh=infinity
MemoryMax=infinity
ExecStart=
ExecStart=/usr/bin/edgectl prometheus-exec -- --storage.tsdb.path=/var/lib/prometheus/metrics2/ --web.listen-address=127.0.0.1:9090 --query.max-concurrency=2 --query.max-samples=50000 --query.timeout=15s --web.max-connections=64
EOF
restart_prometheus
{
	echo "untuned: $(gexec systemctl show -p MemoryMax -p MemoryHigh -p Environment -p UnsetEnvironment prometheus.service | tr '\n' ' ')"
	echo "untuned process environment (GO*): $(gexec sh -c 'tr "\0" "\n" </proc/$(systemctl show -p MainPID --value prometheus.service)/environ | grep "^GO" | tr "\n" " "')"
	echo "untuned flags: $(flags '"storage.tsdb.retention.time", "storage.tsdb.retention.size"')"
} >>"$OUT/env.txt"
soak untuned "$UNTUNED"
gexec rm -f /run/systemd/system/prometheus.service.d/zz-untuned.conf
restart_prometheus
echo "tuned again: $(gexec systemctl show -p MemoryMax -p MemoryHigh -p Environment prometheus.service | tr '\n' ' ')" >>"$OUT/env.txt"
soak tuned "$TUNED"
fi

# ======================================= 3a. Prometheus SIGKILL, restart
want prometheus-kill && {
	u=prometheus.service
	sleep 5
	tb=$(($(date +%s) - 5)) # window ends before the kill
	before=$(prom_try 'count_over_time(up{job="edge-sensord"}[10m])' "$tb")
	before_all=$(prom_try 'count({__name__=~".+"})' "$tb")
	n0=$(prop $u NRestarts)
	pid0=$(prop $u MainPID)
	tk=$(now)
	gexec systemctl kill -s KILL $u
	poll 120 restarted $u "$pid0" || true
	tst=$(now)
	pid1=$(prop $u MainPID)
	poll 300 prom_ready || true
	tr=$(now)
	poll 60 target_up edge-sensord || true
	sleep 20
	te=$(date +%s)
	after=$(prom_try 'count_over_time(up{job="edge-sensord"}[10m])' "$tb")
	after_all=$(prom_try 'count({__name__=~".+"})' "$tb")
	echo "kill=$tk pid=$pid0 -> $pid1 NRestarts=$n0 -> $(prop $u NRestarts)"
	echo "new_process_after_s=$(minus "$tst" "$tk" %.2f) ready_after_s=$(minus "$tr" "$tk" %.2f)"
	echo "samples of up{job=edge-sensord} in the 10m ending 5 s before the kill ($tb): before=$before after=$after"
	echo "series present at $tb: before=$before_all after=$after_all"
	w=$((te - tb + 5))
	gnet curl -sf "$PROM/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[${w}s]" --data-urlencode "time=$te" |
		jq -r --argjson k "$tk" '[.data.result[0].values[] | .[0]] as $t | [range(1; $t | length) | {gap: ($t[.] - $t[. - 1]), from: $t[. - 1], to: $t[.]}] | max_by(.gap) |
			"largest gap between samples around the kill: \(.gap) s (\(.from - $k | . * 10 | round / 10) s .. \(.to - $k | . * 10 | round / 10) s relative to the kill)"'
	echo "journal:"
	gexec journalctl --no-pager -o short-precise -u $u --since "@${tk%.*}" | grep -E 'Main process exited|Failed with result|Scheduled restart|Started|WAL|replay|Server is ready' | head -20 || true
} 2>&1 | tee "$OUT/fault-prometheus-kill.txt"

# ======================================= 3b. full disk under the data dir
want disk-full && {
	u=prometheus.service
	d=$DATA
	data_on_tmpfs "$DISK"
	gexec chown prometheus:prometheus $d
	restart_prometheus
	echo "tmpfs $DISK at $d; retention flags: $(flags '"storage.tsdb.retention.size"')"
	sleep 60
	tf=$(date +%s)
	pre=$(prom_try 'count_over_time(up{job="edge-sensord"}[50s])' "$tf")
	echo "before filling: $(gexec df -k $d | tail -1); samples of up in the 50 s before filling: $pre"
	gexec sh -c "fallocate -l \$(( \$(df -k --output=avail $d | tail -1) * 1024 )) $d/fill 2>/dev/null || dd if=/dev/zero of=$d/fill bs=1M status=none" || true
	echo "after filling: $(gexec df -k $d | tail -1)"
	for i in 1 2 3 4 5 6; do
		sleep 20
		echo "+$((i * 20))s: prometheus $(gexec systemctl is-active $u) NRestarts=$(prop $u NRestarts) ready=$(prom_ready && echo yes || echo no)" \
			"up_now=$(prom_try 'up{job="edge-sensord"}') age_of_last_stored_up=$(prom_try 'time() - timestamp(up{job="edge-sensord"})')s" \
			"samples_before_fill=$(prom_try 'count_over_time(up{job="edge-sensord"}[50s])' "$tf") stored_scrapes_last20s=$(prom_try 'count_over_time(up{job="edge-sensord"}[20s])')" \
			"live: $(gnet curl -sf --max-time 5 "$PROM/metrics" | samples -series 'prometheus_tsdb_wal_writes_failed_total|prometheus_tsdb_head_samples_appended_total|prometheus_target_scrapes_exceeded.*|prometheus_tsdb_compactions_failed_total' | tr ' \n' '= ')"
	done
	echo "--- edgectl status (disk full):"
	gexec edgectl status --window 1m 2>&1 || echo "(exit $?)"
	echo "--- journal:"
	gexec journalctl --no-pager -o cat -u $u --since "@$tf" | grep -viE 'level=info' | sed -E 's/^ts=[^ ]+ //; s/target=[^ ]+ //; s/(scrape_pool|name|index)=[^ ]+ //g' | sort | uniq -c | sort -rn | cut -c1-400 | head -12 || true
	gexec rm -f $d/fill
	sleep 30
	echo "--- 30 s after freeing the space: prometheus $(gexec systemctl is-active $u) NRestarts=$(prop $u NRestarts) stored_scrapes_last20s=$(prom_try 'count_over_time(up{job="edge-sensord"}[20s])') samples_before_fill=$(prom_try 'count_over_time(up{job="edge-sensord"}[50s])' "$tf") wal_writes_failed=$(prom_try 'prometheus_tsdb_wal_writes_failed_total')"
	echo "--- edgectl status 30 s after freeing:"
	gexec edgectl status --window 1m 2>&1 || echo "(exit $?)"
	data_off_tmpfs
} 2>&1 | tee "$OUT/fault-disk-full.txt"

# ======================================= 3c. the TSDB's own data fills a small disk
# Old data is backfilled with promtool until it exceeds what the derived
# retention size allows (1/4 of the tmpfs); Prometheus must trim the
# oldest blocks at start and keep ingesting.
want disk-retention && {
	u=prometheus.service
	d=$DATA
	data_on_tmpfs "$RETENTION_DISK"
	# 200 series of random values (incompressible for the XOR encoding)
	# every 5 s for 9 h, ending 2 h ago: inside the 12 h time retention,
	# so only the size retention can delete them.
	# The container's root is a directory here: write the input there.
	fill_end=$(($(date +%s) - 2 * 3600))
	"$BT" gen-fill -series 200 -every 5s -span 9h -end "$fill_end" "$ROOT/var/tmp/fill.om"
	# promtool preallocates chunk files far larger than this tmpfs, so the
	# blocks are made on the container's disk and copied in.
	gexec promtool tsdb create-blocks-from openmetrics /var/tmp/fill.om /var/tmp/backfill >/dev/null
	gexec cp -a /var/tmp/backfill/. $d/
	gexec rm -rf /var/tmp/fill.om /var/tmp/backfill
	gexec chown -R prometheus:prometheus $d
	blocks_before=$(gexec sh -c "ls -d $d/01* | wc -l")
	echo "tmpfs $RETENTION_DISK at $d; backfilled: $blocks_before blocks, $(gexec du -sm $d | cut -f1) MiB; $(gexec df -k $d | tail -1)"
	oldest_before=$(gexec sh -c "cat $d/01*/meta.json" | jq -s 'map(.minTime) | min / 1000 | floor')
	ts=$(now)
	gexec systemctl start $u
	wait_for 120 "prometheus ready" prom_ready
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	echo "journal: $(gexec journalctl --no-pager -o cat -u $u --since "@${ts%.*}" | grep -E 'prometheus-exec|retention' | head -3 | cut -c1-300)"
	echo "retention flags: $(flags '"storage.tsdb.retention.size", "storage.tsdb.retention.time"')"
	sleep 60
	oldest_after=$(prom_try 'min(prometheus_tsdb_lowest_timestamp_seconds)')
	echo "after start + 60 s: prometheus $(gexec systemctl is-active $u) NRestarts=$(prop $u NRestarts)" \
		"blocks=$(gexec sh -c "ls -d $d/01* 2>/dev/null | wc -l") (was $blocks_before)" \
		"size_retentions=$(prom_try 'prometheus_tsdb_size_retentions_total') time_retentions=$(prom_try 'prometheus_tsdb_time_retentions_total')" \
		"storage_blocks_bytes=$(prom_try 'prometheus_tsdb_storage_blocks_bytes')" \
		"retention_limit_bytes=$(prom_try 'prometheus_tsdb_retention_limit_bytes')"
	echo "oldest data: before start $(date -u -d "@$oldest_before" +%T), after $(date -u -d "@${oldest_after%.*}" +%T) (now $(date -u +%T))"
	echo "backfilled samples queryable in its last hour: $(prom_try 'sum(count_over_time(bench_fill[1h]))' "$((fill_end - 1))") (200 series x 720 = 144000 written)"
	echo "disk: $(gexec df -k $d | tail -1)"
	echo "stored scrapes of edge-sensord in the last 20 s: $(prom_try 'count_over_time(up{job="edge-sensord"}[20s])'), WAL write failures: $(prom_try 'prometheus_tsdb_wal_writes_failed_total')"
	data_off_tmpfs
	gexec systemctl start $u
} 2>&1 | tee "$OUT/fault-disk-retention.txt"

note "all phases done, load $(load)"
