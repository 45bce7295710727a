#!/usr/bin/env bash
# Benchmarks of edge-sensord (`make bench`; not part of `make test`).
#   test/bench/run.sh [footprint|shipped|scaling|abuse|dashboard|page|querymem|attack|faults|fuzz|host]...   (default: all, in that order)
#   test/bench/run.sh stack|life|lifevm|thp|clock|sdwrites|vmcut   (each alone: booted-container soaks; compaction
#                     in the VM; the daemon with and without THP in the VM; clock steps in the VM; bytes
#                     written per hour; power cuts of a VM)
#   test/bench/run.sh peers   (alone: the default stack against Netdata, each with its dashboard open)
#   test/bench/run.sh alerts  (alone: Alertmanager's cost in the slice, idle and with alerts firing and
#                     resolving; in the Debian 12 container (Alertmanager 0.25), then the Debian 13 VM (0.28))
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
#   HOST_RUNS=3 HOST_SCRAPES=1000 HOST_INTERVAL=100ms HOST_POLL=1s BASE_REV=main   host: the daemon of BASE_REV
#                     against this one without and with the host collectors
#   CONNS=1000        connections for the abuse part
#   DASH_WARMUP=60 DASH_DURATION=60s  seconds of scrapes before, and length of, each dashboard load
#   DASH_BENCH_WINDOW=3m DASH_BENCH_RUNS=5  page: RSS/CPU windows, first loads per range
#   ATTACK_DURATION=90s  attack: length of the flood (as in make test)
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
HOST_RUNS=${HOST_RUNS:-3}
HOST_SCRAPES=${HOST_SCRAPES:-1000}
HOST_INTERVAL=${HOST_INTERVAL:-100ms}
HOST_POLL=${HOST_POLL:-1s}
BASE_REV=${BASE_REV:-main}
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
	parts=(footprint shipped scaling abuse dashboard page querymem attack faults fuzz host)
