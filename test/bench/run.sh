#!/usr/bin/env bash
# Benchmarks of edge-sensord (`make bench`; not part of `make test`).
#   test/bench/run.sh [footprint|shipped|scaling|abuse|dashboard|page|faults|fuzz]...   (default: all, in that order)
#   test/bench/run.sh stack|life|lifevm|thp|clock|sdwrites|vmcut   (each alone: booted-container soaks; compaction
#                     in the VM; the daemon with and without THP in the VM; clock steps in the VM; bytes
#                     written per hour; power cuts of a VM)
#   test/bench/run.sh peers   (alone: the default stack against Netdata, each with its dashboard open)
# Raw results go to test/bench/results/<part>/, a markdown summary to
# test/bench/results/<part>.md and stdout. All traffic stays on 127.0.0.1 and
# every load is bounded in count and time. Knobs (environment):
#   RUNS=5            repetitions of start-up timings
#   SCRAPES=10000     scrapes per exporter for RSS-after and CPU-per-1000
#   PLAIN_SCRAPES=2000  scrapes without gzip (CPU split)
#   FRESH_SCRAPES=1000 FRESH_INTERVAL=100ms  paced scrapes, each after a new poll
#   SHIPPED_SCRAPES=40  scrapes 15 s apart: edge-sensord at 5 s and 15 s polls and node_exporter at once
#   WRK_RUNS=3 WRK_DURATION=10s WRK_CONNS=4   wrk runs per exporter
#   SCALING_SCRAPES=2000  BENCH_COUNT=5  (go test -count, benchstat-friendly)
#   CONNS=1000        connections for the abuse part
#   DASH_WARMUP=60 DASH_DURATION=60s  seconds of scrapes before, and length of, each dashboard load
#   DASH_BENCH_WINDOW=3m DASH_BENCH_RUNS=5  page: RSS/CPU windows, first loads per range
#   FUZZTIME=2m       per fuzz target
#   BENCH_RESULTS=dir instead of test/bench/results
set -euo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
cd "$REPO"
ROOT=$REPO
RESULTS=${BENCH_RESULTS:-$ROOT/test/bench/results}
RUNS=${RUNS:-5}
SCRAPES=${SCRAPES:-10000}
PLAIN_SCRAPES=${PLAIN_SCRAPES:-2000}
FRESH_SCRAPES=${FRESH_SCRAPES:-1000}
FRESH_INTERVAL=${FRESH_INTERVAL:-100ms}
SHIPPED_SCRAPES=${SHIPPED_SCRAPES:-40}
WRK_RUNS=${WRK_RUNS:-3}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_CONNS=${WRK_CONNS:-4}
SCALING_SCRAPES=${SCALING_SCRAPES:-2000}
BENCH_COUNT=${BENCH_COUNT:-5}
CONNS=${CONNS:-1000}
FUZZTIME=${FUZZTIME:-2m}
EDGE=$ROOT/bin/edge-sensord
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
FIXTURE_SYSFS=$ROOT/test/fixtures/sysfs
FIXTURE_CGROUP=$ROOT/test/fixtures/cgroup/v2
# What Prometheus 2.x sends when scraping; wrk sends the same.
PROM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
	parts=(footprint shipped scaling abuse dashboard page faults fuzz)
