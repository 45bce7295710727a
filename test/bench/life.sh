#!/usr/bin/env bash
# A device's life in compressed time, in a booted guest with the amd64 .deb
# installed and edge-sensord simulating its sensors: the container (real
# systemd as PID 1 in systemd-nspawn, cgroup v1 here) or, with
# STACK_GUEST=vm, the Debian 13 VM of the e2e test (cgroup v2, where
# MemoryHigh= acts, and a clock of its own). Parts (LIFE_PARTS, in this order):
#   compaction  prometheus.service (shipped unit and limits) with block
#               durations of minutes and a short time retention, next to a
#               size-retention instance, for LIFE_SOAK seconds: compactions,
#               merges, retention and WAL truncation, scrape success, memory
#               peak, per-minute sample counts. In the same run, the
#               Prometheus instances of LIFE_IO_INSTANCES at the shipped block
#               durations (shipped flags; Debian's defaults; shipped with the
#               tuned self-scrape) for the bytes each unit and journald write.
#   powercut    LIFE_CUTS times: SIGKILL every process of the container at
#               once at a random moment (some mid-compaction), check the TSDB
#               and files on the host, boot again, wait for the stack
#               (container only; test/bench/vmcut.sh cuts the VM's power).
#   sdwrites    the stack as shipped (no compressed time) next to a Prometheus
#               on Debian's defaults, for LIFE_SOAK seconds: bytes written per
#               process, per kind of TSDB file, and to the journal.
#   thp         (VM only) two more edge-sensord daemons (transient units, the shipped binary and
#               GOMEMLIMIT), one with GODEBUG=disablethp=1, scraped every 2 s for LIFE_SOAK
#               seconds: memory, peak, anon and its transparent huge pages, CPU of each.
#   clock       (VM only, alone) the VM boots with its clock LIFE_CLOCK_BEHIND
#               in the past, the stack at shipped settings; then the clock is
#               stepped forward to the host's time, marked synchronised as an
#               NTP client does, and later stepped back LIFE_CLOCK_BACK
#               seconds: scrapes, rejected samples, memory, the daemon's
#               monotonic times and watchdog, edgectl's and the dashboard's warning.
# Usage: test/bench/life.sh   (or test/bench/run.sh life); needs root.
# Knobs: LIFE_SOAK=1680 LIFE_CUTS=20 LIFE_SAMPLE=5 LIFE_RETENTION_TIME=10m LIFE_DEB=path.deb
#   LIFE_IO_INSTANCES="shipped default tuned" LIFE_CLOCK_BEHIND=3d LIFE_CLOCK_BACK=300
#   LIFE_CLOCK_PHASE=240 STACK_GUEST=nspawn|vm LIFE_NAME=life (results in BENCH_RESULTS/LIFE_NAME)
#   LIFE_PROM_SETTINGS="" (lines for the [Service] of prometheus.service in compressed time, to try a
#   tuning: e.g. "Environment=GOMEMLIMIT=48MiB" or "MemoryHigh=72M")
# Scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
# shellcheck source=test/lib/guest-stack.sh
. "$REPO/test/lib/guest-stack.sh"

PARTS=${LIFE_PARTS:-compaction powercut}
SOAK=${LIFE_SOAK:-1680}
CUTS=${LIFE_CUTS:-20}
SAMPLE=${LIFE_SAMPLE:-5}
IO_INSTANCES=${LIFE_IO_INSTANCES-shipped default tuned}
BENCH=/var/lib/prometheus/bench
# Compressed time: head blocks of a minute, merges up to three.
FAST="--storage.tsdb.min-block-duration=1m --storage.tsdb.max-block-duration=3m"
RETENTION_TIME=${LIFE_RETENTION_TIME:-10m}
RETENTION_SIZE=1MB
POLL_STEP=0.2 # the time to ready after a power cut is read off the polls

need_tools curl:curl jq:jq promtool:prometheus
if want clock; then
	if [ "$STACK_GUEST" != vm ] || [ "$PARTS" != clock ]; then
		die "the clock part steps the guest's own clock: STACK_GUEST=vm LIFE_PARTS=clock"
	fi
	# The VM's real-time clock, hence its time at boot, LIFE_CLOCK_BEHIND in the past.
	VM_RTC=$(date -u -d "-${LIFE_CLOCK_BEHIND:-3 days}" +%Y-%m-%dT%H:%M:%S)
