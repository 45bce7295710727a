# shellcheck shell=bash
# The checks of the end-to-end test; sourced by run.sh, which plans them per
# guest. They use only test/lib's helpers (gexec, prop, prom_query, the
# version-neutral cgroup readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

# ----------------------------------------------------------------- the guest
# The guest under test as the log shows it: kernel, systemd, cgroup mount.
guest_facts() {
	note "guest kernel: $(gexec uname -r); $(gexec systemctl --version | head -n1)"
	note "guest /proc/mounts: $(gexec grep ' /sys/fs/cgroup' /proc/mounts | tr '\n' ';')"
	note "guest root cgroup.controllers: $(gexec cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || echo none)"
}

# guest_v2_debian13: cgroup2 alone at /sys/fs/cgroup, systemd 257, Debian 13.
guest_v2_debian13() {
	local fstype v1 sd os
	fstype=$(gexec awk '$2=="/sys/fs/cgroup" {print $3}' /proc/mounts)
	[ "$fstype" = cgroup2 ] || fail "/sys/fs/cgroup is '$fstype', want cgroup2"
	v1=$(gexec awk '$3=="cgroup" {print $2}' /proc/mounts)
	[ -z "$v1" ] || fail "cgroup v1 hierarchies mounted: $v1"
	sd=$(gexec systemctl --version | head -n1)
	case $sd in "systemd 257 "*) ;; *) fail "guest runs '$sd', want systemd 257" ;; esac
	os=$(gexec sh -c '. /etc/os-release && echo "$VERSION_ID"')
	[ "$os" = 13 ] || fail "guest is Debian '$os', want 13"
	detail "cgroup=cgroup2-only systemd=\"$sd\" debian=$os kernel=$(gexec uname -r)"
}

check_guest_v2() {
	guest_facts
	guest_v2_debian13
	gexec grep -qw memory /sys/fs/cgroup/cgroup.controllers || fail "no memory controller in the root cgroup.controllers"
}

check_guest_arm64() {
	guest_facts
	guest_v2_debian13
	local m a
	m=$(gexec uname -m)
	a=$(gexec dpkg --print-architecture)
	[ "$m" = aarch64 ] && [ "$a" = arm64 ] || fail "guest is $m/$a, want aarch64/arm64"
	detail "machine=$m dpkg_arch=$a cpu=\"$(gexec sh -c 'grep -m1 -i "^CPU part\|^model name" /proc/cpuinfo || true' | tr -s ' \t')\""
}

check_guest_nomemcg() {
	guest_facts
	guest_v2_debian13
	gexec grep -qw cgroup_disable=memory /proc/cmdline || fail "kernel command line lacks cgroup_disable=memory: $(gexec cat /proc/cmdline)"
	! gexec grep -qw memory /sys/fs/cgroup/cgroup.controllers ||
		fail "the memory controller is on despite cgroup_disable=memory: $(gexec cat /sys/fs/cgroup/cgroup.controllers)"
	detail "cmdline=cgroup_disable=memory controllers=\"$(gexec cat /sys/fs/cgroup/cgroup.controllers)\""
}

# ----------------------------------------------------------- install, units
check_install() {
	# The package file, or the package by name from the signed repository (INSTALL_FROM=repo).
	local pkg=/debs/${DEB##*/}
	if [ "${INSTALL_FROM:-file}" = repo ]; then
		mkdir -p "$WORK/dist-v1"
		cp "$DEB" "$WORK/dist-v1/"
		publish_repo "$WORK/dist-v1"
		pkg=edge-observability
	fi
	# --no-install-recommends: Debian's prometheus recommends node-exporter and
	# its collectors (nvme-cli, smartmontools, ...), which are not part of
	# this stack and triple the install time. man-db: to read the package's manual pages.
	GEXEC_TIMEOUT=1200 gexec apt-get install -y --no-install-recommends "$pkg" man-db >"$WORK/logs/install.log" 2>&1 || {
		tail -n 40 "$WORK/logs/install.log" >&2
		fail "apt-get install of $pkg failed (log above)"
	}
	local st ver pver
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "edge-observability not installed after apt-get (status '$st')"
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$OLD_VERSION" ] || fail "installed version $ver, expected $OLD_VERSION"
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' prometheus 2>/dev/null || true)
	[ "${st% }" = ii ] || fail "prometheus was not pulled in (status '$st')"
	pver=$(gexec dpkg-query -W -f='${Version}' prometheus)
	grep -q 'prometheus' "$WORK/logs/install.log" || fail "apt log does not mention prometheus"
	note "guest: $(gexec prometheus --version 2>&1 | head -n1)"
	local p
	for p in edge-sensord edgectl; do
		gexec env MANWIDTH=80 man "$p" 2>&1 | grep -Eq "^ +$p +- " || fail "man $p: $(gexec env MANWIDTH=80 man "$p" 2>&1 | head -n 5)"
	done
	# The postinst says whether the kernel enforces the budget (edgectl status --check=cgroup).
	grep -Eq '^(problem: )?memory budget (enforced|NOT enforced): ' "$WORK/logs/install.log" ||
		fail "postinst printed no cgroup verdict (see install.log)"
	# Informative: Debian's prometheus postinst may start prometheus.service
	# with our drop-in before our conffiles are configured.
	local early
	early=$(gexec journalctl --no-pager -u prometheus.service 2>/dev/null | grep -c "Failed with result" || true)
	detail "version=$ver from=${INSTALL_FROM:-file} prometheus=$pver prometheus_failed_starts_during_install=$early man_pages=ok"
}

# in_cgroup UNIT: its main process is in the unit's cgroup (v1: memory and
# name=systemd hierarchies; v2: the unified one).
in_cgroup() {
	local u=$1 pid want cg c
	pid=$(main_pid "$u")
	[ "${pid:-0}" -gt 0 ] || fail "$u has no MainPID"
	want=$(prop "$u" ControlGroup)
	cg=$(gexec cat /proc/"$pid"/cgroup)
	if [ "$CG_V" = 2 ]; then
		[ "$cg" = "0::$want" ] || fail "$u (PID $pid) is not in $want: $(echo "$cg" | tr '\n' ' ')"
		return 0
	fi
	for c in memory 'name=systemd'; do
		echo "$cg" | grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:$want\$" >/dev/null ||
			fail "$u (PID $pid) is not in $want for $c: $(echo "$cg" | tr '\n' ' ')"
	done
}

check_units() {
	requires check_install
	simulate_sensors
	local u want mm mh mf cq quota period info=""
	for u in edge-sensord.service prometheus.service; do
		[ "$(prop $u Slice)" = "$SLICE" ] || fail "$u: Slice=$(prop $u Slice), want $SLICE"
		# A dash in a slice name nests it: edge-observability.slice lives in edge.slice.
		want=$(prop $u ControlGroup)
		case $want in */"$SLICE/$u") ;; *) fail "$u: ControlGroup=$want is not below $SLICE" ;; esac
		in_cgroup $u
	done
	# The unit files' limits must be in the cgroups (systemd drops them
	# silently where it cannot write them).
	for u in "$SLICE" edge-sensord.service prometheus.service; do
		mm=$(prop "$u" MemoryMax)
		if [ "$mm" != infinity ]; then
			mf=$(mem_limit "$u") || fail "$u: no memory limit file"
			want=$((mm / 4096 * 4096)) # the kernel rounds down to pages
			[ "$mf" = "$want" ] || fail "$u: MemoryMax=$mm but the cgroup's limit is $mf"
			info+="$u:max=$(mib "$mm") "
		elif [ "$u" = "$SLICE" ]; then
			fail "$SLICE has no MemoryMax"
		fi
		mh=$(prop "$u" MemoryHigh)
		if [ "$CG_V" = 2 ] && [ "$mh" != infinity ]; then
			mf=$(cg_read "$u" memory memory.high) || fail "$u: no memory.high"
			[ "$mf" = "$((mh / 4096 * 4096))" ] || fail "$u: MemoryHigh=$mh but memory.high=$mf"
			info+="$u:high=$(mib "$mh") "
		fi
		cq=$(prop "$u" CPUQuotaPerSecUSec)
		if [ "$cq" != infinity ]; then
			mf=$(cpu_quota "$u") || fail "$u: no CPU quota file"
			read -r quota period <<<"$mf"
			want=$(($(usec "$cq") * period / 1000000))
			[ "$quota" = "$want" ] || fail "$u: CPUQuotaPerSecUSec=$cq but the cgroup's quota is $quota (period $period)"
			info+="$u:cpu=$((want * 100 / period))% "
		fi
	done
	[ "$(prop "$SLICE" MemoryMax)" -le "$BUDGET" ] || fail "$SLICE MemoryMax $(prop "$SLICE" MemoryMax) exceeds the 150M budget"
	# STATUS= from the daemon (sd_notify) shown by systemctl status.
	wait_for 30 "edge-sensord STATUS= mentioning sensors" status_mentions sensors
	local status
	status=$(gexec systemctl --no-pager status edge-sensord.service 2>&1 || true)
	echo "$status" | grep -E '^ +Status: ".*sensors' >/dev/null || fail "systemctl status shows no Status: line with 'sensors': $status"
	note "status: $(prop edge-sensord.service StatusText)"
	detail "cgroup=v$CG_V ${info}status=\"$(prop edge-sensord.service StatusText)\""
}