fi
for p in "${parts[@]}"; do
	case "$p" in
	footprint | shipped | scaling | abuse | dashboard | page | faults | fuzz) ;;
	stack) [ ${#parts[@]} -eq 1 ] || { echo "$0: stack runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/stack.sh" ;;
	life) [ ${#parts[@]} -eq 1 ] || { echo "$0: life runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/life.sh" ;;
	lifevm) [ ${#parts[@]} -eq 1 ] || { echo "$0: lifevm runs alone" >&2; exit 2; }
		STACK_GUEST=vm LIFE_NAME=lifevm LIFE_PARTS=compaction LIFE_IO_INSTANCES='' LIFE_RETENTION_TIME=${LIFE_RETENTION_TIME:-6m} exec "$ROOT/test/bench/life.sh" ;;
	thp) [ ${#parts[@]} -eq 1 ] || { echo "$0: thp runs alone" >&2; exit 2; }
		STACK_GUEST=vm LIFE_NAME=thp LIFE_PARTS=thp LIFE_SOAK=${LIFE_SOAK:-1200} exec "$ROOT/test/bench/life.sh" ;;
	clock) [ ${#parts[@]} -eq 1 ] || { echo "$0: clock runs alone" >&2; exit 2; }
		STACK_GUEST=vm LIFE_NAME=clock LIFE_PARTS=clock exec "$ROOT/test/bench/life.sh" ;;
	sdwrites) [ ${#parts[@]} -eq 1 ] || { echo "$0: sdwrites runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/sdwrites.sh" ;;
	vmcut) [ ${#parts[@]} -eq 1 ] || { echo "$0: vmcut runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/vmcut.sh" ;;
	peers) [ ${#parts[@]} -eq 1 ] || { echo "$0: peers runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/peers.sh" ;;
	*) echo "usage: $0 [footprint|shipped|scaling|abuse|dashboard|page|faults|fuzz]..." >&2; exit 2 ;;
	esac
done

# ---------------------------------------------------------------- setup
scripts/deps.sh bench || true
missing=()
for pkg in wrk stress-ng prometheus-node-exporter prometheus curl jq; do
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" != "ii " ]; then
		missing+=("$pkg")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	# prometheus-node-exporter and prometheus ship services; they must not start here.
	policy_added=false
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && policy_added=true
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	if $policy_added; then rm -f /usr/sbin/policy-rc.d; fi
fi
if [ ! -x "$EDGE" ] || [ "${BENCH_BUILD:-1}" = 1 ]; then
	make -s build
fi
mkdir -p "$RESULTS"
BT=$RESULTS/benchtool
go build -o "$BT" ./test/bench/benchtool
TMP=$(mktemp -d /tmp/edgebench.XXXXXX)

cleanup() {
	stop_bg
	rm -rf "$TMP"
}
trap cleanup EXIT

# start LOG CMD... : runs CMD in the background; its pid is in $STARTED.
start() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 &
	STARTED=$!
	BG_PIDS+=("$STARTED")
}

stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

kv() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; } # FILE KEY: the value of KEY
statuses() { awk '$1 ~ /^status_/ { sub(/^status_/, "", $1); printf "%s%s×%s", sep, $2, $1; sep = ", " }' "$1"; } # FILE: "19×200, 31×503"

edge_args() { # PORT [SYSFS]; EDGE_POLL=interval (default 5s)
	echo --sensors.simulate --path.sysfs="${2:-$FIXTURE_SYSFS}" --path.cgroupfs="$FIXTURE_CGROUP" \
		--web.listen-address=127.0.0.1:"$1" --poll.interval="${EDGE_POLL:-5s}"
}

# wrk_run URL OUTFILE: one wrk run like a Prometheus scrape; prints "p50_ms p99_ms req_per_s".
wrk_run() {
	wrk -t1 -c"$WRK_CONNS" -d"$WRK_DURATION" --latency -H "Accept: $PROM_ACCEPT" -H 'Accept-Encoding: gzip' "$1" >"$2"
	"$BT" wrk "$2"
}

machine_md() {
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(go version | cut -d' ' -f3), node_exporter $(dpkg-query -W -f='${Version}' prometheus-node-exporter 2>/dev/null), wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)."
}

# ---------------------------------------------------------------- footprint
footprint() {

	# Start-up, interleaved so both see the same background load.
	local i pe pn
	for i in $(seq "$RUNS"); do
		pe=$(free_port)
		"$BT" ready -notify -url "http://127.0.0.1:$pe/metrics" -runs 1 -log "$d/edge-ready.log" -- \
			"$EDGE" $(edge_args "$pe") >>"$d/edge-ready.kv"
		pn=$(free_port)
		"$BT" ready -url "http://127.0.0.1:$pn/metrics" -runs 1 -log "$d/ne-ready.log" -- \
			"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$pn" >>"$d/ne-ready.kv"
	done
	awk '$1 == "ready_ms_run1" { print $2 }' "$d/edge-ready.kv" | "$BT" stats edge_ready_ms >"$d/ready-stats.kv"
	awk '$1 == "first200_ms_run1" { print $2 }' "$d/edge-ready.kv" | "$BT" stats edge_first200_ms >>"$d/ready-stats.kv"
	awk '$1 == "first200_ms_run1" { print $2 }' "$d/ne-ready.kv" | "$BT" stats ne_first200_ms >>"$d/ready-stats.kv"

	# Both exporters up at once; each is measured the same way in turn.
	pe=$(free_port)
	start "$d/edge.log" "$EDGE" $(edge_args "$pe")
	local edge=$STARTED
	pn=$(free_port)
	start "$d/ne.log" "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$pn"
	local ne=$STARTED
	wait_http "http://127.0.0.1:$pe/metrics"
	wait_http "http://127.0.0.1:$pn/metrics"
	"$BT" footprint -pid "$edge" -url "http://127.0.0.1:$pe/metrics" -scrapes "$SCRAPES" >"$d/edge.kv"
	"$BT" footprint -pid "$ne" -url "http://127.0.0.1:$pn/metrics" -scrapes "$SCRAPES" >"$d/ne.kv"
	"$BT" footprint -pid "$edge" -url "http://127.0.0.1:$pe/metrics" -scrapes "$PLAIN_SCRAPES" -gzip=false -idle 0s >"$d/edge-plain.kv"
	"$BT" footprint -pid "$ne" -url "http://127.0.0.1:$pn/metrics" -scrapes "$PLAIN_SCRAPES" -gzip=false -idle 0s >"$d/ne-plain.kv"
	# Where edge-sensord's memory goes, in its own words.
	curl -s "http://127.0.0.1:$pe/metrics" | grep -E '^(go_memstats_(heap_(alloc|inuse|idle|released|sys)|stack_inuse|sys|next_gc|mspan_inuse|gc_sys|other_sys)_bytes|go_gc_gomemlimit_bytes|go_gc_gogc_percent|go_goroutines|go_threads) ' >"$d/edge-memstats.txt" || true

	for i in $(seq "$WRK_RUNS"); do
		wrk_run "http://127.0.0.1:$pe/metrics" "$d/edge-wrk-$i.txt" >>"$d/edge-wrk.tsv"
		wrk_run "http://127.0.0.1:$pn/metrics" "$d/ne-wrk-$i.txt" >>"$d/ne-wrk.tsv"
	done
	local who col
	for who in edge ne; do
		for col in 1:p50 2:p99 3:rps; do
			awk -v c="${col%%:*}" '{ print $c }' "$d/$who-wrk.tsv" | "$BT" stats "${who}_wrk_${col#*:}" >>"$d/wrk-stats.kv"
		done
	done
	stop "$edge"
	stop "$ne"

	# Variants of the daemon, each alone: a second instance running at once
	# would share the executable's pages (halving PSS, and page-out leaves
	# shared pages alone).
	alone() { # NAME ENV-ASSIGNMENT EXTRA-FLAG...
		local name=$1 env=$2 port pid
		shift 2
		port=$(free_port)
		start "$d/$name.log" env "$env" "$EDGE" $(edge_args "$port") "$@"
		pid=$STARTED
		wait_http "http://127.0.0.1:$port/metrics"
		"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$port/metrics" -scrapes "$SCRAPES" >"$d/$name.kv"
		stop "$pid"
	}
	alone edge-limit GOMEMLIMIT=10MiB
	# Go's defaults instead of the daemon's: GOGC=100 and no page-out.
	alone edge-godefaults GOGC=100 --no-runtime.pageout
	# Every scrape after a new poll, as at the shipped 5 s poll and 15 s
	# scrape interval, where no scrape finds a body already encoded: poll
	# and scrape every $FRESH_INTERVAL, paced. The idle phase gives the
	# polls' own CPU rate, to tell the scrapes' share.
	local pf fresh
	pf=$(free_port)
	start "$d/edge-fresh.log" "$EDGE" $(EDGE_POLL=$FRESH_INTERVAL edge_args "$pf")
	fresh=$STARTED
	wait_http "http://127.0.0.1:$pf/metrics"
	"$BT" footprint -pid "$fresh" -url "http://127.0.0.1:$pf/metrics" -scrapes "$FRESH_SCRAPES" \
		-interval "$FRESH_INTERVAL" -idle 20s >"$d/edge-fresh.kv"
	stop "$fresh"
	pn=$(free_port)
	start "$d/ne-fresh.log" "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$pn"
	ne=$STARTED
	wait_http "http://127.0.0.1:$pn/metrics"
	"$BT" footprint -pid "$ne" -url "http://127.0.0.1:$pn/metrics" -scrapes "$FRESH_SCRAPES" \
		-interval "$FRESH_INTERVAL" -idle 20s >"$d/ne-fresh.kv"
	stop "$ne"
	local la
	la=$(load)

	local s=$d/ready-stats.kv w=$d/wrk-stats.kv e=$d/edge.kv n=$d/ne.kv
	row() { # label edge-value ne-value
		printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
	}
	spread() { printf '%s (%s–%s)' "$(kv "$1" "$2_median")" "$(kv "$1" "$2_min")" "$(kv "$1" "$2_max")"; }
	{
		echo "### Footprint: edge-sensord vs prometheus-node-exporter"
		echo
		machine_md
		echo "Load average before: $lb; after: $la."
		echo "edge-sensord: test/fixtures/sysfs + --sensors.simulate, poll every 5s; node_exporter: its default collectors on this host. Scrapes are sequential on one keep-alive connection with Prometheus's Accept header and gzip."
		echo
		echo "| Measure | edge-sensord | node_exporter | ratio |"
		echo "|---|---|---|---|"
		row "RSS idle (MiB)" "$(kib_mib "$(kv "$e" idle_rss_kib)")" "$(kib_mib "$(kv "$n" idle_rss_kib)")"
		row "PSS idle (MiB)" "$(kib_mib "$(kv "$e" idle_pss_kib)")" "$(kib_mib "$(kv "$n" idle_pss_kib)")"
		row "RSS after $SCRAPES scrapes (MiB)" "$(kib_mib "$(kv "$e" after_rss_kib)")" "$(kib_mib "$(kv "$n" after_rss_kib)")"
		row "PSS after $SCRAPES scrapes (MiB)" "$(kib_mib "$(kv "$e" after_pss_kib)")" "$(kib_mib "$(kv "$n" after_pss_kib)")"
		row "RssAnon after (MiB)" "$(kib_mib "$(kv "$e" after_rss_anon_kib)")" "$(kib_mib "$(kv "$n" after_rss_anon_kib)")"
		row "RssFile after (MiB)" "$(kib_mib "$(kv "$e" after_rss_file_kib)")" "$(kib_mib "$(kv "$n" after_rss_file_kib)")"
		row "CPU ms per 1000 scrapes, gzip (median of $((SCRAPES / 1000)) blocks)" "$(kv "$e" cpu_ms_per_1000_median)" "$(kv "$n" cpu_ms_per_1000_median)"
		echo "|   min / max per block | $(kv "$e" cpu_ms_per_1000_min) / $(kv "$e" cpu_ms_per_1000_max) | $(kv "$n" cpu_ms_per_1000_min) / $(kv "$n" cpu_ms_per_1000_max) | – |"
		row "CPU ms per 1000 scrapes, no gzip ($PLAIN_SCRAPES scrapes)" "$(kv "$d/edge-plain.kv" cpu_ms_per_1000_median)" "$(kv "$d/ne-plain.kv" cpu_ms_per_1000_median)"
		row "CPU ms per 1000 scrapes, gzip, each after a new poll ($FRESH_SCRAPES paced at $FRESH_INTERVAL)" "$(kv "$d/edge-fresh.kv" cpu_ms_per_1000_mean)" "$(kv "$d/ne-fresh.kv" cpu_ms_per_1000_mean)"
		row "  of which idle work (polls), ms per 1000 × $FRESH_INTERVAL" "$(awk -v r="$(kv "$d/edge-fresh.kv" idle_cpu_ms_per_s)" -v i="${FRESH_INTERVAL%ms}" 'BEGIN { printf "%.0f", r * i }')" "$(awk -v r="$(kv "$d/ne-fresh.kv" idle_cpu_ms_per_s)" -v i="${FRESH_INTERVAL%ms}" 'BEGIN { printf "%.0f", r * i }')"
		row "Response bytes (uncompressed)" "$(kv "$e" response_bytes)" "$(kv "$n" response_bytes)"
		row "Response bytes (gzip)" "$(kv "$e" response_gzip_bytes)" "$(kv "$n" response_gzip_bytes)"
		row "wrk p50 ms, median (min–max) of $WRK_RUNS" "$(spread "$w" edge_wrk_p50)" "$(spread "$w" ne_wrk_p50)"
		row "wrk p99 ms" "$(spread "$w" edge_wrk_p99)" "$(spread "$w" ne_wrk_p99)"
		row "wrk requests/s" "$(spread "$w" edge_wrk_rps)" "$(spread "$w" ne_wrk_rps)"
		row "start → first 200 on /metrics, ms, median (min–max) of $RUNS" "$(spread "$s" edge_first200_ms)" "$(spread "$s" ne_first200_ms)"
		echo "| start → READY=1, ms (edge-sensord only) | $(spread "$s" edge_ready_ms) | – | – |"
		echo
		echo "Ratios use the medians (first number of each cell). Content types: edge-sensord $(kv "$e" content_type), node_exporter $(kv "$n" content_type)."
		echo "Threads after: edge-sensord $(kv "$e" after_threads), node_exporter $(kv "$n" after_threads)."
		echo
		echo "The same daemon alone, same $SCRAPES scrapes:"
		echo
		echo "| Variant | RSS idle | RSS after | RssAnon after | RssFile after | PSS after | CPU ms per 1000 scrapes |"
		echo "|---|---|---|---|---|---|---|"
		local v
		for v in "edge-limit:GOMEMLIMIT=10MiB" "edge-godefaults:Go's defaults (GOGC=100, --no-runtime.pageout)"; do
			local f=$d/${v%%:*}.kv
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${v#*:}" "$(kib_mib "$(kv "$f" idle_rss_kib)")" "$(kib_mib "$(kv "$f" after_rss_kib)")" \
				"$(kib_mib "$(kv "$f" after_rss_anon_kib)")" "$(kib_mib "$(kv "$f" after_rss_file_kib)")" "$(kib_mib "$(kv "$f" after_pss_kib)")" "$(kv "$f" cpu_ms_per_1000_median)"
		done
		echo
		echo "edge-sensord Go memory after the scrapes (from its /metrics):"
		echo
		echo '```'
		cat "$d/edge-memstats.txt"
		echo '```'
	}
}

# ---------------------------------------------------------------- shipped
# The exporters as a device runs them, side by side over the same wall
# time: edge-sensord polling every 5 s (shipped) and every 15 s, and
# node_exporter, each scraped every 15 s. CPU from schedstat (ns).
shipped() {
	local pids=() who port pid bgs=()
	for who in edge5 edge15 ne; do
		port=$(free_port)
		case $who in
		edge5) start "$d/$who.log" "$EDGE" $(EDGE_POLL=5s edge_args "$port") ;;
		edge15) start "$d/$who.log" "$EDGE" $(EDGE_POLL=15s edge_args "$port") ;;
		ne) start "$d/$who.log" "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$port" ;;
		esac
		pid=$STARTED
		pids+=("$pid")
		wait_http "http://127.0.0.1:$port/metrics"
		"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$port/metrics" -scrapes "$SHIPPED_SCRAPES" -interval 15s -idle 0s >"$d/$who.kv" &
		bgs+=($!)
	done
	for pid in "${bgs[@]}"; do wait "$pid"; done
	for pid in "${pids[@]}"; do stop "$pid"; done
	per() { awk -v c="$(kv "$d/$1.kv" sched_cpu_ms_total)" -v k="$SHIPPED_SCRAPES" 'BEGIN { printf "%.1f", c / k }'; }
	{
		echo "### As shipped: a scrape every 15 s"
		echo
		machine_md
		echo "Load average before: $lb; after: $(load). The three ran at once; each got $SHIPPED_SCRAPES scrapes 15 s apart (Prometheus's Accept header, gzip), over $(kv "$d/ne.kv" scrape_wall_s) s. CPU: run time summed over /proc/PID/task/*/schedstat."
		echo
		echo "| Measure | edge-sensord, 5 s polls (shipped) | edge-sensord, 15 s polls | node_exporter | ratio 5 s / node | ratio 15 s / node |"
		echo "|---|---|---|---|---|---|"
		printf '| CPU ms per 15 s scrape interval | %s | %s | %s | %s | %s |\n' "$(per edge5)" "$(per edge15)" "$(per ne)" "$(ratio "$(per edge5)" "$(per ne)")" "$(ratio "$(per edge15)" "$(per ne)")"
		printf '| CPU ms per 15 s, from utime+stime (10 ms ticks) | %s | %s | %s | | |\n' \
			"$(awk -v c="$(kv "$d/edge5.kv" cpu_ms_total)" -v k="$SHIPPED_SCRAPES" 'BEGIN { printf "%.1f", c / k }')" \
			"$(awk -v c="$(kv "$d/edge15.kv" cpu_ms_total)" -v k="$SHIPPED_SCRAPES" 'BEGIN { printf "%.1f", c / k }')" \
			"$(awk -v c="$(kv "$d/ne.kv" cpu_ms_total)" -v k="$SHIPPED_SCRAPES" 'BEGIN { printf "%.1f", c / k }')"
		printf '| RSS after (MiB) | %s | %s | %s | | |\n' "$(kib_mib "$(kv "$d/edge5.kv" after_rss_kib)")" "$(kib_mib "$(kv "$d/edge15.kv" after_rss_kib)")" "$(kib_mib "$(kv "$d/ne.kv" after_rss_kib)")"
	}
}

# ---------------------------------------------------------------- scaling
scaling() {
	local n p pid
	for n in 10 100 1000; do
		rm -rf "$TMP/hwmon-$n"
		"$BT" gen-hwmon "$TMP/hwmon-$n" "$n"
		p=$(free_port)
		start "$d/edge-$n.log" "$EDGE" --path.sysfs="$TMP/hwmon-$n" --path.cgroupfs="$FIXTURE_CGROUP" \
			--web.listen-address=127.0.0.1:"$p" --poll.interval=5s
		pid=$STARTED
		wait_http "http://127.0.0.1:$p/metrics"
		"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$p/metrics" -scrapes "$SCALING_SCRAPES" >"$d/edge-$n.kv"
		wrk_run "http://127.0.0.1:$p/metrics" "$d/edge-$n-wrk.txt" >"$d/edge-$n-wrk.tsv"
		curl -s "http://127.0.0.1:$p/metrics" | grep -E '^(edge_sensor_poll_duration_seconds|edge_sensor_sensors|edge_sensor_read_errors_total)' >"$d/edge-$n-metrics.txt" || true
		stop "$pid"
	done
	go test -run '^$' -bench 'BenchmarkPollOnce|BenchmarkGather' -count "$BENCH_COUNT" ./internal/poller >"$d/gobench.txt" 2>&1
	go test -run '^$' -bench 'BenchmarkMetrics|BenchmarkSensorJSON' -count "$BENCH_COUNT" ./internal/web >>"$d/gobench.txt" 2>&1
	go test -run '^$' -bench 'BenchmarkReadAll' -count "$BENCH_COUNT" ./internal/sensors >>"$d/gobench.txt" 2>&1
	local la
	la=$(load)
	{
		echo "### Scaling with sensor count"
		echo
		echo "Load average before: $lb; after: $la. Generated hwmon trees (sensorstest.WriteHwmonTree), no simulated sensors, poll every 5s; $SCALING_SCRAPES gzip scrapes each; one wrk run of $WRK_DURATION."
		echo
		echo "| Sensors | RSS idle MiB | RSS after MiB | CPU ms / 1000 scrapes | bytes (gzip) | poll s | wrk p50 ms | wrk p99 ms | req/s |"
		echo "|---|---|---|---|---|---|---|---|---|"
		for n in 10 100 1000; do
			local f=$d/edge-$n.kv
			read -r p50 p99 rps _ <"$d/edge-$n-wrk.tsv"
			printf '| %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$n" \
				"$(kib_mib "$(kv "$f" idle_rss_kib)")" "$(kib_mib "$(kv "$f" after_rss_kib)")" "$(kv "$f" cpu_ms_per_1000_median)" \
				"$(kv "$f" response_bytes)" "$(kv "$f" response_gzip_bytes)" \
				"$(kv "$d/edge-$n-metrics.txt" edge_sensor_poll_duration_seconds)" "$p50" "$p99" "$rps"
		done
		echo
		echo "Go benchmarks (\`go test -bench -count $BENCH_COUNT\`; raw, benchstat-friendly: results/scaling/gobench.txt), median per benchmark:"
		echo
		echo "| Benchmark | ns/op | B/op | allocs/op |"
		echo "|---|---|---|---|"
		"$BT" gobench "$d/gobench.txt"
	}
}

# ---------------------------------------------------------------- abuse
abuse() {
	local p pid
	p=$(free_port)
	start "$d/edge.log" "$EDGE" $(edge_args "$p")
	pid=$STARTED
	wait_http "http://127.0.0.1:$p/metrics"
	# A few ordinary scrapes first so "before" is a working daemon, not a fresh one.
	for _ in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$p/metrics"; done
	"$BT" hold -addr 127.0.0.1:"$p" -pid "$pid" -n "$CONNS" >"$d/hold.kv"
	"$BT" burst -addr 127.0.0.1:"$p" -pid "$pid" -n "$CONNS" >"$d/burst.kv"
	"$BT" abuse -addr 127.0.0.1:"$p" -pid "$pid" >"$d/abuse.kv"
	local alive=no code
	if kill -0 "$pid" 2>/dev/null; then alive=yes; fi
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/healthz")
	stop "$pid"
	local la
	la=$(load)
	local h=$d/hold.kv b=$d/burst.kv a=$d/abuse.kv
	{
		echo "### HTTP abuse"
		echo
		echo "Load average before: $lb; after: $la. One edge-sensord (fixture + simulated sensors, --web.max-requests=16 default)."
		echo
		echo "| Test | RSS before MiB | RSS during/peak MiB | RSS after MiB | Result |"
		echo "|---|---|---|---|---|"
		printf '| %s idle connections held | %s | %s / %s | %s | opened %s; /healthz from another client while held: %s; server closed %s of them after %s ms (median; min %s, max %s); fds during %s |\n' \
			"$CONNS" "$(kib_mib "$(kv "$h" before_rss_kib)")" "$(kib_mib "$(kv "$h" during_rss_kib)")" "$(kib_mib "$(kv "$h" peak_rss_kib)")" \
			"$(kib_mib "$(kv "$h" after_rss_kib)")" "$(kv "$h" opened)" "$(kv "$h" healthz_during)" "$(kv "$h" closed_by_server)" \
			"$(kv "$h" closed_after_ms_median)" "$(kv "$h" closed_after_ms_min)" "$(kv "$h" closed_after_ms_max)" "$(kv "$h" during_fds)"
		printf '| %s concurrent GET /metrics | %s | – / %s | %s | %s; /healthz during: %s; burst took %s ms |\n' \
			"$CONNS" "$(kib_mib "$(kv "$b" before_rss_kib)")" "$(kib_mib "$(kv "$b" peak_rss_kib)")" "$(kib_mib "$(kv "$b" after_rss_kib)")" \
			"$(statuses "$b")" \
			"$(kv "$b" healthz_during)" "$(kv "$b" burst_ms)"
		printf '| %s slowloris clients (1 header byte/s) + bad requests | %s | – / %s | %s | %s of %s closed by the server after %s ms (median; min %s, max %s); /healthz during: %s |\n' \
			"$(kv "$a" slowloris_conns)" "$(kib_mib "$(kv "$a" before_rss_kib)")" "$(kib_mib "$(kv "$a" peak_rss_kib)")" "$(kib_mib "$(kv "$a" after_rss_kib)")" \
			"$(kv "$a" slowloris_closed)" "$(kv "$a" slowloris_conns)" "$(kv "$a" slowloris_closed_after_ms_median)" \
			"$(kv "$a" slowloris_closed_after_ms_min)" "$(kv "$a" slowloris_closed_after_ms_max)" "$(kv "$a" slowloris_healthz_during)"
		echo
		echo "| Request | Status | Expected | |"
		echo "|---|---|---|---|"
		awk '$1 == "case" { printf "| %s | %s | %s | %s |\n", $2, $4, $6, $7 }' "$a"
		echo
		echo "Daemon alive after all of it: $alive; /healthz: $code."
	}
}

# ---------------------------------------------------------------- dashboard
# Browsers on the built-in dashboard: every panel's queries, charts over the longest range at the most
# points, run by the daemon on the real Prometheus, first within --dashboard.max-queries-per-client
# (2 clients at one address), then 4 times over it (8 clients).
dashboard() {
	local p pp pid ppid
	p=$(free_port)
	pp=$(free_port)
	printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: edge-sensord\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$p" >"$TMP/dash-prom.yml"
	start "$d/prometheus.log" prometheus --config.file="$TMP/dash-prom.yml" --storage.tsdb.path="$TMP/dash-tsdb" \
		--web.listen-address=127.0.0.1:"$pp" --query.max-concurrency=2 --query.timeout=30s
	ppid=$STARTED
	start "$d/edge.log" "$EDGE" $(edge_args "$p") --prometheus.url=http://127.0.0.1:"$pp"
	pid=$STARTED
	wait_http "http://127.0.0.1:$p/metrics"
	wait_http "http://127.0.0.1:$pp/-/ready"
	sleep "${DASH_WARMUP:-60}"
	"$BT" dashboard -url http://127.0.0.1:"$p" -pid "$pid" -clients 2 -duration "${DASH_DURATION:-60s}" >"$d/clients2.kv"
	"$BT" dashboard -url http://127.0.0.1:"$p" -pid "$pid" -clients 8 -duration "${DASH_DURATION:-60s}" >"$d/clients8.kv"
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/healthz")
	stop "$pid"
	stop "$ppid"
	local la
	la=$(load)
	{
		echo "### Dashboard queries"
		echo
		echo "Load average before: $lb; after: $la. edge-sensord (fixture + simulated sensors) scraped every 1 s by Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') for ${DASH_WARMUP:-60} s first; each client runs the $(kv "$d/clients2.kv" queries) panel queries in turn over $(kv "$d/clients2.kv" range_s) s at a $(kv "$d/clients2.kv" step_s) s step for ${DASH_DURATION:-60s}, through the daemon (--dashboard.max-queries-per-client=2)."
		echo
		echo "| Clients | Answers by status | Answered KiB | p50 / p99 ms (200s) | daemon RSS before / peak / after MiB |"
		echo "|---|---|---|---|---|"
		local f
		for f in "$d/clients2.kv" "$d/clients8.kv"; do
			printf '| %s | %s | %s | %s / %s | %s / %s / %s |\n' "$(kv "$f" clients)" \
				"$(statuses "$f")" \
				"$(kv "$f" response_kib)" "$(kv "$f" ok_p50_ms)" "$(kv "$f" ok_p99_ms)" \
				"$(kib_mib "$(kv "$f" before_rss_kib)")" "$(kib_mib "$(kv "$f" peak_rss_kib)")" "$(kib_mib "$(kv "$f" after_rss_kib)")"
		done
		echo
		echo "/healthz after: $code."
	}
}

# ---------------------------------------------------------------- page
# The dashboard page in headless Chromium over 12 h of backfilled history (test/integration/dashboard_bench_test.go).
page() {
	DASH_BENCH_OUT="$d/page.kv" go test -count=1 -timeout 60m -tags integration,browser,dashbench \
		-run '^TestDashboardBench$' -v ./test/integration/ >"$d/test.log" 2>&1 || { tail -n 50 "$d/test.log" >&2; return 1; }
	local k=$d/page.kv
	{
		echo "### Dashboard page in Chromium"
		echo
		echo "\`test/bench/run.sh page\` ($(date -u +%Y-%m-%d), load average before: $lb). $(machine_md) $(chromium --version 2>/dev/null | head -n 1)."
		echo
		# ranges LABEL KEY [GOAL] and windows LABEL KEY: a row of KEY on the 1 h and 12 h ranges,
		# or in the windows without and with the page.
		ranges() { echo "| $1 | $(kv "$k" "$2_1h") | $(kv "$k" "$2_12h") | ${3:-} |"; }
		windows() { echo "| $1 | $(kv "$k" "$2_without_page") | $(kv "$k" "$2_with_page") |"; }
		echo "| figure | 1 h range | 12 h range | goal |"
		echo "|---|---|---|---|"
		ranges "first visit, page and assets, gzipped on the wire (bytes)" transfer_static_gzip_bytes "≤ 150 KB"
		ranges "first visit, data (API, readings, queries) on the wire (bytes)" transfer_data_gzip_bytes
		ranges "navigation to every panel drawn, median of ${DASH_BENCH_RUNS:-5} cold loads (ms)" first_render_ms_median "≤ 1000"
		ranges "the same, slowest (ms)" first_render_ms_max
		echo
		echo "| figure (page on the 1 h range, ${DASH_BENCH_WINDOW:-3m} windows) | without the page | with the page open |"
		echo "|---|---|---|"
		windows "edge-sensord VmRSS, highest in the window (KiB)" daemon_rss_kib_max
		windows "edge-sensord VmRSS at the end (KiB)" daemon_rss_kib
		windows "Prometheus CPU in the window (ms)" prometheus_cpu_ms_window
		echo "| page refreshes in the window | | $(kv "$k" page_refreshes_in_window) |"
		echo "| Prometheus CPU per refresh (ms) | | $(kv "$k" prometheus_cpu_ms_per_refresh) |"
	}
}

# ---------------------------------------------------------------- faults
faults() {
	local sys=$TMP/sysfs p pid base
	rm -rf "$sys"
	cp -a "$FIXTURE_SYSFS" "$sys"
	local hw=$sys/devices/platform/coretemp.0/hwmon/hwmon0
	local s1=hwmon_coretemp_platform_coretemp_0_temp1 s2=hwmon_coretemp_platform_coretemp_0_temp2 s3=hwmon_coretemp_platform_coretemp_0_temp3
	p=$(free_port)
	base=http://127.0.0.1:$p
	# Short interval so staleness (3 intervals) shows within seconds.
	start "$d/edge.log" "$EDGE" --path.sysfs="$sys" --path.cgroupfs="$FIXTURE_CGROUP" \
		--web.listen-address=127.0.0.1:"$p" --poll.interval=1s --sensors.stale-after=3
	pid=$STARTED
	wait_http "$base/metrics"

	# snap NAME SENSOR: what each endpoint says now.
	snap() {
		local f=$d/$1.txt
		{
			echo "## /sensor/$2"
			curl -s "$base/sensor/$2"
			echo "## /healthz ($(curl -s -o /dev/null -w '%{http_code}' "$base/healthz"))"
			curl -s "$base/healthz"
			echo "## /metrics (selected)"
			curl -s "$base/metrics" | grep -E "^(edge_sensor_read_errors_total\{.*source=\"hwmon\"|sensor_failed_events_total|edge_sensor_stale\{sensor=\"$2\"|edge_sensor_temperature_celsius\{.*sensor=\"$2\"|edge_sensor_scrape_collector_(success|duration_seconds)\{collector=\"hwmon\"|edge_sensor_poll_duration_seconds)" || true
			echo "## process: threads $(awk '/^Threads:/ { print $2 }' /proc/"$pid"/status), RSS $(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status) kB"
		} >"$f"
	}
	# sensor_row LABEL FILE SENSOR: a table row from a snapshot.
	sensor_row() {
		local f=$d/$2.txt
		local status err val health stale rerr events
		status=$(sed -n "2p" "$f" | jq -r '.status' 2>/dev/null || echo '?')
		err=$(sed -n "2p" "$f" | jq -r '.error // ""' 2>/dev/null | sed "s|$sys/||g; s|$TMP/||g" | cut -c1-110)
		val=$(sed -n "2p" "$f" | jq -r '.value' 2>/dev/null || echo '?')
		health=$(grep -o '^## /healthz ([0-9]*)' "$f" | grep -o '[0-9]\{3\}')
		stale=$(awk -v s="edge_sensor_stale{sensor=\"$3\"}" '$1 == s { print $2 }' "$f")
		rerr=$(awk '/^edge_sensor_read_errors_total/ { sub(/edge_sensor_read_errors_total/, ""); printf "%s%s=%s", sep, $1, $2; sep = " " }' "$f" | sed 's/{reason="\([a-z]*\)",source="hwmon"}/\1/g')
		events=$(awk '/^sensor_failed_events_total/ { sub(/sensor_failed_events_total/, ""); printf "%s%s=%s", sep, $1, $2; sep = " " }' "$f" | sed 's/{reason="\([a-z_]*\)"}/\1/g')
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$status" "$val" "${err:-–}" "${stale:-absent}" "$rerr" "$events" "$health"
	}

	sleep 2
	snap 0-baseline "$s1"
	cp -a "$hw" "$TMP/hwmon0.orig"
	# restore FILE: put the original back atomically (rename over the path).
	restore() {
		cp -a "$TMP/hwmon0.orig/$1" "$TMP/$1.new"
		mv -f "$TMP/$1.new" "$hw/$1"
	}

	# 1. The attribute file vanishes (driver unbound, device unplugged).
	rm "$hw/temp1_input"
	sleep 1.5
	snap 1a-vanished "$s1"
	sleep 3
	snap 1b-vanished-later "$s1"
	restore temp1_input
	sleep 2.5
	snap 1c-restored "$s1"

	# 2. Garbage instead of a number.
	printf 'garbage\n' >"$hw/temp2_input"
	sleep 1.5
	snap 2a-garbage "$s2"
	sleep 3
	snap 2b-garbage-later "$s2"
	restore temp2_input
	sleep 2.5
	snap 2c-restored "$s2"

	# 3. A FIFO: open(2) blocks until a writer appears, like a hung driver.
	rm "$hw/temp3_input"
	mkfifo "$hw/temp3_input"
	sleep 2.5
	snap 3a-fifo "$s3"
	local t_before t_after
	t_before=$(curl -s "$base/sensor/$s1" | jq -r '.time')
	sleep 6
	snap 3b-fifo-later "$s3"
	# Another sensor of the same chip kept updating?
	t_after=$(curl -s "$base/sensor/$s1" | jq -r '.time')
	# Release: a regular file takes the path first, then a writer opens the
	# old FIFO through a second link, which ends the blocked read.
	ln "$hw/temp3_input" "$TMP/fifo-link"
	restore temp3_input
	timeout 2 sh -c "printf '41000\n' >'$TMP/fifo-link'" || true
	sleep 2.5
	snap 3c-released "$s3"
	local alive=no
	if kill -0 "$pid" 2>/dev/null; then alive=yes; fi
	stop "$pid"

	# 5. SIGKILL, then restart: time from the new start to READY=1 and to a 200.
	p=$(free_port)
	"$BT" ready -after-sigkill -notify -url "http://127.0.0.1:$p/metrics" -runs "$RUNS" -log "$d/restart.log" -- \
		"$EDGE" $(edge_args "$p") >"$d/restart.kv"
	local la
	la=$(load)
	{
		echo "### Faults"
		echo
		echo "Load average before: $lb; after: $la. A copy of test/fixtures/sysfs, --poll.interval=1s, --sensors.stale-after=3; files of hwmon0 (coretemp) changed while running. Snapshots: results/faults/*.txt."
		echo
		echo "| Moment | /sensor status | value | error | edge_sensor_stale | read_errors_total{source=hwmon} | sensor_failed_events_total | /healthz |"
		echo "|---|---|---|---|---|---|---|---|"
		sensor_row "baseline (temp1)" 0-baseline "$s1"
		sensor_row "temp1_input deleted, +1.5 s" 1a-vanished "$s1"
		sensor_row "temp1_input deleted, +4.5 s" 1b-vanished-later "$s1"
		sensor_row "temp1_input restored, +2.5 s" 1c-restored "$s1"
		sensor_row "temp2_input = garbage, +1.5 s (temp2)" 2a-garbage "$s2"
		sensor_row "temp2_input = garbage, +4.5 s (temp2)" 2b-garbage-later "$s2"
		sensor_row "temp2_input restored, +2.5 s (temp2)" 2c-restored "$s2"
		sensor_row "temp3_input = FIFO, +2.5 s (temp3)" 3a-fifo "$s3"
		sensor_row "temp3_input = FIFO, +8.5 s (temp3)" 3b-fifo-later "$s3"
		sensor_row "FIFO replaced by the file and released, +2.5 s (temp3)" 3c-released "$s3"
		echo
		echo "While temp3_input was a FIFO, temp1 (same chip) kept being read: its last good read moved from $t_before to $t_after."
		echo "Poll duration and threads at +2.5 s / +8.5 s with the FIFO: $(grep -h -E '^edge_sensor_poll_duration_seconds|^## process' "$d/3a-fifo.txt" | tr '\n' ' ') / $(grep -h -E '^edge_sensor_poll_duration_seconds|^## process' "$d/3b-fifo-later.txt" | tr '\n' ' ')"
		echo "Daemon alive throughout: $alive."
		echo
		echo "SIGKILL then restart ($RUNS runs; a scrape connection was open at the kill): start → READY=1 $(kv "$d/restart.kv" ready_ms_median) ms (min $(kv "$d/restart.kv" ready_ms_min), max $(kv "$d/restart.kv" ready_ms_max)); start → first 200 on /metrics $(kv "$d/restart.kv" first200_ms_median) ms (min $(kv "$d/restart.kv" first200_ms_min), max $(kv "$d/restart.kv" first200_ms_max))."
	}
}

# ---------------------------------------------------------------- fuzz
fuzz() {
	local rc=0
	scripts/fuzz.sh "$FUZZTIME" >"$d/fuzz.log" 2>&1 || rc=$?
	FUZZ_RC=$rc
	local la
	la=$(load)
	{
		echo "### Fuzzing"
		echo
		echo "\`scripts/fuzz.sh $FUZZTIME\` (every fuzz target, one after the other); load average before: $lb; after: $la; exit status $rc."
		echo
		echo "| Package | Target | Execs | Interesting (total corpus) | Result |"
		echo "|---|---|---|---|---|"
		"$BT" fuzz-table "$d/fuzz.log"
		echo
		tail -n 1 "$d/fuzz.log"
	}
}

# A part that fails stops the run (set -e); fuzz failures are reported at the end.
FUZZ_RC=0
# Each part measures into $d and prints its markdown summary; lb is the load average before it.
for p in "${parts[@]}"; do
	echo "== $p ($(date -u +%H:%M:%S), load $(load))" >&2
	d=$RESULTS/$p
	rm -rf "$d" && mkdir -p "$d"
	lb=$(load)
	"$p" >"$RESULTS/$p.md"
	cat "$RESULTS/$p.md"
	echo
done
for p in footprint shipped scaling abuse dashboard page faults fuzz; do
	if [ -f "$RESULTS/$p.md" ]; then cat "$RESULTS/$p.md"; echo; fi
done >"$RESULTS/summary.md"
echo "summary: $RESULTS/summary.md" >&2
if [ "$FUZZ_RC" -ne 0 ]; then
	echo "fuzzing found a failure: $RESULTS/fuzz/fuzz.log" >&2
	exit 1
fi