fi
if want thp && [ "$STACK_GUEST" != vm ]; then die "the thp part reads cgroup v2 files: STACK_GUEST=vm"; fi
if want powercut && [ "$STACK_GUEST" = vm ]; then die "power cuts of the VM: test/bench/vmcut.sh"; fi

# ------------------------------------------------------------------ helpers
metric() { # URL NAME-REGEX: "series value" lines of Prometheus's own /metrics
	gnet curl -sf --max-time 5 "$1/metrics" | samples -series "$2" || true
}
metric_value() { gnet curl -sf --max-time 5 "$1/metrics" | samples "$2" || true; } # URL NAME
TSDB_METRICS='prometheus_tsdb_(compactions_total|compactions_triggered_total|compactions_failed_total|blocks_loaded|head_truncations_total|head_truncations_failed_total|wal_truncations_total|wal_truncations_failed_total|checkpoint_creations_total|size_retentions_total|time_retentions_total|reloads_total|wal_corruptions_total|head_series|head_min_time|head_max_time|storage_blocks_bytes|lowest_timestamp_seconds|wal_writes_failed_total)|prometheus_target_scrapes_(sample_out_of_order_total|sample_duplicate_timestamp_total|sample_out_of_bounds_total|exceeded_sample_limit_total)'
gnow() { gexec date +%s; } # the guest's clock, which Prometheus's timestamps come from

# gedit GUESTFILE CMD...: the guest's file through the host filter CMD (stdin to stdout).
gedit() {
	local f=$1
	shift
	gcat "$f" | "$@" >"$WORK/gedit" && gput "$WORK/gedit" "$f"
}

# instance NAME PORT CONFIG GOENV FLAGS...: a Prometheus as a transient unit (outside the stack's slice);
# GOENV "tuned" gives it the drop-in's GOMEMLIMIT and GOGC.
instance() {
	local name=$1 port=$2 cfg=$3 env=()
	[ "$4" = tuned ] && env=(-p Environment=GOMEMLIMIT=56MiB -p Environment=GOGC=50)
	shift 4
	gexec install -d -o prometheus -g prometheus "$BENCH/$name"
	gexec systemd-run --quiet --unit="prom-$name" -p User=prometheus \
		-p MemoryAccounting=yes "${env[@]}" /usr/bin/prometheus --config.file="$cfg" \
		--storage.tsdb.path="$BENCH/$name/" --web.listen-address=127.0.0.1:"$port" "$@"
}

# ===================================================================== setup
stack_up "${LIFE_NAME:-life}" "${LIFE_DEB:-}"
cg_detect
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(df -hT "$WORK" | awk 'NR==2{print $2, $1}') under the guest"
	echo "uptime: $(uptime)"
	echo "guest: $STACK_GUEST, $(gexec uname -r), $(gexec systemctl --version | head -n1), cgroup v$CG_V"
	echo "package: $(basename "$DEB")"
	echo "knobs: PARTS=\"$PARTS\" SOAK=$SOAK CUTS=$CUTS SAMPLE=$SAMPLE FAST=\"$FAST\" RETENTION_TIME=$RETENTION_TIME RETENTION_SIZE=$RETENTION_SIZE IO_INSTANCES=\"$IO_INSTANCES\" VM_RTC=${VM_RTC:-}"
} >"$OUT/env.txt"
wait_for 60 "prometheus ready" prom_ready
# benchtool in the guest too (iosample, timex-sync), built static for it.
(cd "$REPO" && CGO_ENABLED=0 go build -o "$WORK/benchtool-static" ./test/bench/benchtool) || die "building benchtool failed"
gput "$WORK/benchtool-static" /usr/local/bin/benchtool
gexec chmod 0755 /usr/local/bin/benchtool