status_mentions() { prop edge-sensord.service StatusText | grep -q -- "$1"; }

# check_host: the host collectors under the hardened unit read the host, not
# the unit's own namespace, whose mount table has ProtectSystem='s read-only
# binds: / in node_filesystem_readonly is as findmnt sees it in the guest, its
# statfs answers, and the families every Linux machine has are there, their
# collectors successful.
check_host() {
	requires check_units
	local m ro want f
	m=$(gnet curl -sf --max-time 5 "$SENSORD/metrics") || fail "no /metrics from edge-sensord"
	ro=$(printf '%s\n' "$m" | sed -n 's/^node_filesystem_readonly{.*mountpoint="\/"[,}].* \([01]\)$/\1/p')
	[ -n "$ro" ] || fail "no node_filesystem_readonly for /: $(printf '%s\n' "$m" | grep -m3 '^node_filesystem_readonly' || true)"
	want=0
	gexec findmnt -no OPTIONS / | grep -Eq '(^|,)ro(,|$)' && want=1
	[ "$ro" = "$want" ] || fail "node_filesystem_readonly of / is $ro, findmnt in the guest says $want"
	printf '%s\n' "$m" | grep -Eq '^node_filesystem_device_error\{.*mountpoint="/"[,}].* 0$' ||
		fail "statfs of / failed in the unit: $(printf '%s\n' "$m" | grep '^node_filesystem_device_error' || true)"
	for f in node_cpu_seconds_total node_memory_MemAvailable_bytes node_load1 node_boot_time_seconds node_network_up node_disk_written_bytes_total node_uname_info; do
		printf '%s\n' "$m" | grep -q "^${f}[{ ]" || fail "edge-sensord exports no $f"
	done
	f=$(printf '%s\n' "$m" | grep -E '^edge_sensor_scrape_collector_success\{collector="(cpu|stat|loadavg|meminfo|pressure|filesystem|diskstats|netdev|netclass|time|uname|cpufreq|rpi|mmc)"\} 0$' || true)
	[ -z "$f" ] || fail "host collectors failed: $f $(gexec journalctl -u edge-sensord -o cat | grep -m3 'collector failed' || true)"
	detail "readonly(/)=$ro mounts=$(printf '%s\n' "$m" | grep -c '^node_filesystem_device_error')"
}

# ------------------------------------------------------------------ scrapes
set_fast_scrape() { # job edge-sensord in the conffile: scrape every $INTERVAL
	local f=/etc/edge-observability/prometheus.yml
	gexec test -f $f || fail "$f not installed"
	gcat $f | scrape_every "$INTERVAL" >"$WORK/prometheus.yml" || fail "no job_name: edge-sensord in prometheus.yml"
	gput "$WORK/prometheus.yml" $f
}