fi
for p in "${parts[@]}"; do
	case "$p" in
	footprint | shipped | scaling | abuse | dashboard | page | querymem | attack | faults | fuzz | host) ;;
	stack) [ ${#parts[@]} -eq 1 ] || { echo "$0: stack runs alone" >&2; exit 2; }; exec "$ROOT/test/bench/container.sh" ;;
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
	alerts) [ ${#parts[@]} -eq 1 ] || { echo "$0: alerts runs alone" >&2; exit 2; }
		ALERTS_GUEST=nspawn "$ROOT/test/bench/alerts.sh" && ALERTS_GUEST=vm exec "$ROOT/test/bench/alerts.sh" ;;
	*) echo "usage: $0 [footprint|shipped|scaling|abuse|dashboard|page|querymem|attack|faults|fuzz|host]..." >&2; exit 2 ;;
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

# go_bench ENV TAGS TEST TIMEOUT: the Go test TEST of test/integration (build tags TAGS), which writes
# its figures to the file named by ENV: $d/figures.kv; its log in $d/test.log.
go_bench() {
	env "$1=$d/figures.kv" go test -count=1 -timeout "$4" -tags "$2" -run "^$3\$" -v ./test/integration/ >"$d/test.log" 2>&1 ||
		{ tail -n 50 "$d/test.log" >&2; return 1; }
}

machine_md() {
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(go version | cut -d' ' -f3), node_exporter $(dpkg-query -W -f='${Version}' prometheus-node-exporter 2>/dev/null), wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)."
}

# ---------------------------------------------------------------- footprint
# Start-up, interleaved so both see the same background load.
footprint_ready() {
	local i pe pn
	for i in $(seq "$RUNS"); do
		pe=$(free_port)
		"$BT" ready -notify -url "http://127.0.0.1:$pe/metrics" -runs 1 -log "$d/edge-ready.log" -- \
			"$EDGE" $(edge_args "$pe") >>"$d/edge-ready.kv"
		pn=$(free_port)
		"$BT" ready -url "http://127.0.0.1:$pn/metrics" -runs 1 -log "$d/ne-ready.log" -- \
			"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$pn" >>"$d/ne-ready.kv"
	done
}

# Both exporters up at once; each is measured the same way in turn.
footprint_side_by_side() {
	local pe pn edge ne i
	pe=$(free_port)
	start "$d/edge.log" "$EDGE" $(edge_args "$pe")
	edge=$STARTED
	pn=$(free_port)
	start "$d/ne.log" "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$pn"
	ne=$STARTED
	wait_http "http://127.0.0.1:$pe/metrics"
	wait_http "http://127.0.0.1:$pn/metrics"
	"$BT" footprint -pid "$edge" -url "http://127.0.0.1:$pe/metrics" -scrapes "$SCRAPES" >"$d/edge.kv"
	"$BT" footprint -pid "$ne" -url "http://127.0.0.1:$pn/metrics" -scrapes "$SCRAPES" >"$d/ne.kv"
	"$BT" footprint -pid "$edge" -url "http://127.0.0.1:$pe/metrics" -scrapes "$PLAIN_SCRAPES" -gzip=false -idle 0s >"$d/edge-plain.kv"
	"$BT" footprint -pid "$ne" -url "http://127.0.0.1:$pn/metrics" -scrapes "$PLAIN_SCRAPES" -gzip=false -idle 0s >"$d/ne-plain.kv"
	# Where edge-sensord's memory goes, in its own words (the report picks the lines).
	curl -s "http://127.0.0.1:$pe/metrics" >"$d/edge-metrics.txt"
	for i in $(seq "$WRK_RUNS"); do
		wrk_run "http://127.0.0.1:$pe/metrics" "$d/edge-wrk-$i.txt" >>"$d/edge-wrk.tsv"
		wrk_run "http://127.0.0.1:$pn/metrics" "$d/ne-wrk-$i.txt" >>"$d/ne-wrk.tsv"
	done
	stop "$edge"
	stop "$ne"
}

# edge_alone NAME ENV-ASSIGNMENT EXTRA-FLAG...: a variant of the daemon, alone: a second
# instance running at once would share the executable's pages (halving PSS, and page-out
# leaves shared pages alone).
edge_alone() {
	local name=$1 env=$2 port pid
	shift 2
	port=$(free_port)
	start "$d/$name.log" env "$env" "$EDGE" $(edge_args "$port") "$@"
	pid=$STARTED
	wait_http "http://127.0.0.1:$port/metrics"
	"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$port/metrics" -scrapes "$SCRAPES" >"$d/$name.kv"
	stop "$pid"
}

# Every scrape after a new poll, as at the shipped 5 s poll and 15 s scrape interval, where
# no scrape finds a body already encoded: poll and scrape every $FRESH_INTERVAL, paced. The
# idle phase gives the polls' own CPU rate, to tell the scrapes' share.
footprint_fresh() {
	local p pid
	p=$(free_port)
	start "$d/edge-fresh.log" "$EDGE" $(EDGE_POLL=$FRESH_INTERVAL edge_args "$p")
	pid=$STARTED
	wait_http "http://127.0.0.1:$p/metrics"
	"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$p/metrics" -scrapes "$FRESH_SCRAPES" \
		-interval "$FRESH_INTERVAL" -idle 20s >"$d/edge-fresh.kv"
	stop "$pid"
	p=$(free_port)
	start "$d/ne-fresh.log" "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$p"
	pid=$STARTED
	wait_http "http://127.0.0.1:$p/metrics"
	"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$p/metrics" -scrapes "$FRESH_SCRAPES" \
		-interval "$FRESH_INTERVAL" -idle 20s >"$d/ne-fresh.kv"
	stop "$pid"
}

footprint() {
	footprint_ready
	footprint_side_by_side
	edge_alone edge-limit GOMEMLIMIT=10MiB
	# Go's defaults instead of the daemon's: GOGC=100 and no page-out.
	edge_alone edge-godefaults GOGC=100 --no-runtime.pageout
	footprint_fresh
	"$BT" footprint-report -machine "$(machine_md)" -load-before "$lb" -load-after "$(load)" -fresh-interval "$FRESH_INTERVAL" "$d"
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
	"$BT" shipped-report -machine "$(machine_md)" -load-before "$lb" -load-after "$(load)" "$d"
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
		curl -s "http://127.0.0.1:$p/metrics" >"$d/edge-$n-metrics.txt"
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
				"$(samples edge_sensor_poll_duration_seconds <"$d/edge-$n-metrics.txt")" "$p50" "$p99" "$rps"
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
		--web.listen-address=127.0.0.1:"$pp" --query.max-concurrency=2 --query.max-samples=50000 --query.timeout=15s
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

# ---------------------------------------------------------------- querymem
# Prometheus's memory per query sample, inside the shipped unit's limits next to a full head block
# and its compaction, and the drop-in's --query.max-samples through a compaction
# (test/integration/querymem_test.go; root: a memory cgroup).
querymem() {
	go_bench QUERYMEM_OUT integration,querybench TestPrometheusQueryMemory 30m || return 1
	local k=$d/figures.kv n shape
	{
		echo "### Prometheus's query limits"
		echo
		echo "\`test/bench/run.sh querymem\` ($(date -u '+%F %H:%M') UTC, load average before: $lb, after: $(load)). $(machine_md) $(prometheus --version 2>&1 | head -n 1)."
		echo
		echo "MiB charged to the cgroup (page cache included), and of it anonymous: ready $(kv "$k" ready_peak_mib) ($(kv "$k" ready_anon_peak_mib)); a full head and its compaction, at the peak $(kv "$k" head_and_compaction_peak_mib) ($(kv "$k" head_and_compaction_anon_peak_mib)); settled $(kv "$k" settled_mib) ($(kv "$k" settled_anon_mib))."
		echo
		echo "| samples per query (two at once) | subquery: peak MiB (anon), slowest pair s, OOM kills | matrix: peak MiB (anon), s, OOM kills |"
		echo "|---|---|---|"
		for n in 50000 100000 200000 300000 400000 600000 800000 1200000 1600000; do
			[ -n "$(kv "$k" "subquery_${n}_peak_mib")$(kv "$k" "matrix_${n}_peak_mib")" ] || continue
			printf '| %s |' "$n"
			for shape in subquery matrix; do
				[ -n "$(kv "$k" "${shape}_${n}_peak_mib")" ] || { printf ' |'; continue; }
				printf ' %s (%s), %s, %s |' "$(kv "$k" "${shape}_${n}_peak_mib")" "$(kv "$k" "${shape}_${n}_anon_peak_mib")" \
					"$(kv "$k" "${shape}_${n}_seconds")" "$(kv "$k" "${shape}_${n}_oom_kills")"
			done
			echo
		done
		echo
		echo "As shipped (--query.max-samples=$(kv "$k" shipped_max_samples)), at and over the limit in a loop through a full head's compaction: peak $(kv "$k" shipped_peak_mib) MiB ($(kv "$k" shipped_anon_peak_mib) anonymous), OOM kills $(kv "$k" shipped_oom_kills), slowest pair $(kv "$k" shipped_slowest_pair_seconds) s; answers: $(awk '$1 ~ /^shipped_(subquery|matrix)_/ { sub(/^shipped_/, "", $1); printf "%s%s %s", sep, $1, $2; sep = ", " }' "$k")."
	}
}

# ---------------------------------------------------------------- attack
# The worst requests a LAN client can send to the daemon, with Prometheus as shipped in a memory
# cgroup (test/integration/attack_test.go, also run by make test; root: memory cgroups).
attack() {
	go_bench ATTACK_OUT integration TestAttackThroughTheDaemon 15m || return 1
	local k=$d/figures.kv
	{
		echo "### Attack through the daemon's port"
		echo
		echo "\`test/bench/run.sh attack\` ($(date -u '+%F %H:%M') UTC, load average before: $lb, after: $(load)). $(machine_md) $(prometheus --version 2>&1 | head -n 1)."
		echo
		echo "| figure | value |"
		echo "|---|---|"
		echo "| flood (s) | $(kv "$k" flood_seconds) |"
		echo "| requests, by status | $(kv "$k" requests): $(statuses "$k") |"
		echo "| longest answer (ms), of a panel (ms) | $(kv "$k" longest_answer_ms), $(kv "$k" longest_panel_answer_ms) |"
		echo "| Prometheus peak (MiB charged to its cgroup; anonymous) | $(kv "$k" prometheus_peak_mib); $(kv "$k" prometheus_anon_peak_mib) |"
		echo "| edge-sensord peak (MiB, its cgroup; VmHWM KiB) | $(kv "$k" daemon_peak_mib); $(kv "$k" daemon_peak_rss_kib) |"
		echo "| costliest panel query at the longest range (samples at once) | $(kv "$k" panel_peak_samples_max) |"
		echo "| dashboard: refreshes, queries, retried, longest (ms) | $(kv "$k" page_refreshes), $(kv "$k" page_queries), $(kv "$k" page_queries_retried), $(kv "$k" page_longest_ms) |"
		echo "| the queries that OOM-killed Prometheus through the old proxy, sent to it directly: status, ms | $(kv "$k" old_query_0_status), $(kv "$k" old_query_0_ms); $(kv "$k" old_query_1_status), $(kv "$k" old_query_1_ms) |"
		echo
		grep -E '^    attack_test.go.*(job |directly)' "$d/test.log" | sed 's/^ *attack_test.go:[0-9]*: /- /'
	}
}

# ---------------------------------------------------------------- page
# The dashboard page in headless Chromium over 12 h of backfilled history (test/integration/dashboard_bench_test.go).
page() {
	go_bench DASH_BENCH_OUT integration,browser,dashbench TestDashboardBench 60m || return 1
	local k=$d/figures.kv
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
# Files of one hwmon chip vanish, hold garbage and turn into a FIFO under a running daemon
# (benchtool faults, snapshots in $d), then SIGKILL and restart.
faults() {
	local sys=$TMP/sysfs p pid
	rm -rf "$sys"
	cp -a "$FIXTURE_SYSFS" "$sys"
	p=$(free_port)
	# Short interval so staleness (3 intervals) shows within seconds.
	start "$d/edge.log" "$EDGE" --path.sysfs="$sys" --path.cgroupfs="$FIXTURE_CGROUP" \
		--web.listen-address=127.0.0.1:"$p" --poll.interval=1s --sensors.stale-after=3
	pid=$STARTED
	wait_http "http://127.0.0.1:$p/metrics"
	"$BT" faults -url "http://127.0.0.1:$p" -pid "$pid" -sysfs "$sys" -chip "$sys/devices/platform/coretemp.0/hwmon/hwmon0" \
		-sensor hwmon_coretemp_platform_coretemp_0_temp -out "$d" >"$d/faults.kv"
	stop "$pid"

	# SIGKILL, then restart: time from the new start to READY=1 and to a 200.
	p=$(free_port)
	"$BT" ready -after-sigkill -notify -url "http://127.0.0.1:$p/metrics" -runs "$RUNS" -log "$d/restart.log" -- \
		"$EDGE" $(edge_args "$p") >"$d/restart.kv"
	"$BT" faults-report -load-before "$lb" -load-after "$(load)" -sysfs "$sys" "$d"
}

# ---------------------------------------------------------------- host
# What the host collectors cost: the daemon of $BASE_REV against this one
# without and with them, on the Raspberry Pi fixture, each alone (two at once
# would share executable pages), in turn $HOST_RUNS times, with the unit's
# Go settings; then one poll of each in a Go benchmark.
host_variant() { # NAME RUN: start, scrape $HOST_SCRAPES times $HOST_INTERVAL apart, stop
	local fx=$ROOT/test/fixtures port pid bin=$EDGE extra
	extra=(--path.rootfs="$fx/host/rootfs")
	case $1 in
	base) bin=$TMP/edge-base extra=() ;;
	off) extra+=(--collector.disable-defaults) ;;
	esac
	port=$(free_port)
	start "$d/$1.log" env GOMEMLIMIT=16MiB GODEBUG=disablethp=1 "$bin" --path.sysfs="$fx/host/sys" --path.procfs="$fx/host/proc" \
		--path.cgroupfs="$FIXTURE_CGROUP" --clock.timex-file="$fx/clock/synchronized" --poll.interval="$HOST_POLL" \
		--web.listen-address=127.0.0.1:"$port" "${extra[@]}"
	pid=$STARTED
	wait_http "http://127.0.0.1:$port/metrics"
	"$BT" footprint -pid "$pid" -url "http://127.0.0.1:$port/metrics" -scrapes "$HOST_SCRAPES" -interval "$HOST_INTERVAL" >"$d/$1-$2.kv"
	curl -s "http://127.0.0.1:$port/metrics" | grep -c -v '^#' >"$d/$1-$2.samples"
	stop "$pid"
}

host() {
	mkdir -p "$TMP/base"
	git archive "$BASE_REV" | tar -x -C "$TMP/base"
	(cd "$TMP/base" && go build -trimpath -ldflags '-s -w' -o "$TMP/edge-base" ./cmd/edge-sensord)
	local i v k
	for i in $(seq "$HOST_RUNS"); do
		for v in base off on; do host_variant "$v" "$i"; done
	done
	for v in base off on; do
		for k in idle_rss_kib after_rss_kib after_pss_kib after_rss_anon_kib after_rss_file_kib cpu_ms_total; do
			for i in $(seq "$HOST_RUNS"); do kv "$d/$v-$i.kv" "$k"; done | "$BT" stats "${v}_$k" >>"$d/stats.kv"
		done
	done
	go test -run '^$' -bench BenchmarkDaemonPoll -benchtime 400x -count "$BENCH_COUNT" -cpu 1 ./cmd/edge-sensord >"$d/gobench.txt" 2>&1
	host_report "$(load)"
}

host_report() { # LOAD-AFTER
	local s=$d/stats.kv
	med() { kv "$s" "$1_$2_median"; }
	row() { # LABEL KEY MIB?
		local b o n
		b=$(med base "$2") o=$(med off "$2") n=$(med on "$2")
		if [ "${3:-}" = mib ]; then b=$(kib_mib "$b") o=$(kib_mib "$o") n=$(kib_mib "$n"); fi
		printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$b" "$o" "$n" "$(ratio "$o" "$b")" "$(ratio "$n" "$b")"
	}
	echo "### Host collectors: the daemon of $BASE_REV, and this one without and with them"
	echo
	machine_md
	echo "Load average before: $lb; after: $1. Each daemon alone on test/fixtures/host (proc, sys, rootfs) and test/fixtures/cgroup/v2, polling every $HOST_POLL, with GOMEMLIMIT=16MiB GODEBUG=disablethp=1 as its unit sets them; $HOST_SCRAPES scrapes $HOST_INTERVAL apart after 3 s idle; medians of $HOST_RUNS runs, in turn. Samples per scrape: $(cat "$d/base-1.samples"), $(cat "$d/off-1.samples"), $(cat "$d/on-1.samples")."
	echo
	echo "| Measure | $BASE_REV | host collectors off | host collectors on | off / $BASE_REV | on / $BASE_REV |"
	echo "|---|---|---|---|---|---|"
	row "RSS idle (MiB)" idle_rss_kib mib
	row "RSS after (MiB)" after_rss_kib mib
	row "PSS after (MiB)" after_pss_kib mib
	row "RssAnon after (MiB)" after_rss_anon_kib mib
	row "RssFile after (MiB)" after_rss_file_kib mib
	row "CPU ms over the scrapes (utime+stime)" cpu_ms_total
	echo
	echo "One poll (\`go test -run '^\$' -bench BenchmarkDaemonPoll -benchtime 400x -count $BENCH_COUNT -cpu 1 ./cmd/edge-sensord\`; raw: results/host/gobench.txt), median per benchmark; cpu-ns/op is the process's user and system time per poll:"
	echo
	echo "| Benchmark | ns/op | B/op | allocs/op | cpu-ns/op |"
	echo "|---|---|---|---|---|"
	"$BT" gobench "$d/gobench.txt"
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
for p in footprint shipped scaling abuse dashboard page querymem attack faults fuzz host; do
	if [ -f "$RESULTS/$p.md" ]; then cat "$RESULTS/$p.md"; echo; fi
done >"$RESULTS/summary.md"
echo "summary: $RESULTS/summary.md" >&2
if [ "$FUZZ_RC" -ne 0 ]; then
	echo "fuzzing found a failure: $RESULTS/fuzz/fuzz.log" >&2
	exit 1
fi
