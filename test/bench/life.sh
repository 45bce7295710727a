#!/usr/bin/env bash
# A device's life in compressed time, in a booted container (real systemd as
# PID 1 in systemd-nspawn, the amd64 .deb installed, edge-sensord with
# --sensors.simulate). Parts (LIFE_PARTS, in this order):
#   compaction  prometheus.service (shipped unit and limits) with block
#               durations of minutes and a 10 m time retention, next to a
#               size-retention instance, for LIFE_SOAK seconds: compactions,
#               merges, retention and WAL truncation, scrape success, memory
#               peak, per-minute sample counts. In the same run, three more
#               Prometheus instances at the shipped block durations (shipped
#               flags; Debian's defaults; shipped with the tuned self-scrape)
#               for the bytes each unit and journald write.
#   powercut    LIFE_CUTS times: SIGKILL every process of the container at
#               once at a random moment (some mid-compaction), check the TSDB
#               and files on the host, boot again, wait for the stack.
# Usage: test/bench/life.sh   (or test/bench/run.sh life); needs root.
# Knobs: LIFE_SOAK=1680 LIFE_CUTS=20 LIFE_SAMPLE=5 LIFE_RETENTION_TIME=10m LIFE_DEB=path.deb BENCH_RESULTS=dir
# Scripts run in the container are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail

# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
# shellcheck source=test/lib/stack.sh
. "$REPO/test/lib/stack.sh"

PARTS=${LIFE_PARTS:-compaction powercut}
SOAK=${LIFE_SOAK:-1680}
CUTS=${LIFE_CUTS:-20}
SAMPLE=${LIFE_SAMPLE:-5}
BENCH=/var/lib/prometheus/bench
# Compressed time: head blocks of a minute, merges up to three.
FAST="--storage.tsdb.min-block-duration=1m --storage.tsdb.max-block-duration=3m"
RETENTION_TIME=${LIFE_RETENTION_TIME:-10m}
RETENTION_SIZE=1MB
POLL_STEP=0.2 # the time to ready after a power cut is read off the polls

need_tools curl:curl jq:jq promtool:prometheus

# ------------------------------------------------------------------ helpers
metric() { # URL NAME-REGEX: "name value" lines of Prometheus's own /metrics
	gnet curl -sf --max-time 5 "$1/metrics" | awk -v r="^($2)$" '$1 ~ r { print $1, $2 }' || true
}
TSDB_METRICS='prometheus_tsdb_(compactions_total|compactions_triggered_total|compactions_failed_total|blocks_loaded|head_truncations_total|head_truncations_failed_total|wal_truncations_total|wal_truncations_failed_total|checkpoint_creations_total|size_retentions_total|time_retentions_total|reloads_total|wal_corruptions_total|head_series|storage_blocks_bytes|lowest_timestamp_seconds|wal_writes_failed_total)|prometheus_target_scrapes_(sample_out_of_order_total|sample_duplicate_timestamp_total|sample_out_of_bounds_total|exceeded_sample_limit_total)'