running_config_has_interval() {
	gnet curl -sf "$PROM/api/v1/status/config" | jq -r .data.yaml | grep -q "scrape_interval: $INTERVAL\$"
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
	local limit=$((SCRAPES * INTERVAL_MS * 3 / 2000 + 60)) n=0 w now # the scrapes' time plus half again
	local end=$((SECONDS + limit))
	while :; do
		now=$(date +%s)
		w=$((now - t0))
		n=$(prom_query "count_over_time(up{job=\"edge-sensord\"}[${w}s])" "$now")
		[ "${n:-0}" -ge "$SCRAPES" ] && break
		[ $SECONDS -lt $end ] || fail "only ${n:-0} scrapes of edge-sensord in ${w}s (want $SCRAPES)"
		sleep 5
	done
	local ok samples dup thr dur
	ok=$(prom_query "sum_over_time(up{job=\"edge-sensord\"}[${w}s])" "$now")
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

# ------------------------------------------------------------------- budget
check_budget() {
	requires check_units
	wait_for 30 "edge-sensord and prometheus active" all_active edge-sensord.service prometheus.service
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	local rc=0 js u0 u1 used max mc u cgmem jmem info=""
	u0=$(mem_current "$SLICE")
	# --window 1m: scrape health now, not the scrape run of the scrapes check (judged there).
	js=$(gexec edgectl status --json --window 1m 2>"$WORK/logs/edgectl.err") || rc=$?
	u1=$(mem_current "$SLICE")
	echo "$js" >"$WORK/logs/edgectl-status.json"
	[ "$rc" = 0 ] || fail "edgectl status exited $rc on a healthy stack: problems=$(echo "$js" | jq -c '.problems, .unknown' 2>/dev/null) $(cat "$WORK/logs/edgectl.err")"
	echo "$js" | jq -e . >/dev/null || fail "edgectl status --json printed invalid JSON: $js"
	[ "$(echo "$js" | jq -r .memory_budget.enforced)" = true ] || fail "edgectl says the kernel does not enforce the budget: $(echo "$js" | jq -c .memory_budget)"
	grep -q '^memory budget enforced: ' "$WORK/logs/install.log" || fail "the install did not say the budget is enforced: $(grep -i 'memory budget' "$WORK/logs/install.log")"
	max=$(prop "$SLICE" MemoryMax)
	used=$(echo "$js" | jq -r .total.memory_bytes)
	[ "$used" -lt "$BUDGET" ] || fail "slice memory $(mib "$used") not under the 150M budget"
	[ "$used" -lt "$max" ] || fail "slice memory $(mib "$used") not under its MemoryMax $(mib "$max")"
	[ "$(echo "$js" | jq -r .total.budget_bytes)" = "$((max / 4096 * 4096))" ] ||
		fail "edgectl budget $(echo "$js" | jq -r .total.budget_bytes) != slice limit $max"
	# Both read the same cgroup files a moment apart: compare with a tolerance.
	within "$used" "$(((u0 + u1) / 2))" $((4 << 20)) 10 ||
		fail "edgectl slice memory $used vs the cgroup's $u0..$u1"
	info+="slice=$(mib "$used")/$(mib "$max") "
	for u in edge-sensord.service prometheus.service; do
		jmem=$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .memory_bytes')
		[ -n "$jmem" ] || fail "edgectl status --json has no unit $u: $(echo "$js" | jq -c '[.units[].unit]')"
		cgmem=$(mem_current "$u")
		within "$jmem" "$cgmem" $((2 << 20)) 10 || fail "edgectl $u memory $jmem vs the cgroup's $cgmem"
		[ "$(echo "$js" | jq -r --arg u "$u" '.units[] | select(.unit==$u) | .active_state')" = active ] ||
			fail "edgectl says $u is not active: $(echo "$js" | jq -c --arg u "$u" '.units[] | select(.unit==$u)')"
		mc=$(prop "$u" MemoryCurrent)
		info+="$u=$(mib "$jmem")(cgroup $(mib "$cgmem"),systemd $(mib "$mc")) "
	done
	gexec edgectl status >"$WORK/logs/edgectl-status.txt" 2>&1 || true
	# The daemon exports the same accounting (read at its last poll, so only
	# the limit is compared exactly).
	local dmax dmem
	dmax=$(prom_query "edge_unit_memory_max_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	[ "$dmax" = "$((max / 4096 * 4096))" ] || fail "edge_unit_memory_max_bytes{unit=\"$SLICE\"} is '${dmax}', want $((max / 4096 * 4096))"
	dmem=$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$SLICE\"}")
	within "${dmem:-0}" "$used" $((8 << 20)) 25 || fail "edge_unit_memory_bytes{unit=\"$SLICE\"} is '${dmem}', edgectl says $used"
	for u in edge-sensord.service prometheus.service; do
		[ -n "$(prom_query "edge_unit_memory_bytes{job=\"edge-sensord\",unit=\"$u\"}")" ] || fail "the daemon exports no edge_unit_memory_bytes for $u"
	done
	info+="daemon_slice_metrics=ok "
	local io_info
	check_io_written
	info+="$io_info "
	# A budget below the use is reported as such.
	rc=0
	js=$(gexec edgectl status --json --budget 1M 2>/dev/null) || rc=$?
	[ "$rc" = 1 ] || fail "edgectl status --budget 1M exited $rc, want 1 (over budget)"
	[ "$(echo "$js" | jq -r .total.over_budget)" = true ] || fail "edgectl --budget 1M: over_budget is not true"
	# A stopped unit makes the stack unhealthy.
	gexec systemctl stop edge-sensord.service
	rc=0
	js=$(gexec edgectl status --json 2>/dev/null) || rc=$?
	gexec systemctl start edge-sensord.service
	[ "$rc" = 1 ] || fail "edgectl status exited $rc with edge-sensord stopped, want 1"
	echo "$js" | jq -r '.problems[]' | grep -q edge-sensord || fail "edgectl problems do not name edge-sensord: $(echo "$js" | jq -c .problems)"
	wait_for 60 "edge-sensord active again" is_active edge-sensord.service
	wait_for 60 "target edge-sensord up again" target_up edge-sensord
	detail "${info}edgectl=0 over_budget_exit=1 stopped_unit_exit=1"
}

# check_io_written: with IO accounting (the units set IOAccounting=yes; the io
# controller exists on v2 only, and a container may not be given it) the daemon
# exports what Prometheus wrote to disk, read from io.stat and never past it;
# without io.stat the metric is absent, not 0. Reads js (edgectl status --json)
# and sets io_info for the caller's detail line.
check_io_written() {
	local stat w jw
	if ! cg_file prometheus.service io io.stat >/dev/null; then
		# Absent only where the guest has no io controller to enable (v1, or not delegated).
		[ "$CG_V" = 2 ] && gcat /sys/fs/cgroup/cgroup.controllers | grep -qw io &&
			fail "prometheus.service has no io.stat though the guest offers the io controller (IOAccounting=$(prop prometheus.service IOAccounting))"
		[ -z "$(prom_query "edge_unit_io_write_bytes_total{job=\"edge-sensord\",unit=\"prometheus.service\"}")" ] ||
			fail "edge_unit_io_write_bytes_total exported for prometheus.service, whose cgroup has no io.stat"
		io_info="io.stat=absent io_metric=absent"
		return
	fi
	w=$(prom_query "edge_unit_io_write_bytes_total{job=\"edge-sensord\",unit=\"prometheus.service\"}")
	stat=$(cg_read prometheus.service io io.stat | grep -o 'wbytes=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	[ -n "$w" ] && [ "$w" -gt 0 ] && [ "$w" -le "$stat" ] ||
		fail "edge_unit_io_write_bytes_total{unit=\"prometheus.service\"} is '$w', io.stat sums $stat written since"
	# edgectl status --json of the caller, read before both.
	jw=$(echo "$js" | jq -r '.units[] | select(.unit=="prometheus.service") | .io_write_bytes // empty')
	[ -n "$jw" ] && [ "$jw" -gt 0 ] && [ "$jw" -le "$stat" ] ||
		fail "edgectl status --json: io_write_bytes of prometheus.service is '$jw', io.stat sums $stat written since"
	io_info="prometheus_io_written=$w(edgectl=$jw,io.stat=$stat)"
}

# ---------------------------------------------------------------- dashboard
# browser_check: the page in headless Chromium on the host, as a person on another
# machine opens it (TestBrowserInstalledDashboard): every panel drawn, the first
# charts with data from the installed Prometheus, no errors, nothing off the origin.
browser_check() {
	local out
	need_tools chromium:chromium
	(cd "$REPO" && go test -c -tags 'integration browser' -o "$WORK/browser.test" ./test/integration) \
		>"$WORK/logs/browser-build.log" 2>&1 || fail "building the browser test failed: $(tail -n 5 "$WORK/logs/browser-build.log")"
	out=$(GEXEC_TIMEOUT=600 hostnet env EDGE_DASHBOARD_URL="$(sensord_host_url)" \
		"$WORK/browser.test" -test.run '^TestBrowserInstalledDashboard$' -test.v -test.count=1 2>&1) || true
	echo "$out" >"$WORK/logs/browser.log"
	grep -q -- '--- PASS: TestBrowserInstalledDashboard' <<<"$out" ||
		fail "the page in Chromium: $(grep -v '^=== RUN' <<<"$out" | head -n 8 | tr '\n' ' ')"
	detail "browser=chromium,$(grep -o 'panels=[0-9]* with_data=[0-9]*' <<<"$out" | tr ' ' ',')"
}

check_dashboard() {
	requires check_units
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local js n expr end code ok=0 data=0 cur high page asset assets=0 r
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
	# Every panel query over the last 12 hours at the page's resolution, three rounds, through
	# the daemon's proxy to Prometheus under the units' hardening.
	end=$(date +%s)
	for _ in 1 2 3; do
		while IFS= read -r expr; do
			r=$(gnet curl -sf --max-time 30 "$SENSORD/api/v1/query_range" --data-urlencode "query=$expr" \
				--data-urlencode "start=$((end - 43200))" --data-urlencode "end=$end" --data-urlencode step=44) &&
				echo "$r" | jq -e '.status == "success"' >/dev/null || fail "query_range through edge-sensord failed: $expr"
			echo "$r" | jq -e '[.data.result[].values | length] | add > 0' >/dev/null && data=$((data + 1))
			ok=$((ok + 1))
		done < <(echo "$js" | jq -r '.panels[].queries[].expr')
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
	is_active prometheus.service || fail "prometheus.service not active after the dashboard queries"
	cur=$(prop edge-sensord.service MemoryCurrent)
	high=$(prop edge-sensord.service MemoryHigh)
	[ "$cur" -lt "$high" ] || fail "edge-sensord uses $(mib "$cur") after the queries, over its MemoryHigh $(mib "$high")"
	detail "page+assets=$assets queries=$ok with_data=$data edge-sensord=$(mib "$cur")/$(mib "$high") quit=404"
}

# -------------------------------------------------------------------- clock
# The installed daemon reads the clock's status under the unit's seccomp filter,
# agrees with systemd-timedated's NTPSynchronized (what edgectl status reads),
# Prometheus stores it, and the dashboard warns exactly when it is 0.
check_clock() {
	requires check_units
	wait_for 30 "target edge-sensord up" target_up edge-sensord
	local m ntp want warned
	m=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | sed -n 's/^edge_clock_synchronized //p')
	[ -n "$m" ] || fail "edge-sensord exports no edge_clock_synchronized: $(gexec journalctl -u edge-sensord -o cat | grep -m1 'clock status' || true)"
	ntp=$(gexec timedatectl show -p NTPSynchronized --value) || fail "timedatectl show -p NTPSynchronized failed"
	want=0
	[ "$ntp" = yes ] && want=1
	[ "$m" = "$want" ] || fail "edge_clock_synchronized $m, but timedated says NTPSynchronized=$ntp"
	wait_for 60 "Prometheus to store edge_clock_synchronized $m" prom_query_is 'edge_clock_synchronized{job="edge-sensord"}' "$m"
	warned=$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard" | jq '[.warnings[] | select(test("clock is not synchronised"))] | length')
	[ "$warned" = $((1 - m)) ] || fail "/api/dashboard carries $warned clock warnings with edge_clock_synchronized $m"
	detail "edge_clock_synchronized=$m (stored) NTPSynchronized=$ntp dashboard_warning=$warned"
}

# check_clock_steps (VM: a clock of its own): the guest's clock stepped back
# and then forward again, as NTP corrects a device without a real-time clock.
# The daemon polls on through the steps on its monotonic times (no stale
# sensor, no watchdog restart, a short "last poll … ago"); Prometheus rejects
# the samples stamped behind those it has, which edgectl status reports, and
# stores again once the clock is back; marked synchronised, the clock warning
# leaves /metrics, the dashboard and edgectl status.
check_clock_steps() {
	requires check_clock
	local u=edge-sensord.service n0 ooo0 ooo1 back=600 line stale st=0 behind=0
	n0=$(prop $u NRestarts)
	# From Prometheus's /metrics: its stored samples of the counters are stamped by the clock under test.
	ooo0=$(rejected) && [ -n "$ooo0" ] || fail "no prometheus_target_scrapes_sample_* counters on $PROM/metrics"
	gexec sh -c 'date -u -s "@$(($(date +%s) - $1))" >/dev/null' sh "$back" || fail "date -s (back ${back}s) failed"
	# Should the check fail from here on, the clock goes forward again for the checks after it.
	# shellcheck disable=SC2064 # $back is expanded now, on purpose
	trap "gexec sh -c 'date -u -s @\$((\$(date +%s) + $back))' >/dev/null 2>&1 || true" EXIT
	note "guest clock stepped back ${back}s"
	wait_for 60 "a poll stamped by the stepped clock" polled_since_step
	line=$(prop $u StatusText)
	stale=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | awk '/^edge_sensor_stale[{ ]/ { s += $NF } END { print s + 0 }')
	[ "$stale" = 0 ] || fail "$stale sensors stale after the clock went back ${back}s (status: $line)"
	[[ $line =~ last\ poll\ [0-9.]+m?s\ ago ]] || fail "status line after the step back: $line"
	wait_for 90 "Prometheus rejecting samples stamped behind its newest" rejected_above "$ooo0"
	ooo1=$(rejected)
	# Scrapes succeed meanwhile; edgectl status must still say that nothing is stored.
	gexec edgectl status --window 1m >"$WORK/logs/edgectl-behind.txt" 2>&1 || behind=$?
	[ "$behind" = 1 ] && grep -q 'ahead of the system clock' "$WORK/logs/edgectl-behind.txt" ||
		fail "edgectl status (exit $behind) does not report the samples stored ahead of the clock: $(grep -v '^$' "$WORK/logs/edgectl-behind.txt" | tail -n 3 | tr '\n' ' ')"
	gexec sh -c 'date -u -s "@$(($(date +%s) + $1))" >/dev/null && /opt/benchtool timex-sync >/dev/null' sh "$back" || fail "stepping forward and marking the clock synchronised failed"
	trap - EXIT
	note "guest clock stepped forward ${back}s and marked synchronised"
	wait_for 60 "edge_clock_synchronized 1" sensord_metric_is edge_clock_synchronized 1
	wait_for 90 "samples of job edge-sensord stored again" stored_since 20
	[ "$(gnet curl -sf --max-time 5 "$SENSORD/api/dashboard" | jq '[.warnings[] | select(test("clock"))] | length')" = 0 ] ||
		fail "the dashboard still warns about the clock once it is synchronised"
	gexec edgectl status --window 1m >"$WORK/logs/edgectl-clock.txt" 2>&1 || st=$?
	! grep -qi 'clock is not synchronised' "$WORK/logs/edgectl-clock.txt" || fail "edgectl status still warns about the clock (exit $st)"
	[ "$(prop $u NRestarts)" = "$n0" ] || fail "edge-sensord restarted during the clock steps (NRestarts $n0 -> $(prop $u NRestarts))"
	detail "clock_back=${back}s sensord_restarts=0 stale=0 rejected_samples=$ooo0->$ooo1 edgectl_behind=exit:$behind stored_again=yes synchronised_warning=cleared edgectl_exit=$st"
}

# polled_since_step: the daemon's last successful poll is stamped no later than
# the guest's stepped clock (a poll before the step is stamped ahead of it).
polled_since_step() {
	local t now
	t=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | awk '$1 == "edge_sensor_poll_last_success_timestamp_seconds" { printf "%d", $2 }')
	now=$(gexec date +%s)
	[ -n "$t" ] && [ "$t" -le $((now + 1)) ]
}
# rejected: samples of scrapes Prometheus refused for their timestamps. After a
# step back its scrape-time alignment stamps every scrape with the scheduled time
# of the last one before the step: rejected as out of order, or as duplicate
# timestamps where that scrape had been stamped with the same time.
rejected() {
	gnet curl -sf --max-time 5 "$PROM/metrics" |
		awk '$1 ~ /^prometheus_target_scrapes_sample_(out_of_order|duplicate_timestamp|out_of_bounds)_total$/ { s += $2; n++ } END { if (n) printf "%d\n", s }'
}
rejected_above() { local n; n=$(rejected) && [ -n "$n" ] && [ "$n" -gt "$1" ]; } # N
sensord_metric_is() { [ "$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | awk -v n="$1" '$1 == n { print $2 }')" = "$2" ]; } # NAME VALUE
stored_since() { [ -n "$(prom_query "count_over_time(up{job=\"edge-sensord\"}[${1}s]) > 0")" ]; } # SECONDS

# ----------------------------------------------------------------- watchdog
check_watchdog() {
	requires check_units
	local u=edge-sensord.service pid wd n0 n1 res seen="" since end newpid
	wait_for 30 "$u active" is_active $u
	pid=$(main_pid $u)
	wd=$(usec "$(prop $u WatchdogUSec)")
	[ "${wd:-0}" -gt 0 ] || fail "$u has no WatchdogSec"
	n0=$(prop $u NRestarts)
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	note "SIGSTOP to edge-sensord (PID $pid), WatchdogSec=$((wd / 1000000))s"
	gexec sh -c "kill -STOP $pid" # the shell's kill: minbase has no /bin/kill
	# Bounded: watchdog timeout + abort/kill + RestartSec + margin.
	end=$((SECONDS + wd / 1000000 + 60))
	while :; do
		res=$(prop $u Result)
		[ "$res" = watchdog ] && seen=watchdog
		n1=$(prop $u NRestarts)
		newpid=$(main_pid $u)
		if [ "$n1" -gt "$n0" ] && is_active $u && [ "$newpid" != 0 ] && [ "$newpid" != "$pid" ]; then break; fi
		if [ $SECONDS -ge $end ]; then
			gexec sh -c "kill -CONT $pid" 2>/dev/null || true
			fail "no watchdog restart within $((wd / 1000000 + 60))s (NRestarts $n0 -> $n1, Result=$res, MainPID $pid -> $newpid)"
		fi
		sleep 0.2
	done
	# Result= is reset when the restarted service starts; the journal keeps it.
	gexec journalctl --no-pager -u $u --since "$since" >"$WORK/logs/watchdog-journal.log" 2>&1 || true
	grep -q "Watchdog timeout" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no 'Watchdog timeout' for $u: $(tail -n 15 "$WORK/logs/watchdog-journal.log")"
	grep -q "Failed with result 'watchdog'" "$WORK/logs/watchdog-journal.log" ||
		fail "journal has no \"Failed with result 'watchdog'\" for $u"
	local t1
	t1=$(date +%s)
	wait_for 90 "scraping of edge-sensord to recover" recent_scrapes_ok edge-sensord "$t1"
	detail "restarts=$((n1 - n0)) result=watchdog${seen:+(seen live)} pid=$pid->$newpid scraping=recovered"
}

# ------------------------------------------------------------ memory limits
# run_hog UNIT SIZE [HOLD] [systemd-run options...]: /opt/memhog in the slice
# as a transient service, waited for; its output and journal go to the log.
run_hog() {
	local u=$1 size=$2 hold=$3
	shift 3
	GEXEC_TIMEOUT=600 gexec systemd-run --quiet --slice="$SLICE" --unit="$u" --wait \
		-p StandardOutput=journal "$@" /opt/memhog "$size" "$hold" >"$WORK/logs/$u.log" 2>&1 || true
	gexec journalctl --no-pager -u "$u.service" >>"$WORK/logs/$u.log" 2>&1 || true
}

check_memcap() {
	requires check_units
	local pids_before u res code status limit hits0 hits1 peak oom0="" oom1="" high0="" stall0="" since
	pids_before="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	limit=$(mem_limit "$SLICE") || fail "no memory limit file for $SLICE"
	hits0=$(mem_limit_hits "$SLICE")
	if [ "$CG_V" = 2 ]; then
		oom0=$(mem_event "$SLICE" oom_kill)
		high0=$(mem_event "$SLICE" high)
		stall0=$(memory_stall edge-sensord.service)
	fi
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	u=memhog-$$
	note "running /opt/memhog 400M in $SLICE (limit $(mib "$limit"))"
	run_hog "$u" 400M 2s
	res=$(prop "$u.service" Result)
	code=$(prop "$u.service" ExecMainCode)
	status=$(prop "$u.service" ExecMainStatus)
	if grep -q 'done: touched' "$WORK/logs/$u.log"; then
		fail "memhog touched 400M inside $SLICE: the memory cap did not hold"
	fi
	# v1: SIGKILL from the OOM killer (Result=signal, status 9); v2 says Result=oom-kill.
	case $CG_V/$res in 2/oom-kill | 1/oom-kill) ;; 1/signal) [ "$status" = 9 ] || fail "memhog killed by signal $status, want SIGKILL" ;;
	*) fail "memhog ended with Result=$res (code $code status $status), want oom-kill (or SIGKILL on v1)" ;;
	esac
	hits1=$(mem_limit_hits "$SLICE")
	peak=$(mem_peak "$SLICE")
	[ "$hits1" -gt "$hits0" ] || fail "$SLICE never hit its limit ($hits0 -> $hits1)"
	# The high-water mark may pass the limit by a few pages of forced charges.
	[ "$peak" -le $((limit + (2 << 20))) ] || fail "$SLICE peak usage $peak above its limit $limit"
	# v2 counts the kill in the slice's memory.events too (v1 only in the
	# victim's own cgroup, gone with it).
	if [ "$CG_V" = 2 ]; then
		oom1=$(mem_event "$SLICE" oom_kill)
		[ "$oom1" -gt "$oom0" ] || fail "$SLICE memory.events oom_kill did not rise ($oom0 -> $oom1)"
	fi
	gexec systemctl reset-failed "$u.service" 2>/dev/null || true
	# The stack survives its neighbour being killed.
	all_active edge-sensord.service prometheus.service || fail "edge-sensord/prometheus not active after the OOM kill"
	local pids_after t1
	pids_after="$(main_pid edge-sensord.service) $(main_pid prometheus.service)"
	# v2: while the hog is above the slice's MemoryHigh, every process of the
	# slice that allocates is throttled, the stack's too (informative).
	local stalled=""
	[ "$CG_V" = 2 ] && stalled="slice_high_events+=$(($(mem_event "$SLICE" high) - high0)) edge-sensord_memory_stall=$((($(memory_stall edge-sensord.service) - stall0) / 1000))ms"
	if [ "$pids_after" != "$pids_before" ]; then
		fail "the stack did not come through unharmed: MainPIDs $pids_before -> $pids_after ${stalled}; journal: $(
			gexec journalctl --no-pager -u edge-sensord.service -u prometheus.service --since "$since" |
				grep -E "Watchdog timeout|OOM killer|Failed with result" | tr '\n' ' ')"
	fi
	t1=$(date +%s)
	wait_for 90 "scraping of edge-sensord to continue" recent_scrapes_ok edge-sensord "$t1"
	detail "memhog=result:$res,status:$status slice_limit=$(mib "$limit") peak=$(mib "$peak") limit_hits+=$((hits1 - hits0))${oom1:+ oom_kill:$oom0->$oom1} ${stalled:+$stalled }stack=unharmed scraping=ok"
}

# memory_stall UNIT: microseconds its tasks stalled on memory (PSI "some" total, v2).
memory_stall() { cg_read "$1" memory memory.pressure | awk '$1=="some" {sub("total=", "", $5); print $5}'; }

# alert_firing NAME UNIT: Prometheus has ALERTS{alertname=NAME,unit=UNIT} firing.
alert_firing() {
	[ "$(prom_query "ALERTS{alertname=\"$1\",alertstate=\"firing\",unit=\"$2\"}")" = 1 ]
}

oom_counted() { # MIN: the daemon's counter of the slice is at least MIN
	[ "$(prom_query "edge_unit_oom_kills_total{job=\"edge-sensord\",unit=\"$SLICE\"}")" -ge "$1" ]
}

check_oom_alert() {
	requires check_memcap
	local rule kills
	# The shipped rule, as loaded by the installed Prometheus.
	rule=$(gnet curl -sf "$PROM/api/v1/rules?type=alert" |
		jq -c '[.data.groups[].rules[] | select(.name=="EdgeUnitOOMKilled")] | first // empty')
	[ -n "$rule" ] || fail "the installed Prometheus has no alerting rule EdgeUnitOOMKilled"
	[ "$(echo "$rule" | jq -r .health)" = ok ] || fail "rule EdgeUnitOOMKilled is unhealthy: $rule"
	wait_for 60 "edge_unit_oom_kills_total{unit=\"$SLICE\"} to count the kill" oom_counted 1
	kills=$(prom_query "edge_unit_oom_kills_total{job=\"edge-sensord\",unit=\"$SLICE\"}")
	[ "$kills" = "$(mem_event "$SLICE" oom_kill)" ] || fail "edge_unit_oom_kills_total is $kills, memory.events says $(mem_event "$SLICE" oom_kill)"
	# No for: in the rule: it fires at the first evaluation that sees the
	# increase (evaluation_interval 15s).
	wait_for 180 "alert EdgeUnitOOMKilled firing for $SLICE" alert_firing EdgeUnitOOMKilled "$SLICE"
	detail "edge_unit_oom_kills_total{unit=\"$SLICE\"}=$kills rule=\"$(echo "$rule" | jq -r .query)\" for=$(echo "$rule" | jq -r .duration)s ALERTS=firing"
}

check_memhigh() {
	requires check_units
	local u=memhigh-$$ high=32M size=40M slice_high0 slice_high1 ev cur mh res
	slice_high0=$(mem_event "$SLICE" high)
	note "running /opt/memhog $size in $SLICE under MemoryHigh=$high (no MemoryMax of its own)"
	GEXEC_TIMEOUT=60 gexec systemd-run --quiet --slice="$SLICE" --unit="$u" -p MemoryHigh=$high \
		-p MemorySwapMax=0 -p StandardOutput=journal /opt/memhog "$size" 10m >"$WORK/logs/$u.log" 2>&1 ||
		fail "systemd-run of memhog failed: $(cat "$WORK/logs/$u.log")"
	wait_for 600 "memhog to touch $size under MemoryHigh=$high" hog_done "$u"
	is_active "$u.service" || fail "memhog is $(gexec systemctl is-active "$u.service") after touching $size"
	ev=$(cg_read "$u.service" memory memory.events | tr '\n' ' ')
	cur=$(mem_current "$u.service")
	mh=$(cg_read "$u.service" memory memory.high)
	gexec systemctl stop "$u.service"
	res=$(prop "$u.service" Result)
	gexec journalctl --no-pager -u "$u.service" >>"$WORK/logs/$u.log" 2>&1 || true
	slice_high1=$(mem_event "$SLICE" high)
	[ "$(event_count high "$ev")" -gt 0 ] || fail "memory.events of $u has no high events: $ev"
	[ "$(event_count max "$ev")" = 0 ] && [ "$(event_count oom_kill "$ev")" = 0 ] ||
		fail "memory.events of $u shows limit hits or kills: $ev"
	[ "$cur" -gt "$mh" ] || fail "memhog's memory $cur not above memory.high $mh: reclaimed rather than throttled?"
	[ "$res" = success ] || fail "memhog Result=$res after stop"
	[ "$slice_high1" -gt "$slice_high0" ] || fail "$SLICE memory.events high did not rise ($slice_high0 -> $slice_high1)"
	all_active edge-sensord.service prometheus.service || fail "the stack is not active after the throttled neighbour"
	detail "unit_memory=$(mib "$cur") memory.high=$(mib "$mh") unit_events=\"$ev\" slice_high_events=$slice_high0->$slice_high1 result=$res"
}

event_count() { awk -v k="$1" '{for (i = 1; i < NF; i += 2) if ($i == k) print $(i+1)}' <<<"$2"; } # KEY "k v k v ..."
# hog_done UNIT: memhog has touched all its memory; fails the check when it ended before.
hog_done() {
	gexec journalctl --no-pager -u "$1.service" | grep -q 'done: touched' && return 0
	is_active "$1.service" || fail "$1 ended before touching its memory: Result=$(prop "$1.service" Result) $(gexec journalctl --no-pager -u "$1.service" | tail -n 3)"
	return 1
}

# ----------------------------------------------------- no memory controller
check_limits_dropped() {
	requires check_install
	simulate_sensors
	local mm u=memhog-$$ res jr
	mm=$(prop "$SLICE" MemoryMax)
	[ "$mm" = "$BUDGET" ] || fail "systemctl show $SLICE MemoryMax=$mm, want the configured $BUDGET"
	! mem_limit "$SLICE" >/dev/null 2>&1 || fail "$SLICE has a memory limit file without the memory controller"
	note "systemd shows MemoryMax=$(mib "$mm") for $SLICE; $(prop "$SLICE" ControlGroup) has no memory.max"
	run_hog "$u" 400M 2s
	res=$(prop "$u.service" Result)
	grep -q 'done: touched 400 MiB' "$WORK/logs/$u.log" ||
		fail "memhog did not touch 400M (Result=$res): $(tail -n 5 "$WORK/logs/$u.log")"
	# Silently: PID 1 logged nothing at warning or above about memory.
	jr=$(gexec journalctl --no-pager -b _PID=1 -p warning | grep -i memory || true)
	[ -z "$jr" ] || fail "systemd warned after all: $jr"
	detail "MemoryMax(systemctl)=$(mib "$mm") memory.max=absent memhog=400MiB-touched(result:$res) systemd_warnings=none"
}

# The contract of the stack without the memory controller: the daemon's
# metric, an alert on it, edgectl and the status line say so, and so did the
# install.
check_memcg_warnings() {
	requires check_limits_dropped
	local m rule name dur rc=0 out missing=()
	wait_for 60 "target edge-sensord up" target_up edge-sensord
	m=$(prom_query 'edge_cgroup_controller_enabled{job="edge-sensord",controller="memory"}') || true
	[ "$m" = 0 ] || missing+=("metric edge_cgroup_controller_enabled{controller=\"memory\"} is '${m:-absent}', want 0")
	rule=$(gnet curl -sf "$PROM/api/v1/rules?type=alert" |
		jq -c '[.data.groups[].rules[] | select(.query | test("edge_cgroup_controller_enabled"))] | first // empty')
	if [ -z "$rule" ]; then
		missing+=("no alerting rule on edge_cgroup_controller_enabled")
	else
		name=$(echo "$rule" | jq -r .name)
		dur=$(echo "$rule" | jq -r '.duration | floor')
		# The rule's for: plus two evaluations and a margin.
		if ! (wait_for $((dur + 120)) "alert $name firing" prom_query_is "ALERTS{alertname=\"$name\",alertstate=\"firing\"}" 1); then
			missing+=("alert $name not firing after its for: of ${dur}s")
		fi
	fi
	out=$(gexec edgectl status 2>&1) || rc=$?
	[ "$rc" = 1 ] || missing+=("edgectl status exited $rc, want 1")
	grep -q 'memory budget NOT enforced' <<<"$out" || missing+=("edgectl status does not say 'memory budget NOT enforced'")
	grep -q '^problem: memory budget NOT enforced: ' "$WORK/logs/install.log" || missing+=("the install printed no 'memory budget NOT enforced' warning")
	status_mentions 'memory budget NOT enforced' || missing+=("status line: '$(prop edge-sensord.service StatusText)'")
	[ ${#missing[@]} -eq 0 ] || fail "$(printf '%s; ' "${missing[@]}")"
	detail "metric=0 alert=$name(firing) edgectl_exit=1 install_warning=yes status=\"$(prop edge-sensord.service StatusText)\""
}

prom_query_is() { [ "$(prom_query "$1")" = "$2" ]; } # QUERY VALUE

# ------------------------------------------------------------------- reload
check_reload() {
	requires check_units
	local u pid0 since
	since=$(gexec date '+%Y-%m-%d %H:%M:%S')
	for u in edge-sensord.service prometheus.service; do
		pid0=$(main_pid $u)
		gexec systemctl reload $u >"$WORK/logs/reload.log" 2>&1 ||
			fail "systemctl reload $u failed: $(
				cat "$WORK/logs/reload.log"
				gexec journalctl --no-pager -u $u --since "$since" | grep -v 'level=' | tail -n 5
			)"
		# ExecReload waits for the daemon: no "reloading" state left behind.
		is_active $u || fail "$u is $(gexec systemctl is-active $u) right after systemctl reload returned"
		[ "$(main_pid $u)" = "$pid0" ] || fail "$u changed its MainPID on reload ($pid0 -> $(main_pid $u))"
	done
	wait_for 60 "target edge-sensord up after reload" target_up edge-sensord

	# A broken config: `systemctl reload` fails and says why; the daemon keeps
	# the running configuration, its PID and its scrapes.
	local cfg=/etc/edge-sensord/config.yml out status t1
	gexec cp $cfg /root/config.yml.good
	gexec sh -c "printf 'poll_interval: 5s\nstale_afterr: 3\n' >$cfg"
	pid0=$(main_pid edge-sensord.service)
	if out=$(gexec systemctl reload edge-sensord.service 2>&1); then
		gexec cp /root/config.yml.good $cfg
		fail "systemctl reload succeeded with a broken $cfg"
	fi
	status=$(prop edge-sensord.service StatusText)
	gexec cp /root/config.yml.good $cfg
	gexec journalctl --no-pager -u edge-sensord.service --since "$since" >"$WORK/logs/reload-bad.log" 2>&1 || true
	grep -q "$cfg:2: field .*stale_afterr.*unknown field" "$WORK/logs/reload-bad.log" ||
		fail "the journal does not name file, line and field of the bad config: $(tail -n 5 "$WORK/logs/reload-bad.log")"
	case $status in "Reload failed, running configuration kept: $cfg:2:"*) ;; *) fail "status line after a refused reload: $status" ;; esac
	is_active edge-sensord.service || fail "edge-sensord.service not active after a refused reload"
	[ "$(main_pid edge-sensord.service)" = "$pid0" ] || fail "a refused reload restarted edge-sensord"
	t1=$(date +%s)
	wait_for 60 "scraping of edge-sensord after a refused reload" recent_scrapes_ok edge-sensord "$t1"
	gexec systemctl reload edge-sensord.service >>"$WORK/logs/reload.log" 2>&1 ||
		fail "systemctl reload failed after restoring $cfg"
	status=$(prop edge-sensord.service StatusText)
	case $status in *"sensors, last poll"*) ;; *) fail "status line after the good reload: $status" ;; esac
	detail "reload=ok(edge-sensord,prometheus) same_pids bad_config=refused(systemctl_exit=1,pid_kept,scraping=ok) message=\"$(grep -o 'Job for.*' <<<"$out" | head -n1)\""
}