# bench_configs: the configurations of the bench's own instances, in $BENCH.
# compressed_time: the stack's Prometheus with blocks of minutes, job
# edge-sensord scraped every second.
bench_configs() {
	gexec install -d -o prometheus -g prometheus "$BENCH"
	# The configuration as shipped (15 s scrapes), rendered by prometheus-exec.
	gcat /run/edge-observability/prometheus.yml >"$WORK/shipped.yml"
	# The tuning: Prometheus's self-scrape without its histogram buckets (most of its series).
	keep_all <"$WORK/shipped.yml" | drop_self_buckets >"$WORK/tuned.yml"
	# The size-retention instance scrapes as often as the stack's in compressed time.
	scrape_every 1s <"$WORK/shipped.yml" >"$WORK/size.yml"
	local f
	for f in shipped tuned size; do gput "$WORK/$f.yml" "$BENCH/$f.yml"; done
	gexec sh -c 'chmod 0644 "$1"/*.yml' sh "$BENCH"
}
compressed_time() {
	gedit /etc/edge-observability/prometheus.yml scrape_every 1s
	# In /etc, so that it survives the power cuts' reboots.
	gexec_in sh -c "mkdir -p /etc/systemd/system/prometheus.service.d && cat >/etc/systemd/system/prometheus.service.d/zz-life.conf" <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/edgectl prometheus-exec -- --storage.tsdb.path=$DATA/ --storage.tsdb.retention.time=$RETENTION_TIME --web.listen-address=127.0.0.1:9090 --query.max-concurrency=2 --query.max-samples=50000 --query.timeout=15s --web.max-connections=64 $FAST
${LIFE_PROM_SETTINGS:-}
EOF
	restart_prometheus
}
# The bench's configurations, and compressed time for the parts that need it.
bench_configs
if want compaction || want powercut; then compressed_time; fi
{
	echo "prometheus: $(gexec dpkg-query -W -f='${Version}' prometheus)"
	echo "prometheus.service: $(gexec systemctl show -p MemoryMax -p MemoryHigh -p Environment -p Restart -p RestartUSec -p StartLimitBurst prometheus.service | tr '\n' ' ')"
	echo "prometheus.service flags: $(gnet curl -sf "$PROM/api/v1/status/flags" | jq -c '.data | with_entries(select(.key | test("tsdb")))')"
} >>"$OUT/env.txt"
gexec systemctl show -p MemoryHigh --value prometheus.service >"$OUT/memory-high.txt"
note "stack up: $(gexec systemctl is-active edge-sensord.service prometheus.service | tr '\n' ' ')"

# ====================================== 1. compaction, retention, SD writes
# mem_line: "current,peak,anon,file,high,kernel,slab_reclaimable" of prometheus.service's memory
# cgroup (v1: usage, max usage since the reset, rss, cache, and no "high" events or kernel split).
mem_line() {
	gexec sh -c 'cg=$(systemctl show -p ControlGroup --value prometheus.service)
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then d=/sys/fs/cgroup$cg
			echo "$(cat $d/memory.current),$(cat $d/memory.peak),$(awk "/^anon /{print \$2}" $d/memory.stat),$(awk "/^file /{print \$2}" $d/memory.stat),$(awk "/^high /{print \$2}" $d/memory.events),$(awk "/^kernel /{print \$2}" $d/memory.stat),$(awk "/^slab_reclaimable /{print \$2}" $d/memory.stat)"
		else d=/sys/fs/cgroup/memory$cg
			echo "$(cat $d/memory.usage_in_bytes),$(cat $d/memory.max_usage_in_bytes),$(awk "/^total_rss /{print \$2}" $d/memory.stat),$(awk "/^total_cache /{print \$2}" $d/memory.stat),,,"
		fi'
}

# sampler: every $SAMPLE s Prometheus's cgroup memory and tsdb counters; every third time the
# sizes of the TSDB files (the processes' io: benchtool iosample, next to it).
sampler() {
	local t i=0
	echo "time,usage_bytes,max_usage_bytes,rss,cache,high_events,kernel,slab_reclaimable" >"$OUT/prom-memory.csv"
	: >"$OUT/tsdb-metrics.txt"
	: >"$OUT/files.txt"
	while :; do
		t=$(date +%s)
		echo "$t,$(mem_line)" >>"$OUT/prom-memory.csv" 2>/dev/null || true
		metric "$PROM" "$TSDB_METRICS" | sed "s/^/$t main /" >>"$OUT/tsdb-metrics.txt"
		metric http://127.0.0.1:9091 "$TSDB_METRICS" | sed "s/^/$t size /" >>"$OUT/tsdb-metrics.txt"
		if [ $((i % 3)) = 0 ]; then
			# As benchtool sdwrites-report reads them: TIME ./INSTANCE/data/PATH SIZE.
			gexec sh -c 'cd /var/lib/prometheus && find metrics2 bench -type f -printf "$1 %p %s\n"' sh "$t" 2>/dev/null |
				sed -E 's#^([0-9]+) metrics2/#\1 ./main/data/#; s#^([0-9]+) bench/([^/]+)/#\1 ./\2/data/#' >>"$OUT/files.txt" || true
		fi
		i=$((i + 1))
		sleep "$SAMPLE"
	done
}

