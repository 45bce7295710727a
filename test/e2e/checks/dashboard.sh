# shellcheck shell=bash
# e2e checks: dashboard.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

# browser_check [ALERT,...]: the page in headless Chromium on the host, as a person on another
# machine opens it (TestBrowserInstalledDashboard): every panel drawn, the first
# charts with data from the installed Prometheus, no errors, nothing off the origin;
# and each ALERT listed firing, in words, in the page's health summary.
browser_check() {
	local out
	need_tools chromium:chromium
	[ -x "$WORK/browser.test" ] ||
		(cd "$REPO" && go test -c -tags 'integration browser' -o "$WORK/browser.test" ./test/integration) \
			>"$WORK/logs/browser-build.log" 2>&1 || fail "building the browser test failed: $(tail -n 5 "$WORK/logs/browser-build.log")"
	out=$(GEXEC_TIMEOUT=600 hostnet env EDGE_DASHBOARD_URL="$(sensord_host_url)" EDGE_EXPECT_FIRING="${1:-}" \
		"$WORK/browser.test" -test.run '^TestBrowserInstalledDashboard$' -test.v -test.count=1 2>&1) || true
	echo "$out" >"$WORK/logs/browser${1:+-firing}.log"
	grep -q -- '--- PASS: TestBrowserInstalledDashboard' <<<"$out" ||
		fail "the page in Chromium: $(grep -v '^=== RUN' <<<"$out" | head -n 8 | tr '\n' ' ')"
	detail "browser=chromium,$(grep -o 'panels=[0-9]* with_data=[0-9]*' <<<"$out" | tr ' ' ',')"
}

check_dashboard() {
	requires check_units
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local js n id kind i q end code ok=0 data=0 cur high page asset assets=0 r
	# The page and every asset it names, from the installed binary.
	page=$(gnet curl -sf --max-time 5 "$SENSORD/") || fail "GET / failed"
	echo "$page" | grep -q '<title>' || fail "GET / is no HTML page: $(echo "$page" | head -c 200)"
	for asset in $(echo "$page" | grep -o '"static/[^"?]*' | tr -d '"' | sort -u); do
		code=$(gnet curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SENSORD/$asset")
		[ "$code" = 200 ] || fail "GET $asset answered $code"
		assets=$((assets + 1))
	done
	[ "$assets" -ge 2 ] || fail "the page names only $assets assets under /static/"
	js=$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard") || fail "GET /api/dashboard failed"
	echo "$js" >"$WORK/logs/dashboard.json"
	[ "$(echo "$js" | jq -r .history)" = true ] || fail "/api/dashboard: history is not true under systemd: $(echo "$js" | jq -c 'del(.panels)')"
	n=$(echo "$js" | jq '[.panels[].queries[]] | length')
	[ "$n" -gt 20 ] || fail "/api/dashboard lists only $n queries"
	# Every panel's queries, charts over the last 12 hours at the page's resolution, three rounds,
	# run by the daemon on Prometheus under the units' hardening.
	end=$(date +%s)
	for _ in 1 2 3; do
		while read -r id kind i; do
			q="$SENSORD/api/panels/$id/$i"
			[ "$kind" = stat ] || q="$q?start=$((end - 43200))&end=$end&step=44"
			r=$(gnet curl -sf --max-time 30 "$q") &&
				echo "$r" | jq -e '.status == "success"' >/dev/null || fail "panel $id query $i through edge-sensord failed: $r"
			echo "$r" | jq -e '[.data.result[] | (.values // [.value]) | length] | add > 0' >/dev/null && data=$((data + 1))
			ok=$((ok + 1))
		done < <(echo "$js" | jq -r '.panels[] | . as $p | range(.queries | length) | "\($p.id) \($p.kind) \(.)"')
	done
	# The charts a person looks at first have data from the installed Prometheus: the sensors
	# and the units' memory (some panels, e.g. OOM kills or failures, are rightly empty).
	for expr in edge_sensor_temperature_celsius 'edge_unit_memory_bytes'; do
		echo "$js" | jq -r '.panels[].queries[].expr' | grep -q "^$expr" || fail "no panel queries $expr"
	done
	[ "$data" -ge $((ok / 2)) ] || fail "only $data of $ok panel queries returned data"
	browser_check
	code=$(gnet curl -s -o /dev/null -w '%{http_code}' -X POST "$SENSORD/-/quit")
	[ "$code" = 404 ] || fail "POST /-/quit through edge-sensord answered $code, want 404"
	# No PromQL of a client's: the free-form query API is not served.
	code=$(gnet curl -s -o /dev/null -w '%{http_code}' -G "$SENSORD/api/v1/query" --data-urlencode 'query={__name__=~".+"}[12h]')
	[ "$code" = 404 ] || fail "GET /api/v1/query through edge-sensord answered $code, want 404"
	is_active prometheus.service || fail "prometheus.service not active after the dashboard queries"
	cur=$(prop edge-sensord.service MemoryCurrent)
	high=$(prop edge-sensord.service MemoryHigh)
	[ "$cur" -lt "$high" ] || fail "edge-sensord uses $(mib "$cur") after the queries, over its MemoryHigh $(mib "$high")"
	detail "page+assets=$assets queries=$ok with_data=$data edge-sensord=$(mib "$cur")/$(mib "$high") quit=404 free-form=404"
}