# ------------------------------------------------------------------ upgrade
tsdb_wal_segments() { # number of WAL segment files of the local TSDB (or agent WAL)
	gexec sh -c 'for d in /var/lib/prometheus/metrics2/wal /var/lib/prometheus/agent/wal; do
		if [ -d $d ]; then find $d -maxdepth 1 -type f -name "[0-9]*" | wc -l; exit 0; fi; done; echo 0'
}

# upgrade_deb: path of the upgrade package built in the background (see
# start_upgrade_build), once it is there and sorts after the package under test.
upgrade_deb() {
	local pid newdeb
	pid=$(cat "$WORK/upgrade-build.pid")
	while kill -0 "$pid" 2>/dev/null; do sleep 1; done
	newdeb=$(find "$WORK/dist-upgrade" -maxdepth 1 -name "edge-observability_${NEW_UPSTREAM}*_amd64.deb" 2>/dev/null | head -n1)
	if [ -z "$newdeb" ]; then
		tail -n 30 "$WORK/logs/package-upgrade.log" >&2
		fail "building the upgrade package (VERSION=$NEW_UPSTREAM scripts/package.sh) failed (log above)"
	fi
	dpkg --compare-versions "$(dpkg-deb -f "$newdeb" Version)" gt "$OLD_VERSION" ||
		fail "upgrade package version $(dpkg-deb -f "$newdeb" Version) does not sort after $OLD_VERSION"
	echo "$newdeb"
}