io_port() { case $1 in shipped) echo 9092 ;; default) echo 9093 ;; tuned) echo 9094 ;; esac } # IO instance -> port
io_ports() { local n; for n in $IO_INSTANCES; do echo "$(io_port "$n"):$n"; done; } # "PORT:NAME" lines

# soak WHAT NAME=UNIT...: $SOAK seconds of /proc/PID/io of each unit's main process (in
# the guest, io.csv) and of the sampler; sets T0 and T1 (the host's clock), G0 and G1 (the guest's).
soak() {
	local what=$1 n procs=()
	shift
	for n in "$@"; do procs+=("${n%%=*}=$(prop "${n#*=}" MainPID)"); done
	T0=$(date +%s) G0=$(gnow)
	echo "$T0" >"$OUT/t0"
	GEXEC_TIMEOUT=$((SOAK + 120)) gexec benchtool iosample -every "${SAMPLE}s" -for "${SOAK}s" "${procs[@]}" >"$OUT/io.csv" &
	BG_PIDS+=($!)
	sampler &
	BG_PIDS+=($!)
	note "$what: ${SOAK}s from $(date -u -d "@$T0" +%T), load $(load)"
	sleep "$SOAK"
	stop_bg
	T1=$(date +%s) G1=$(gnow)
	echo "$T1" >"$OUT/t1"
	note "$what done, load $(load), guest clock $((G1 - T1)) s off the host's"
}

# journal_bytes FROM TO UNIT...: bytes (export format) and lines each unit, and the whole
# journal, logged between the two times of the guest's clock.
journal_bytes() {
	local from=$1 to=$2 u
	shift 2
	for u in "$@" ""; do
		echo "${u:-all} $(gexec journalctl ${u:+-u "$u"} --since "@$from" --until "@$to" -o export | wc -c) bytes $(gexec journalctl ${u:+-u "$u"} --since "@$from" --until "@$to" -o cat | wc -l) lines"
	done
}

# end_of_soak T0 T1 (guest clock): what the soak left, in $OUT.
end_of_soak() {
	local T0=$1 T1=$2 p u w=$(($2 - $1))
	# Per-minute sample counts of the 1 s job over the whole soak (windows
	# ending on the minute), from the stack's Prometheus and the size one.
	for p in 9090:main 9091:size; do
		gnet curl -sf --max-time 60 "http://127.0.0.1:${p%%:*}/api/v1/query_range" --data-urlencode 'query=count_over_time(up{job="edge-sensord"}[1m])' \
			--data-urlencode "start=$((T0 - 60))" --data-urlencode "end=$T1" --data-urlencode step=60 >"$OUT/counts-${p#*:}.json"
		gnet curl -sf --max-time 60 "http://127.0.0.1:${p%%:*}/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[$((w + 600))s]" \
			--data-urlencode "time=$T1" >"$OUT/up-${p#*:}.json"
		gnet curl -sf --max-time 20 "http://127.0.0.1:${p%%:*}/api/v1/status/tsdb" >"$OUT/status-tsdb-${p#*:}.json"
	done
	for p in 9090:main 9091:size $(io_ports); do
		echo "== ${p#*:}"
		metric "http://127.0.0.1:${p%%:*}" "$TSDB_METRICS|prometheus_tsdb_head_samples_appended_total|prometheus_tsdb_wal_(page_flushes_total|completed_pages_total|fsync_duration_seconds_count)|prometheus_tsdb_compaction_duration_seconds_(sum|count)|prometheus_tsdb_head_chunks_created_total|process_resident_memory_bytes|go_memstats_heap_inuse_bytes"
		echo "series per job: $(gnet curl -sf "http://127.0.0.1:${p%%:*}/api/v1/query" --data-urlencode 'query=count by (job) ({__name__=~".+"})' | jq -c '[.data.result[] | {(.metric.job // "rules"): .value[1]}] | add')"
	done >"$OUT/end-metrics.txt" 2>&1
	# Scrape success of the 1 s job on the stack's Prometheus, and the daemon's own counters.
	{
		echo "window=${w}s scrapes=$(prom_try "count_over_time(up{job=\"edge-sensord\"}[${w}s])" "$T1") ok=$(prom_try "sum_over_time(up{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"p50=$(prom_try "quantile_over_time(0.5, scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"p99=$(prom_try "quantile_over_time(0.99, scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"max=$(prom_try "max_over_time(scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")"
		echo "daemon: $(gnet curl -sf http://127.0.0.1:8000/metrics | grep -E '^(promhttp_metric_handler_requests_total|sensor_failed_events_total|edge_sensor_read_errors_total)' | tr '\n' ' ')"
	} >"$OUT/scrapes.txt"
	# shellcheck disable=SC2046 # one unit per instance
	journal_bytes "$T0" "$T1" prometheus.service prom-size.service $(for p in $(io_ports); do echo "prom-${p#*:}.service"; done) edge-sensord.service >"$OUT/journal-bytes.txt"
	# Bytes each unit's cgroup wrote to the disk since it started (v2's io.stat).
	if [ "$CG_V" = 2 ]; then
		for u in prometheus.service prom-size.service edge-sensord.service systemd-journald.service; do
			echo "$u $(cg_read "$u" io io.stat | tr '\n' ' ')"
		done >"$OUT/io-stat.txt"
	fi
	gexec journalctl --no-pager -o short-precise -u prometheus.service --since "@$T0" | grep -E 'compact|Compaction|retention|WAL|checkpoint|Deleting|Head GC' >"$OUT/compaction-journal.log" || true
}

compaction() {
	# Next to the stack's Prometheus: size retention in compressed time, and
	# those of IO_INSTANCES at the shipped block durations for the bytes written.
	# shellcheck disable=SC2086
	instance size 9091 "$BENCH/size.yml" tuned --storage.tsdb.retention.size=$RETENTION_SIZE --storage.tsdb.retention.time=1d $FAST
	local n p
	for n in $IO_INSTANCES; do
		case $n in
		shipped) instance shipped 9092 "$BENCH/shipped.yml" tuned --storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB ;;
		default) instance default 9093 "$BENCH/shipped.yml" go-defaults ;;
		tuned) instance tuned 9094 "$BENCH/tuned.yml" tuned --storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB ;;
		*) die "LIFE_IO_INSTANCES: $n is not shipped, default or tuned" ;;
		esac
	done
	for p in 9090:main 9091:size $(io_ports); do
		[ "${p%%:*}" = 9090 ] || wait_for 60 "prometheus on ${p%%:*} ready" prom_ready "http://127.0.0.1:${p%%:*}"
		echo "flags ${p%%:*}: $(gnet curl -sf "http://127.0.0.1:${p%%:*}/api/v1/status/flags" | jq -c '.data | with_entries(select(.key | test("tsdb")))')" >>"$OUT/env.txt"
	done
	# v1's max usage from now on; v2's memory.peak counts from the restart just before.
	if [ "$CG_V" = 1 ]; then
		gexec sh -c 'echo 0 >/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value prometheus.service)/memory.max_usage_in_bytes'
	fi
	# shellcheck disable=SC2046 # one NAME=UNIT word per instance
	soak "compaction soak" main=prometheus.service size=prom-size.service $(for p in $(io_ports); do echo "${p#*:}=prom-${p#*:}.service"; done) \
		sensord=edge-sensord.service journald=systemd-journald.service
	end_of_soak "$G0" "$G1"
	for n in size $IO_INSTANCES; do gexec systemctl kill --signal=SIGKILL "prom-$n.service" || true; done
	mem_peak prometheus.service >"$OUT/prom-max-usage.txt"
	# v2: the stall the unit saw, in total (microseconds since it started), and its memory events.
	if [ "$CG_V" = 2 ]; then
		cg_read prometheus.service memory memory.pressure >>"$OUT/prom-max-usage.txt" || true
		cg_read prometheus.service memory memory.events >>"$OUT/prom-max-usage.txt" || true
	fi
	gexec sh -c 'grep -E "^Vm(HWM|RSS)" /proc/$(systemctl show -p MainPID --value prometheus.service)/status' >>"$OUT/prom-max-usage.txt"
	gexec sh -c 'for b in "$1"/01*/; do cat "$b/meta.json"; done' sh "$DATA" | jq -c '{ulid, minTime, maxTime, stats, level: .compaction.level}' >"$OUT/blocks-main.txt" 2>/dev/null || true
	gexec sh -c 'du -sb "$1" "$2"/*' sh "$DATA" "$BENCH" >"$OUT/du.txt" 2>&1 || true
}

# ========================================================== 2. power cuts
# power_cut: SIGKILL every process of the container at once (cgroup.kill of the
# container's cgroup v2 directory), then wait for nspawn to go.
power_cut() {
	local cg p
	cg=/sys/fs/cgroup/unified/$(nspawn_cg)
	p=$(cat "$WORK/nspawn.pid")
	echo 1 >"$cg/cgroup.kill"
	for _ in $(seq 100); do
		! kill -0 "$p" 2>/dev/null && [ -z "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break
		sleep 0.1
	done
	rm -f "$WORK/nspawn.pid" "$WORK/leader.pid"
	# cleanup_cg ends on an rmdir that may fail while the kernel tears the cgroups down.
	cleanup_cg || true
	LEADER=""
}

checksums() { (cd "$ROOT" && sha256sum etc/edge-observability/prometheus.yml etc/edge-observability/grafana-admin-password \
	etc/default/edge-sensord etc/default/edge-observability etc/edge-sensord/config.yml etc/edge-observability/rules/*.yml); }

powercut() {
	local i mode wait_s tcut tlast lost t_up st cnt
	checksums >"$WORK/sums.ref"
	echo "cut,mode,delay_s,cut_time,last_sample,lost_s,boot_to_ready_s,tsdb_list,tsdb_analyze,files,replay,restarts,edgectl" >"$OUT/powercut.csv"
	for i in $(seq "$CUTS"); do
		# Every third cut waits for a compaction to start; the others are at a random moment.
		mode=random
		[ $((i % 3)) = 0 ] && mode=compaction
		wait_s=$((RANDOM % 25 + 5))
		if [ "$mode" = compaction ]; then
			cnt=$(metric_value "$PROM" prometheus_tsdb_compactions_triggered_total)
			local end=$((SECONDS + 150))
			until [ "$(metric_value "$PROM" prometheus_tsdb_compactions_triggered_total)" != "$cnt" ] || [ $SECONDS -gt $end ]; do sleep 0.05; done
			wait_s=0
		else
			sleep "$wait_s"
		fi
		tcut=$(date +%s.%N | cut -c1-14)
		power_cut
		note "cut $i ($mode) at $tcut"
		# The TSDB as the power cut left it, on a copy (promtool writes nothing to it).
		rm -rf "$WORK/copy" && cp -a "$ROOT$DATA" "$WORK/copy"
		local list=ok analyze=ok files=ok
		promtool tsdb list "$WORK/copy" >"$OUT/cut-$i-list.txt" 2>&1 || list=FAIL
		promtool tsdb analyze "$WORK/copy" >"$OUT/cut-$i-analyze.txt" 2>&1 || analyze=FAIL
		ls -la "$WORK/copy" "$WORK/copy/wal" >>"$OUT/cut-$i-list.txt" 2>&1 || true
		checksums | cmp -s - "$WORK/sums.ref" || files=CHANGED
		# The last cut also empties the newest block's index, as a card that
		# lost a write can: Prometheus alone refuses to start on that.
		if [ "$i" = "$CUTS" ]; then
			mode=$mode+empty-index
			: >"$(ls -d "$ROOT$DATA"/01* | tail -n1)/index"
		fi
		local tb
		tb=$(date +%s.%N)
		guest_boot >/dev/null 2>&1
		if ! poll 300 prom_ready; then
			gexec journalctl -b -u prometheus.service -o cat --no-pager >"$OUT/cut-$i-journal.log" 2>&1 || true
			gexec edgectl status >"$OUT/cut-$i-edgectl.txt" 2>&1 || true
			echo "$i,$mode,$wait_s,$tcut,,,never,$list,$analyze,$files,,$(prop prometheus.service NRestarts),$(prop prometheus.service ActiveState)" | tee -a "$OUT/powercut.csv" >&2
			die "Prometheus not ready 300 s after cut $i (journal: $OUT/cut-$i-journal.log)"
		fi
		t_up=$(awk -v a="$(date +%s.%N)" -v b="$tb" 'BEGIN{printf "%.1f", a - b}')
		wait_for 60 "target up after cut $i" target_up edge-sensord
		# Last sample stored before the cut.
		tlast=$(gnet curl -sf "$PROM/api/v1/query" --data-urlencode 'query=up{job="edge-sensord"}[5m]' --data-urlencode "time=${tcut%.*}" |
			jq -r '[.data.result[0].values[] | .[0]] | max // ""')
		lost=$(awk -v a="$tcut" -v b="$tlast" 'BEGIN{ if (b == "") print "all"; else printf "%.1f", a - b }')
		local replay restarts status
		replay=$(gexec journalctl -b -u prometheus.service -o cat --no-pager | grep -cE 'WAL replay completed|Replaying WAL' || true)
		restarts=$(prop prometheus.service NRestarts)
		st=0
		gexec edgectl status --window 1m >"$OUT/cut-$i-edgectl.txt" 2>&1 || st=$?
		status=$st
		gexec journalctl -b -u prometheus.service -o cat --no-pager >"$OUT/cut-$i-journal.log" 2>&1 || true
		echo "$i,$mode,$wait_s,$tcut,$tlast,$lost,$t_up,$list,$analyze,$files,$replay,$restarts,$status" | tee -a "$OUT/powercut.csv" >&2
	done
}

# ========================================================== 3. clock steps
# clock_snapshot NAME: the guest's state at one moment of the clock part, in $OUT/clock.txt.
clock_snapshot() {
	local g h st=0
	g=$(gnow) h=$(date +%s)
	{
		echo "== $1: host $(date -u -d "@$h" +%FT%TZ), guest $(date -u -d "@$g" +%FT%TZ) ($((g - h)) s)"
		echo "timedated: $(gexec timedatectl show -p NTPSynchronized | tr '\n' ' ')"
		echo "daemon: $(gnet curl -sf http://127.0.0.1:8000/metrics | grep -E '^(edge_clock_synchronized|edge_sensor_stale|sensor_failed_events_total|edge_sensor_poll_last_success_timestamp_seconds|process_resident_memory_bytes) ' | tr '\n' ' ')"
		echo "dashboard warnings: $(gnet curl -sf http://127.0.0.1:8000/api/dashboard | jq -c .warnings)"
		echo "status line: $(prop edge-sensord.service StatusText)"
		echo "restarts: edge-sensord $(prop edge-sensord.service NRestarts), prometheus $(prop prometheus.service NRestarts); edge-sensord watchdog $(prop edge-sensord.service WatchdogUSec)"
		echo "memory.current: edge-sensord $(mem_current edge-sensord.service), prometheus $(mem_current prometheus.service); memory.peak: edge-sensord $(mem_peak edge-sensord.service), prometheus $(mem_peak prometheus.service)"
		echo "prometheus: $(metric "$PROM" "$TSDB_METRICS" | tr '\n' ' ')"
		echo "samples of up{job=\"edge-sensord\"} in the last 5 min: $(prom_try 'count_over_time(up{job="edge-sensord"}[5m])' "$g")"
		echo "alert: $(gnet curl -sf "$PROM/api/v1/query" --data-urlencode 'query=ALERTS{alertname="EdgeClockNotSynchronised"}' | jq -c '[.data.result[].metric.alertstate]')"
	} >>"$OUT/clock.txt"
	gexec edgectl status --window 5m >"$OUT/clock-$1-edgectl.txt" 2>&1 || st=$?
	echo "edgectl status: exit $st; $(grep -ci 'clock' "$OUT/clock-$1-edgectl.txt") line(s) on the clock" >>"$OUT/clock.txt"
}

# step_clock TIME: the guest's clock set to TIME (Unix seconds) and marked synchronised, as an
# NTP client does when it steps the clock.
step_clock() { gexec sh -c 'date -u -s "@$1" >/dev/null && benchtool timex-sync' sh "$1" >>"$OUT/clock.txt"; }

# clock: the stack at shipped settings on a clock LIFE_CLOCK_BEHIND in the past,
# stepped forward to real time (as when NTP is reached), then back LIFE_CLOCK_BACK s.
clock() {
	local back=${LIFE_CLOCK_BACK:-300} phase=${LIFE_CLOCK_PHASE:-240} g0 fwd0 fwd1 back0 back1 end
	g0=$(gnow)
	[ $(($(date +%s) - g0)) -gt 3600 ] || die "the guest's clock is not behind the host's (VM_RTC=$VM_RTC)"
	note "guest clock $(($(date +%s) - g0)) s behind the host's"
	: >"$OUT/clock.txt"
	clock_snapshot installed
	sleep "$phase"
	clock_snapshot behind
	# NTP reached: the clock stepped to the host's time.
	fwd0=$(gnow)
	step_clock "$(date +%s)"
	fwd1=$(gnow)
	note "clock stepped forward $((fwd1 - fwd0)) s"
	sleep "$phase"
	clock_snapshot forward
	# Back by $back s (a correction, or a reboot to an older saved time).
	back0=$(gnow)
	step_clock $((back0 - back))
	back1=$(gnow)
	note "clock stepped back $((back0 - back1)) s"
	sleep $((back / 2))
	clock_snapshot back-halfway
	sleep $((back - back / 2 + phase))
	clock_snapshot back
	end=$(gnow)
	echo "steps: start $g0 forward $fwd0 -> $fwd1 back $back0 -> $back1 end $end" >>"$OUT/clock.txt"
	# Every stored sample of up, by job, and what each phase kept.
	gnet curl -sf --max-time 60 "$PROM/api/v1/query" --data-urlencode "query=up[$((end - g0 + 600))s]" --data-urlencode "time=$end" >"$OUT/clock-up.json"
	jq -r --argjson g0 "$g0" --argjson f0 "$fwd0" --argjson f1 "$fwd1" --argjson b0 "$back0" --argjson b1 "$back1" --argjson e "$end" '
		.data.result[] | .metric.job as $j | [.values[][0]] as $t |
		"samples of up{job=\"\($j)\"}: behind \([$t[] | select(. < $f0)] | length) (\($f0 - $g0) s)," +
		" forward \([$t[] | select(. >= $f1 and . < $b0)] | length) (\($b0 - $f1) s)," +
		" back \([$t[] | select(. >= $b1)] | length) (\($e - $b1) s of clock, \($e - $b1 - ($b0 - $b1)) s of it after the clock passed its value before the step)," +
		" of them stamped before the step back: \([$t[] | select(. >= $b1 and . < $b0)] | length)"' "$OUT/clock-up.json" >>"$OUT/clock.txt"
	gexec sh -c 'for b in "$1"/01*/; do cat "$b/meta.json"; done' sh "$DATA" | jq -c '{ulid, minTime, maxTime, stats, level: .compaction.level}' >"$OUT/clock-blocks.txt" 2>/dev/null || true
	gexec journalctl -b --no-pager -o short-precise -u prometheus.service -u edge-sensord.service >"$OUT/clock-journal.log" 2>&1 || true
	cat "$OUT/clock.txt"
}

# ====================================================== 4. SD-card writes
# sdwrites: the stack as shipped (no compressed time) next to a Prometheus on
# Debian's defaults (no flags, Go's defaults, the same configuration), for
# LIFE_SOAK seconds: bytes each process writes (/proc/PID/io in the guest),
# per kind of TSDB file, and the journal's share.
sdwrites() {
	instance default 9093 "$BENCH/shipped.yml" go-defaults
	wait_for 60 "prometheus on 9093 ready" prom_ready http://127.0.0.1:9093
	soak "SD-card writes" main=prometheus.service default=prom-default.service sensord=edge-sensord.service journald=systemd-journald.service
	journal_bytes "$G0" "$G1" prometheus.service prom-default.service edge-sensord.service >"$OUT/journal-bytes.txt"
	"$BT" sdwrites-report "$OUT" | tee "$OUT/summary.txt"
}

# thp: the daemon's memory with and without transparent huge pages for its Go heap, side by side.
thp() {
	local v thp port u
	for v in on:0:9201 off:1:9202; do
		IFS=: read -r v thp port <<<"$v"
		gexec systemd-run --quiet --unit="thp-$v" --slice=bench.slice -p MemoryAccounting=yes -E GOMEMLIMIT=16MiB \
			-E "GODEBUG=disablethp=$thp" /usr/bin/edge-sensord --sensors.simulate \
			--config.file=/etc/edge-sensord/config.yml --web.listen-address="127.0.0.1:$port"
	done
	gexec systemd-run --quiet --unit=thp-scraper --slice=bench.slice sh -c \
		'while :; do for p in 9201 9202; do curl -s -H "Accept-Encoding: gzip" "127.0.0.1:$p/metrics" >/dev/null; done; sleep 2; done'
	note "daemons with and without THP: ${SOAK}s from $(date -u +%T), load $(load)"
	sleep "$SOAK"
	{
		echo "transparent_hugepage: $(gcat /sys/kernel/mm/transparent_hugepage/enabled)"
		for v in on off; do
			u=thp-$v.service
			# shellcheck disable=SC2046 # one line: the stat lines' words joined by spaces
			echo "thp-$v current $(mem_current "$u") peak $(mem_peak "$u")" \
				$(cg_read "$u" memory memory.stat | grep -E "^(anon|anon_thp|file) ") $(cg_read "$u" cpu cpu.stat | grep usage_usec)
		done
	} | tee "$OUT/thp.txt"
	gexec systemctl stop thp-on.service thp-off.service thp-scraper.service
}

want compaction && compaction
want thp && thp
want sdwrites && sdwrites
want powercut && powercut
want clock && clock
note "all parts done, load $(load)"
