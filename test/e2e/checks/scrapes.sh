# shellcheck shell=bash
# e2e checks: scrapes.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

set_fast_scrape() { # job edge-sensord in the conffile: scrape every $INTERVAL
	local f=/etc/edge-observability/prometheus.yml
	gexec test -f $f || fail "$f not installed"
	gcat $f | scrape_every "$INTERVAL" >"$WORK/prometheus.yml" || fail "no job_name: edge-sensord in prometheus.yml"
	gput "$WORK/prometheus.yml" $f
}

running_config_has_interval() {
	gnet curl -sf "$PROM/api/v1/status/config" | jq -r .data.yaml | grep -q "scrape_interval: $INTERVAL\$"
}

# up_window W T: "scrapes successes" of edge-sensord in the W seconds before T,
# from one query: a scrape that started before T may be stored after a first
# query, so two queries at the same T can count it once and not the other time.
up_window() {
	gnet curl -sf "$PROM/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[$1s]" --data-urlencode "time=$2" |
		jq -r '(.data.result[0].values // []) | "\(length) \(map(select(.[1] == "1")) | length)"'
}

check_scrapes() {
	requires check_units
	set_fast_scrape
	gexec sha256sum /etc/edge-observability/prometheus.yml | cut -d' ' -f1 >"$WORK/prometheus.yml.sha"
	local t0
	t0=$(date +%s)
	gexec systemctl restart prometheus.service || fail "systemctl restart prometheus failed"
	wait_for 120 "prometheus ready" prom_ready
	running_config_has_interval || fail "running Prometheus config has no scrape_interval $INTERVAL (edited conffile not used?)"
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	# Wait (bounded) until the window since the restart holds enough scrapes.
	local limit=$((SCRAPES * INTERVAL_MS * 3 / 2000 + 60)) n=0 ok=0 w now # the scrapes' time plus half again
	local end=$((SECONDS + limit))
	while :; do
		now=$(date +%s)
		w=$((now - t0))
		read -r n ok < <(up_window "$w" "$now")
		[ "${n:-0}" -ge "$SCRAPES" ] && break
		[ $SECONDS -lt $end ] || fail "only ${n:-0} scrapes of edge-sensord in ${w}s (want $SCRAPES)"
		sleep 5
	done
	local samples dup thr dur
	# CPU throttling of the daemon by its CPUQuota= (informative; explains slow scrapes).
	thr=$(cpu_throttled edge-sensord.service || true)
	dur=$(prom_query "max_over_time(scrape_duration_seconds{job=\"edge-sensord\"}[${w}s])" "$now")
	if [ "$ok" != "$n" ]; then
		note "longest scrape: ${dur}s; host load average: $(cut -d' ' -f1-3 /proc/loadavg); last error: $(gnet curl -sf "$PROM/api/v1/targets?state=active" | jq -r '.data.activeTargets[] | select(.labels.job=="edge-sensord") | .lastError')"
		note "failed scrapes at: $(gnet curl -sf "$PROM/api/v1/query" --data-urlencode "query=up{job=\"edge-sensord\"}[${w}s]" --data-urlencode "time=$now" |
			jq -r '[.data.result[0].values[] | select(.[1]=="0") | (.[0] | strftime("%T"))] | join(" ")')"
		note "edge-sensord CPU periods throttled: $thr"
		fail "scrapes=$n failed=$((n - ${ok:-0})) in the ${w}s window (interval=timeout=$INTERVAL)"
	fi
	samples=$(prom_query "min_over_time(scrape_samples_scraped{job=\"edge-sensord\"}[${w}s])" "$now")
	[ "${samples:-0}" -gt 0 ] || fail "scrape_samples_scraped of edge-sensord was ${samples:-absent}"
	dup=$(prom_query 'sum(prometheus_target_scrapes_sample_duplicate_timestamp_total) + sum(prometheus_target_scrapes_sample_out_of_order_total)' "$now")
	[ -z "$dup" ] || [ "$dup" = 0 ] || fail "Prometheus rejected samples (duplicate/out-of-order timestamps): $dup"
	detail "scrapes=$n failed=0 interval=$INTERVAL window=${w}s min_samples_per_scrape=$samples rejected_samples=${dup:-n/a} sensord_cpu_throttled_periods=$thr max_scrape_duration=${dur}s"
}