check_upgrade() {
	requires check_install check_units
	[ -s "$WORK/prometheus.yml.sha" ] || fail "not run: the scrapes check did not edit prometheus.yml"
	local newdeb new_version t ver before after segs0 segs1 f build_info
	newdeb=$(upgrade_deb)
	new_version=$(dpkg-deb -f "$newdeb" Version)
	gput "$newdeb" "/debs/${newdeb##*/}"
	wait_for 60 "prometheus ready" prom_ready
	# Prometheus's data before the upgrade: a series' sample count at a fixed time.
	t=$(date +%s)
	before=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${before:-0}" -gt 0 ] || fail "no samples of up{job=\"edge-sensord\"} before the upgrade"
	segs0=$(tsdb_wal_segments)
	[ "$segs0" -gt 0 ] || fail "no TSDB WAL segments under /var/lib/prometheus before the upgrade"

	note "apt-get install ${newdeb##*/}"
	# As unattended upgrades do: keep locally modified conffiles without a
	# prompt (the tree may ship a changed default since the package under
	# test was built). A file that is not a conffile would still be replaced.
	GEXEC_TIMEOUT=1200 gexec apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		/debs/"${newdeb##*/}" >"$WORK/logs/upgrade.log" 2>&1 || {
		tail -n 40 "$WORK/logs/upgrade.log" >&2
		fail "apt-get install of the upgrade failed (log above)"
	}
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$new_version" ] || fail "version after upgrade is $ver, want $new_version"
	f=/etc/edge-observability/prometheus.yml
	[ "$(gexec sha256sum $f | cut -d' ' -f1)" = "$(cat "$WORK/prometheus.yml.sha")" ] ||
		fail "upgrade changed the edited $f: $(gcat $f | head -n 40)"
	gexec grep -q '^ARGS=.*--sensors.simulate' /etc/default/edge-sensord || fail "upgrade lost the edit of /etc/default/edge-sensord"
	wait_for 90 "edge-sensord and prometheus active after the upgrade" all_active edge-sensord.service prometheus.service
	wait_for 120 "prometheus ready after the upgrade" prom_ready
	running_config_has_interval || fail "Prometheus runs without the kept scrape_interval $INTERVAL after the upgrade"
	# The running daemon is the new build.
	build_info=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | grep '^edge_sensor_build_info' || true)
	echo "$build_info" | grep -q "version=\"$NEW_UPSTREAM\"" ||
		fail "running edge-sensord is not the upgraded one: ${build_info:-no edge_sensor_build_info}"
	after=$(prom_query 'count_over_time(up{job="edge-sensord"}[1h])' "$t")
	[ "${after:-0}" -ge "$before" ] || fail "Prometheus lost data in the upgrade: $before samples before, ${after:-0} after (same range)"
	segs1=$(tsdb_wal_segments)
	[ "$segs1" -ge "$segs0" ] || fail "TSDB WAL segments went from $segs0 to $segs1"
	wait_for 90 "scraping after the upgrade" recent_scrapes_ok edge-sensord "$(date +%s)"
	detail "upgrade=$OLD_VERSION->$ver conffile=kept samples_before=$before after=$after wal_segments=$segs0->$segs1"

	# remove: our units stop, our drop-ins go; Prometheus (another package) may run, but plainly.
	GEXEC_TIMEOUT=600 gexec apt-get remove -y edge-observability >"$WORK/logs/remove.log" 2>&1 || {
		tail -n 40 "$WORK/logs/remove.log" >&2
		fail "apt-get remove edge-observability failed (log above)"
	}
	gexec systemctl daemon-reload
	! is_active edge-sensord.service || fail "edge-sensord still active after remove"
	if gexec sh -c 'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done' | grep -qx edge-sensord; then
		fail "an edge-sensord process is still running after remove"
	fi
	for f in /lib/systemd/system/prometheus.service.d/edge-observability.conf \
		/lib/systemd/system/grafana-server.service.d/edge-observability.conf \
		/lib/systemd/system/edge-sensord.service /usr/bin/edge-sensord /usr/bin/edgectl; do
		! gexec test -e "$f" || fail "$f still present after remove"
	done
	local dropins ppid pcg pcmd prom_state st
	dropins=$(prop prometheus.service DropInPaths)
	case $dropins in *edge-observability*) fail "prometheus.service still has our drop-in after remove: $dropins" ;; esac
	prom_state=$(gexec systemctl is-active prometheus.service || true)
	if [ "$prom_state" = active ]; then
		ppid=$(main_pid prometheus.service)
		pcg=$(gexec cat /proc/"$ppid"/cgroup)
		pcmd=$(gexec cat /proc/"$ppid"/cmdline | tr '\0' ' ')
		case $pcg in *"$SLICE"*) fail "prometheus still runs in $SLICE after remove (not restarted without the drop-in)" ;; esac
		case $pcmd in *edge-observability*) fail "prometheus still runs with our config after remove: $pcmd" ;; esac
	fi
	gexec test -f /etc/edge-observability/prometheus.yml || fail "remove (not purge) deleted the conffile /etc/edge-observability/prometheus.yml"
	detail "remove=ok prometheus=$prom_state-without-dropin"

	GEXEC_TIMEOUT=600 gexec apt-get purge -y edge-observability >"$WORK/logs/purge.log" 2>&1 || {
		tail -n 40 "$WORK/logs/purge.log" >&2
		fail "apt-get purge edge-observability failed (log above)"
	}
	for f in /etc/edge-observability /etc/default/edge-sensord /etc/default/edge-observability /etc/edge-sensord; do
		! gexec test -e "$f" || fail "$f still present after purge: $(gexec find "$f" | head -n 5)"
	done
	st=$(gexec dpkg-query -W -f='${db:Status-Abbrev}' edge-observability 2>/dev/null || true)
	case ${st// /} in "" | un | pn) ;; *) fail "dpkg status of edge-observability after purge: '$st'" ;; esac
	detail "purge=ok"
}