# every_second FILE: job edge-sensord in the config FILE (on the host) scraped every second.
every_second() { scrape_every 1s <"$1" >"$1.new" && mv "$1.new" "$1"; }

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
stack_up life "${LIFE_DEB:-}"
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(df -hT "$WORK" | awk 'NR==2{print $2, $1}') under the container"
	echo "uptime: $(uptime)"
	echo "package: $(basename "$DEB")"
	echo "knobs: PARTS=\"$PARTS\" SOAK=$SOAK CUTS=$CUTS SAMPLE=$SAMPLE FAST=\"$FAST\" RETENTION_TIME=$RETENTION_TIME RETENTION_SIZE=$RETENTION_SIZE"
} >"$OUT/env.txt"
wait_for 60 "prometheus ready" prom_ready
# The configuration as shipped (15 s scrapes), rendered by prometheus-exec.
gexec install -d -o prometheus -g prometheus "$BENCH"
# (/run in the container is its own tmpfs, not under $ROOT.)
gexec cat /run/edge-observability/prometheus.yml >"$ROOT$BENCH/shipped.yml"
# The tuning: Prometheus's self-scrape without its histogram buckets (most of its series).
drop_self_buckets <"$ROOT$BENCH/shipped.yml" >"$ROOT$BENCH/tuned.yml"
# The size-retention instance scrapes as often as the stack's in compressed time.
cp "$ROOT$BENCH/shipped.yml" "$ROOT$BENCH/size.yml"
every_second "$ROOT$BENCH/size.yml"
chmod 0644 "$ROOT$BENCH"/*.yml
# The stack's Prometheus in compressed time: job edge-sensord every second.
every_second "$ROOT/etc/edge-observability/prometheus.yml"
# In /etc, so that it survives the power cuts' reboots.
gexec_in sh -c "mkdir -p /etc/systemd/system/prometheus.service.d && cat >/etc/systemd/system/prometheus.service.d/zz-life.conf" <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/edgectl prometheus-exec -- --storage.tsdb.path=$DATA/ --storage.tsdb.retention.time=$RETENTION_TIME --web.listen-address=127.0.0.1:9090 --query.max-concurrency=2 --query.max-samples=5000000 --query.timeout=30s --web.max-connections=64 $FAST
EOF
restart_prometheus
{
	echo "prometheus: $(gexec dpkg-query -W -f='${Version}' prometheus)"
	echo "prometheus.service: $(gexec systemctl show -p MemoryMax -p MemoryHigh -p Environment -p Restart -p RestartUSec -p StartLimitBurst prometheus.service | tr '\n' ' ')"
	echo "prometheus.service flags: $(gnet curl -sf "$PROM/api/v1/status/flags" | jq -c '.data | with_entries(select(.key | test("tsdb")))')"
} >>"$OUT/env.txt"
note "stack up: $(gexec systemctl is-active edge-sensord.service prometheus.service | tr '\n' ' ')"

# ====================================== 1. compaction, retention, SD writes
hostpid() { # container PID -> host PID
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$(readlink "/proc/$LEADER/ns/pid")" ] || continue
		[ "$(awk '/^NSpid:/ { print $NF }' "$p/status" 2>/dev/null)" = "$1" ] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}

# sampler: every $SAMPLE s Prometheus's cgroup memory and tsdb counters; every 15 s the sizes of
# the TSDB files (the processes' io: benchtool iosample, next to it).
sampler() {
	local t i=0
	echo "time,usage_bytes,max_usage_bytes,rss,cache" >"$OUT/prom-memory.csv"
	: >"$OUT/tsdb-metrics.txt"
	: >"$OUT/files.txt"
	while :; do
		t=$(date +%s)
		gexec sh -c 'd=/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value prometheus.service)
			echo "$1,$(cat $d/memory.usage_in_bytes),$(cat $d/memory.max_usage_in_bytes),$(awk "/^total_rss /{print \$2}" $d/memory.stat),$(awk "/^total_cache /{print \$2}" $d/memory.stat)"' sh "$t" >>"$OUT/prom-memory.csv" 2>/dev/null || true
		metric "$PROM" "$TSDB_METRICS" | sed "s/^/$t main /" >>"$OUT/tsdb-metrics.txt"
		metric http://127.0.0.1:9091 "$TSDB_METRICS" | sed "s/^/$t size /" >>"$OUT/tsdb-metrics.txt"
		if [ $((i % 3)) = 0 ]; then
			(cd "$ROOT/var/lib/prometheus" && find metrics2 bench -type f -printf "$t %p %s\n") >>"$OUT/files.txt" 2>/dev/null || true
		fi
		i=$((i + 1))
		sleep "$SAMPLE"
	done
}

compaction() {
	# Next to the stack's Prometheus: size retention in compressed time, and
	# three at the shipped block durations for the bytes written.
	# shellcheck disable=SC2086
	instance size 9091 "$BENCH/size.yml" tuned --storage.tsdb.retention.size=$RETENTION_SIZE --storage.tsdb.retention.time=1d $FAST
	instance shipped 9092 "$BENCH/shipped.yml" tuned --storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB
	instance default 9093 "$BENCH/shipped.yml" go-defaults
	instance tuned 9094 "$BENCH/tuned.yml" tuned --storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB
	local p
	for p in 9091 9092 9093 9094; do wait_for 60 "prometheus on $p ready" prom_ready "http://127.0.0.1:$p"; done
	for p in 9090 9091 9092 9093 9094; do
		echo "flags $p: $(gnet curl -sf "http://127.0.0.1:$p/api/v1/status/flags" | jq -c '.data | with_entries(select(.key | test("tsdb")))')"
	done >>"$OUT/env.txt"
	local jd
	jd=$(prop systemd-journald.service MainPID)
	gexec sh -c 'for u in "$@"; do cg=/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value "$u"); echo 0 >"$cg/memory.max_usage_in_bytes"; done' sh prometheus.service
	local T0
	T0=$(date +%s)
	echo "$T0" >"$OUT/t0"
	local n hp procs=()
	for n in "main=$(prop prometheus.service MainPID)" "size=$(prop prom-size.service MainPID)" "shipped=$(prop prom-shipped.service MainPID)" \
		"default=$(prop prom-default.service MainPID)" "tuned=$(prop prom-tuned.service MainPID)" \
		"sensord=$(prop edge-sensord.service MainPID)" "journald=$jd"; do
		if hp=$(hostpid "${n#*=}"); then procs+=("${n%%=*}=$hp"); else note "no host PID for ${n%%=*}"; fi
	done
	"$BT" iosample -every "${SAMPLE}s" "${procs[@]}" >"$OUT/io.csv" &
	BG_PIDS+=($!)
	sampler &
	BG_PIDS+=($!)
	note "compaction soak: ${SOAK}s from $(date -u -d "@$T0" +%T), load $(load)"
	sleep "$SOAK"
	stop_bg
	local T1
	T1=$(date +%s)
	echo "$T1" >"$OUT/t1"
	note "compaction soak done, load $(load)"
	# Per-minute sample counts of the 1 s job over the whole soak (windows
	# ending on the minute), from the stack's Prometheus and the size one.
	for p in 9090:main 9091:size; do
		gnet curl -sf --max-time 60 "http://127.0.0.1:${p%%:*}/api/v1/query_range" --data-urlencode 'query=count_over_time(up{job="edge-sensord"}[1m])' \
			--data-urlencode "start=$((T0 - 60))" --data-urlencode "end=$T1" --data-urlencode step=60 >"$OUT/counts-${p#*:}.json"
		gnet curl -sf --max-time 60 "http://127.0.0.1:${p%%:*}/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[$((T1 - T0 + 600))s]" \
			--data-urlencode "time=$T1" >"$OUT/up-${p#*:}.json"
		gnet curl -sf --max-time 20 "http://127.0.0.1:${p%%:*}/api/v1/status/tsdb" >"$OUT/status-tsdb-${p#*:}.json"
	done
	for p in 9090:main 9091:size 9092:shipped 9093:default 9094:tuned; do
		echo "== ${p#*:}"
		metric "http://127.0.0.1:${p%%:*}" "$TSDB_METRICS|prometheus_tsdb_head_samples_appended_total|prometheus_tsdb_wal_(page_flushes_total|completed_pages_total|fsync_duration_seconds_count)|prometheus_tsdb_compaction_duration_seconds_(sum|count)|prometheus_tsdb_head_chunks_created_total|process_resident_memory_bytes|go_memstats_heap_inuse_bytes"
		echo "series per job: $(gnet curl -sf "http://127.0.0.1:${p%%:*}/api/v1/query" --data-urlencode 'query=count by (job) ({__name__=~".+"})' | jq -c '[.data.result[] | {(.metric.job // "rules"): .value[1]}] | add')"
	done >"$OUT/end-metrics.txt" 2>&1
	# Scrape success of the 1 s job on the stack's Prometheus, and the daemon's own counters.
	{
		w=$((T1 - T0))
		echo "window=${w}s scrapes=$(prom_try "count_over_time(up{job=\"edge-sensord\"}[${w}s])" "$T1") ok=$(prom_try "sum_over_time(up{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"p50=$(prom_try "quantile_over_time(0.5, scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"p99=$(prom_try "quantile_over_time(0.99, scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")" \
			"max=$(prom_try "max_over_time(scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$T1")"
		echo "daemon: $(gnet curl -sf http://127.0.0.1:8000/metrics | grep -E '^(promhttp_metric_handler_requests_total|sensor_failed_events_total|edge_sensor_read_errors_total)' | tr '\n' ' ')"
	} >"$OUT/scrapes.txt"
	# Bytes each unit logged to the journal during the soak.
	for u in prometheus.service prom-size.service prom-shipped.service prom-default.service prom-tuned.service edge-sensord.service; do
		echo "$u $(gexec journalctl -u "$u" --since "@$T0" --until "@$T1" -o export | wc -c) bytes $(gexec journalctl -u "$u" --since "@$T0" --until "@$T1" -o cat | wc -l) lines"
	done >"$OUT/journal-bytes.txt"
	echo "all $(gexec journalctl --since "@$T0" --until "@$T1" -o export | wc -c) bytes $(gexec journalctl --since "@$T0" --until "@$T1" -o cat | wc -l) lines" >>"$OUT/journal-bytes.txt"
	gexec journalctl --no-pager -o short-precise -u prometheus.service --since "@$T0" | grep -E 'compact|Compaction|retention|WAL|checkpoint|Deleting|Head GC' >"$OUT/compaction-journal.log" || true
	gexec systemctl kill --signal=SIGKILL prom-size.service prom-shipped.service prom-default.service prom-tuned.service || true
	gexec sh -c 'cat /sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value prometheus.service)/memory.max_usage_in_bytes' >"$OUT/prom-max-usage.txt"
	gexec sh -c 'grep -E "^Vm(HWM|RSS)" /proc/$(systemctl show -p MainPID --value prometheus.service)/status' >>"$OUT/prom-max-usage.txt"
	(cd "$ROOT$DATA" && for b in 01*/; do jq -c '{ulid, minTime, maxTime, stats, level: .compaction.level}' "$b/meta.json"; done) >"$OUT/blocks-main.txt" 2>/dev/null || true
	gexec du -sb "$DATA" "$BENCH"/* >"$OUT/du.txt" 2>&1 || true
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
			cnt=$(metric "$PROM" prometheus_tsdb_compactions_triggered_total | awk '{print $2}')
			local end=$((SECONDS + 150))
			until [ "$(metric "$PROM" prometheus_tsdb_compactions_triggered_total | awk '{print $2}')" != "$cnt" ] || [ $SECONDS -gt $end ]; do sleep 0.05; done
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

want compaction && compaction
want powercut && powercut
note "all parts done, load $(load)"