# ------------------------------------------------- signed apt repository
# The repository of scripts/apt-repo.sh (make apt-repo), signed with a key of
# the run's own, copied into the guest at /srv/edge-apt and used there with
# signed-by=, as a device would use a published one.
REPO_LIST=/etc/apt/sources.list.d/edge-observability.list

# repo_key sets REPO_KEY, the signing key in $WORK/gnupg, made by the first call
# (checks run in subshells: the keyring, not a variable, carries it to the next).
repo_key() {
	export GNUPGHOME=$WORK/gnupg
	mkdir -p -m 700 "$GNUPGHOME"
	REPO_KEY=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
	[ -n "$REPO_KEY" ] && return 0
	gpg --batch --quiet --passphrase '' --quick-gen-key "edge-observability e2e repository" ed25519 sign 1d 2>/dev/null ||
		fail "could not create a signing key"
	REPO_KEY=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
}

# publish_repo DIST: add DIST's .debs to the repository, copy it into the
# guest and update the guest's lists of it alone (the guest has no network).
publish_repo() {
	repo_key
	DIST_DIR=$1 APT_REPO_KEY=$REPO_KEY "$REPO/scripts/apt-repo.sh" "$WORK/apt" e2e >"$WORK/logs/apt-repo.log" 2>&1 ||
		fail "scripts/apt-repo.sh failed: $(tail -n 5 "$WORK/logs/apt-repo.log")"
	gexec rm -rf /srv/edge-apt
	gexec mkdir -p /srv/edge-apt
	tar -C "$WORK/apt" -cf - . | gexec_in tar -C /srv/edge-apt -xf -
	gexec sh -c "echo 'deb [signed-by=/srv/edge-apt/edge-observability-archive-keyring.gpg] file:/srv/edge-apt e2e main' >$REPO_LIST"
	GEXEC_TIMEOUT=600 gexec apt-get update -o Dir::Etc::SourceList=$REPO_LIST -o Dir::Etc::SourceParts=- \
		-o APT::Get::List-Cleanup=0 >"$WORK/logs/apt-update.log" 2>&1 ||
		fail "apt-get update of the repository failed: $(tail -n 5 "$WORK/logs/apt-update.log")"
	! grep -E '^(W|E):' "$WORK/logs/apt-update.log" || fail "apt-get update warned: $(grep -E '^(W|E):' "$WORK/logs/apt-update.log")"
}

check_repo_upgrade() {
	requires check_install check_units
	local newdeb new_version ver policy build_info
	newdeb=$(upgrade_deb)
	new_version=$(dpkg-deb -f "$newdeb" Version)
	publish_repo "$(dirname "$newdeb")"
	policy=$(gexec apt-cache policy edge-observability)
	grep -q "Candidate: $new_version" <<<"$policy" || fail "apt's candidate is not $new_version: $policy"
	grep -q "file:/srv/edge-apt e2e/main" <<<"$policy" || fail "apt does not list the repository: $policy"
	GEXEC_TIMEOUT=1200 gexec apt-get upgrade -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		>"$WORK/logs/upgrade.log" 2>&1 || {
		tail -n 40 "$WORK/logs/upgrade.log" >&2
		fail "apt-get upgrade failed (log above)"
	}
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$new_version" ] || fail "version after apt-get upgrade is $ver, want $new_version"
	gexec grep -q '^ARGS=.*--sensors.simulate' /etc/default/edge-sensord || fail "the upgrade lost the edit of /etc/default/edge-sensord"
	wait_for 90 "edge-sensord and prometheus active after the upgrade" all_active edge-sensord.service prometheus.service
	build_info=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | grep '^edge_sensor_build_info' || true)
	echo "$build_info" | grep -q "version=\"$NEW_UPSTREAM\"" ||
		fail "running edge-sensord is not the upgraded one: ${build_info:-no edge_sensor_build_info}"
	detail "repository=signed-by(key ${REPO_KEY:0:16}) install=$OLD_VERSION upgrade=$ver conffile=kept daemon=new"
}
