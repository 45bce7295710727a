#!/usr/bin/env bash
# Packaging checks (`make test-packaging`, after `make package`): unit files, Prometheus config and
# rules, dashboard, package metadata for every built architecture, and a real install / remove /
# purge of the amd64 .deb on this machine. Any failure stops the run with a message.
set -euo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
cd "$REPO"
DIST_DIR=${DIST_DIR:-dist}
scripts/deps.sh test

tmp=$(mktemp -d)
installed_by_test=false
cleanup() {
	if $installed_by_test; then
		echo "cleanup: purging $PKG" >&2
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

shopt -s nullglob
debs=("$DIST_DIR"/"$PKG"_*.deb)
rpms=("$DIST_DIR"/"$PKG"-*.rpm)
shopt -u nullglob
DEB=$(dist_deb "$DIST_DIR" amd64)

# The units are checked as packaged: extract the amd64 .deb into a scratch root.
root=$tmp/root
dpkg-deb -x "$DEB" "$root"

# systemd-analyze verify exits 0 on unknown keys and bad values: any output is a failure.
# ExecStart binaries must exist, so /usr/bin/... points into the extracted root.
verify() {
	local unit=$1 out
	out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify $unit:"$'\n'"$out"
	[ -z "$out" ] || fail "systemd-analyze verify $unit:"$'\n'"$out"
	ok "verify $(basename "$unit")"
}
rewrite() { sed -e "s#/usr/bin/edge-sensord#$root/usr/bin/edge-sensord#g" -e "s#/usr/bin/edgectl#$root/usr/bin/edgectl#g" "$1" >"$2"; }

step "systemd units"
units=$tmp/units
mkdir -p "$units/prometheus.service.d" "$units/grafana-server.service.d" "$units/prometheus-alertmanager.service.d"
for u in edge-observability.slice edge-sensord.service edge-sensord.socket; do
	rewrite "$root/lib/systemd/system/$u" "$units/$u"
done
verify "$units/edge-observability.slice"
verify "$units/edge-sensord.service"
verify "$units/edge-sensord.socket"

# Drop-ins, composed with the units they extend: Debian's prometheus.service and
# prometheus-alertmanager.service, and a stand-in for Grafana's grafana-server.service (Grafana is
# not in Debian).
[ -f /lib/systemd/system/prometheus.service ] || fail "/lib/systemd/system/prometheus.service missing (apt-get install prometheus)"
cp /lib/systemd/system/prometheus.service "$units/"
rewrite "$root/lib/systemd/system/prometheus.service.d/edge-observability.conf" "$units/prometheus.service.d/edge-observability.conf"
sed "s#/usr/share/grafana/bin/grafana#/bin/true#" test/packaging/grafana-server.service >"$units/grafana-server.service"
rewrite "$root/lib/systemd/system/grafana-server.service.d/edge-observability.conf" "$units/grafana-server.service.d/edge-observability.conf"
[ -f /lib/systemd/system/prometheus-alertmanager.service ] || fail "/lib/systemd/system/prometheus-alertmanager.service missing (apt-get install prometheus-alertmanager)"
cp /lib/systemd/system/prometheus-alertmanager.service "$units/"
rewrite "$root/lib/systemd/system/prometheus-alertmanager.service.d/edge-observability.conf" "$units/prometheus-alertmanager.service.d/edge-observability.conf"
verify "$units/prometheus.service"
verify "$units/prometheus-alertmanager.service"
verify "$units/grafana-server.service"
# The drop-in must actually be applied (verify alone would pass on an ignored file).
for d in prometheus prometheus-alertmanager; do
	grep -q '^Slice=edge-observability.slice$' "$units/$d.service.d/edge-observability.conf" || fail "$d drop-in has no Slice="
done
# Alertmanager: loopback only (the address comes from the settings, through alertmanager-exec), no gossip.
am_dropin=$units/prometheus-alertmanager.service.d/edge-observability.conf
grep -q '^ExecStart=$' "$am_dropin" && grep -q -- '--cluster.listen-address= ' "$am_dropin" || fail "Alertmanager drop-in: ExecStart not replaced or gossip not off"
! grep -q -- '--web.listen-address' "$am_dropin" || fail "Alertmanager drop-in sets --web.listen-address: it comes from EDGE_ALERTS_LISTEN"
grep -q '^EDGE_ALERTS_LISTEN=127.0.0.1:9093$' "$root/etc/default/edge-observability" || fail "the shipped EDGE_ALERTS_LISTEN is not 127.0.0.1:9093"

step "budget arithmetic"
megs() { # 64M -> 64 (units use M only)
	local v=$1
	case "$v" in *M) echo "${v%M}" ;; *) fail "unexpected memory value '$v' (use M)" ;; esac
}
key() { sed -n "s/^$2=//p" "$1" | tail -n1; }
slice_max=$(megs "$(key "$units/edge-observability.slice" MemoryMax)")
sum_high=0
sum_quota=0
# The slice holds edge-sensord, Prometheus and Alertmanager; Grafana stays outside it (below).
for f in "$units/edge-sensord.service" "$units/prometheus.service.d/edge-observability.conf" "$am_dropin"; do
	high=$(megs "$(key "$f" MemoryHigh)")
	max=$(megs "$(key "$f" MemoryMax)")
	quota=$(key "$f" CPUQuota)
	gomem=$(sed -n 's/^Environment=GOMEMLIMIT=\([0-9]*\)MiB$/\1/p' "$f")
	[ "$high" -lt "$max" ] || fail "$f: MemoryHigh ${high}M not below MemoryMax ${max}M"
	[ "$max" -le "$slice_max" ] || fail "$f: MemoryMax ${max}M above the slice's ${slice_max}M"
	[ -n "$gomem" ] && [ "$gomem" -lt "$high" ] || fail "$f: GOMEMLIMIT (${gomem:-unset}MiB) must be set below MemoryHigh ${high}M"
	sum_high=$((sum_high + high))
	sum_quota=$((sum_quota + ${quota%\%}))
done
slice_quota=$(key "$units/edge-observability.slice" CPUQuota)
# A MemoryHigh on the slice would throttle every unit in it whenever one neighbour passes it.
[ -z "$(key "$units/edge-observability.slice" MemoryHigh)" ] || fail "the slice sets MemoryHigh: it would throttle the whole stack for one unit"
[ "$slice_max" -eq 150 ] || fail "slice MemoryMax is ${slice_max}M, the budget is 150M"
[ "$sum_high" -lt "$slice_max" ] || fail "sum of unit MemoryHigh ${sum_high}M not below the slice's MemoryMax ${slice_max}M"
[ "$sum_quota" -le "${slice_quota%\%}" ] || fail "sum of unit CPUQuota ${sum_quota}% exceeds the slice's $slice_quota"
ok "sum MemoryHigh ${sum_high}M < slice MemoryMax ${slice_max}M, no slice MemoryHigh; CPUQuota ${sum_quota}% <= $slice_quota"
# Grafana documents a minimum of 512 MB of memory: outside the 150M slice, no limit below that.
graf=$units/grafana-server.service.d/edge-observability.conf
! grep -q '^Slice=' "$graf" || fail "grafana drop-in sets Slice=: Grafana does not fit the stack's budget"
g_high=$(megs "$(key "$graf" MemoryHigh)")
g_max=$(megs "$(key "$graf" MemoryMax)")
[ "$g_high" -ge 512 ] && [ "$g_max" -gt "$g_high" ] || fail "grafana MemoryHigh ${g_high}M / MemoryMax ${g_max}M: below Grafana's documented 512 MB minimum"
! grep -q '^CPUQuota=' "$graf" || fail "grafana drop-in sets a CPUQuota below Grafana's documented one core"
ok "grafana outside the slice, MemoryHigh ${g_high}M MemoryMax ${g_max}M"

step "systemd-analyze security edge-sensord.service"
score_of() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; } # the score in systemd-analyze security's output
# exposure WHAT ARGS...: the overall exposure score of `systemd-analyze security --offline=yes ARGS`;
# fails above 2.0.
exposure() {
	local what=$1 out score
	shift
	out=$(systemd-analyze security --offline=yes --threshold=20 "$@" 2>&1) || {
		echo "$out" >&2
		fail "$what: exposure above 2.0"
	}
	score=$(printf '%s\n' "$out" | score_of)
	[ -n "$score" ] || fail "no exposure score in: $out"
	echo "$score"
}
score=$(exposure edge-sensord.service "$units/edge-sensord.service")
ok "edge-sensord.service exposure $score (threshold 2.0)"

step "systemd-analyze security prometheus.service with the drop-in"
# Debian's unit (installed with the prometheus package by scripts/deps.sh) plus ours, offline.
[ -f /lib/systemd/system/prometheus.service ] || fail "no /lib/systemd/system/prometheus.service (is the prometheus package installed?)"
sec_root=$tmp/secroot
mkdir -p "$sec_root/etc/systemd/system/prometheus.service.d"
cp /lib/systemd/system/prometheus.service "$sec_root/etc/systemd/system/"
# Debian's unit alone scores far above the threshold: its score is for the record only.
base_score=$(systemd-analyze security --offline=yes --root="$sec_root" prometheus.service 2>&1 | score_of)
cp "$units/prometheus.service.d/edge-observability.conf" "$sec_root/etc/systemd/system/prometheus.service.d/"
prom_score=$(exposure "prometheus.service with the drop-in" --root="$sec_root" prometheus.service)
ok "prometheus.service exposure with the drop-in $prom_score (threshold 2.0; Debian's unit alone: ${base_score:-?})"

step "systemd-analyze security prometheus-alertmanager.service with the drop-in"
mkdir -p "$sec_root/etc/systemd/system/prometheus-alertmanager.service.d"
cp /lib/systemd/system/prometheus-alertmanager.service "$sec_root/etc/systemd/system/"
am_base_score=$(systemd-analyze security --offline=yes --root="$sec_root" prometheus-alertmanager.service 2>&1 | score_of)
cp "$am_dropin" "$sec_root/etc/systemd/system/prometheus-alertmanager.service.d/"
am_score=$(exposure "prometheus-alertmanager.service with the drop-in" --root="$sec_root" prometheus-alertmanager.service)
ok "prometheus-alertmanager.service exposure with the drop-in $am_score (threshold 2.0; Debian's unit alone: ${am_base_score:-?})"

step "Prometheus config and rules"
rules_dir=$REPO/etc/prometheus/rules
grep -q "^  - /etc/edge-observability/rules/\*.yml$" "$root/etc/edge-observability/prometheus.yml" ||
	fail "prometheus.yml must load /etc/edge-observability/rules/*.yml"
# Render as the drop-in would, then point rule_files at the repository (the test runs uninstalled).
printf '0123456789abcdef0123456789abcdef\n' >"$tmp/machine-id"
if "$root/usr/bin/edgectl" prometheus-config --config.in "$root/etc/edge-observability/prometheus.yml" \
	--defaults "$root/etc/default/edge-observability" --machine-id "$tmp/machine-id" --config.out "$tmp/rendered.yml"; then
	ok "rendered with edgectl prometheus-config"
else
	fail "edgectl prometheus-config failed on the shipped prometheus.yml and /etc/default/edge-observability"
fi
# The installed rule files are those of the repository's rules/ (its tests are in rules/tests/).
sed -i "s#/etc/edge-observability/rules/\*.yml#$rules_dir/*.yml#" "$tmp/rendered.yml"
grep -q "$rules_dir/\*.yml" "$tmp/rendered.yml" || fail "rendered config lost rule_files"
diff <(cd "$rules_dir" && ls -1 ./*.yml | sed 's#^\./##') <(ls -1 "$root/etc/edge-observability/rules/") ||
	fail "the package's rule files differ from etc/prometheus/rules/*.yml"
promtool check config "$tmp/rendered.yml"
# rules_tested RULES TESTS: promtool checks RULES and runs TESTS, in which every alert of RULES has a test.
rules_tested() {
	local a
	promtool check rules "$1"
	(cd "$(dirname "$2")" && promtool test rules "$(basename "$2")")
	for a in $(sed -n 's/^ *- alert: *//p' "$1"); do
		grep -q "alertname: $a\$" "$2" || fail "alert $a of $1 has no test in $2"
	done
}
promtool check rules "$rules_dir"/*.yml
# Every alert firing and not firing, with the default thresholds and with the examples of
# thresholds.yml; annotations, runbook entries and thresholds are checked by go test below.
(cd "$rules_dir" && promtool test rules tests/*.test.yml)
ok "rules: $(grep -c '^ *- alert:' "$rules_dir"/*.yml | awk -F: '{n += $2} END {print n}') alerts checked and tested"
# The centre's rules (shipped for a central Prometheus or vmalert), and their tests.
rules_tested "$root/usr/share/edge-observability/central/edge-fleet.yml" "$REPO/etc/central/tests.yml"
ok "central rules: checked, every alert tested"

step "Alertmanager config: the shipped alertmanager.yml rendered with every receiver, checked by amtool"
printf 'pw\n' >"$tmp/smtp.pw"
printf '123:abc\n' >"$tmp/tg.token"
chmod 0600 "$tmp/smtp.pw" "$tmp/tg.token"
sed -e 's#^EDGE_ALERTS=off$#EDGE_ALERTS=on#' -e 's#^EDGE_ALERT_WEBHOOK_URL=$#EDGE_ALERT_WEBHOOK_URL=https://hooks.example/edge#' \
	-e 's#^EDGE_ALERT_EMAIL_TO=$#EDGE_ALERT_EMAIL_TO=ops@example.org#' -e 's#^EDGE_ALERT_SMTP_SMARTHOST=$#EDGE_ALERT_SMTP_SMARTHOST=mail.example.org:587#' \
	-e 's#^EDGE_ALERT_SMTP_FROM=$#EDGE_ALERT_SMTP_FROM=pump@example.org#' -e 's#^EDGE_ALERT_SMTP_AUTH_USERNAME=$#EDGE_ALERT_SMTP_AUTH_USERNAME=pump#' \
	-e "s#^EDGE_ALERT_SMTP_AUTH_PASSWORD_FILE=\$#EDGE_ALERT_SMTP_AUTH_PASSWORD_FILE=$tmp/smtp.pw#" \
	-e "s#^EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=\$#EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE=$tmp/tg.token#" -e 's#^EDGE_ALERT_TELEGRAM_CHAT_ID=$#EDGE_ALERT_TELEGRAM_CHAT_ID=-100123#' \
	"$root/etc/default/edge-observability" >"$tmp/alerts.env"
[ "$(grep -c '^EDGE_ALERT' "$tmp/alerts.env")" -ge 13 ] || fail "the shipped settings lack alert keys"
"$root/usr/bin/edgectl" alertmanager-config --check --config.in "$root/etc/edge-observability/alertmanager.yml" \
	--defaults "$tmp/alerts.env" --config.out "$tmp/alertmanager.yml" || fail "amtool refused the shipped alertmanager.yml rendered with every receiver"
grep -q 'telegram_configs' "$tmp/alertmanager.yml" && grep -q "auth_password_file: $tmp/smtp-auth-password" "$tmp/alertmanager.yml" ||
	fail "rendered alertmanager.yml lacks the receivers: $(cat "$tmp/alertmanager.yml")"
# The rendered Prometheus configuration with alerting on passes promtool too.
"$root/usr/bin/edgectl" prometheus-config --config.in "$root/etc/edge-observability/prometheus.yml" --defaults "$tmp/alerts.env" \
	--machine-id "$tmp/machine-id" --config.out "$tmp/rendered-alerts.yml"
sed -i "s#/etc/edge-observability/rules/\*.yml#$rules_dir/*.yml#" "$tmp/rendered-alerts.yml"
grep -q '127.0.0.1:9093' "$tmp/rendered-alerts.yml" || fail "Prometheus's rendered config does not send to the local Alertmanager"
promtool check config "$tmp/rendered-alerts.yml"
ok "alertmanager.yml: amtool accepts it with webhook, email and telegram; prometheus.yml with alerting on: promtool accepts it"

step "daemon config: shipped /etc/edge-sensord/config.yml, as is and with every key uncommented"
sed -e 's/^# \(poll_interval\|stale_after\|cpu_spike_threshold\|sources\|ignore\):/\1:/' -e 's/^#   /  /' \
	"$root/etc/edge-sensord/config.yml" >"$tmp/config-all.yml"
[ "$(grep -c '^[a-z_]*:' "$tmp/config-all.yml")" = 5 ] || fail "config.yml should document all 5 keys"
for c in "$root/etc/edge-sensord/config.yml" "$tmp/config-all.yml"; do
	port=$(free_port)
	"$root/usr/bin/edge-sensord" --sensors.simulate --config.file="$c" --web.listen-address="127.0.0.1:$port" \
		--path.sysfs="$REPO/test/fixtures/sysfs" >"$tmp/daemon.log" 2>&1 &
	dpid=$!
	healthy=false
	for _ in $(seq 1 50); do
		if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then healthy=true; break; fi
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
	$healthy || { cat "$tmp/daemon.log" >&2; fail "edge-sensord rejected $c"; }
done
ok "edge-sensord accepts config.yml (commented and uncommented)"

step "Grafana provisioning and dashboard"
dash=$root/usr/share/edge-observability/dashboards/edge-device.json
ds_yaml=$root/etc/grafana/provisioning/datasources/edge-observability.yaml
prov_yaml=$root/etc/grafana/provisioning/dashboards/edge-observability.yaml
jq -e . "$dash" >/dev/null || fail "dashboard is not valid JSON"
uid=$(sed -n 's/^ *uid: *//p' "$ds_yaml")
[ "$uid" = edge-prometheus ] || fail "datasource uid '$uid', want edge-prometheus"
grep -q 'url: http://127.0.0.1:9090$' "$ds_yaml" || fail "datasource must point at http://127.0.0.1:9090"
grep -q 'path: /usr/share/edge-observability/dashboards$' "$prov_yaml" || fail "dashboard provider path"
[ "$(jq -r .title "$dash")" = "Edge device" ] || fail "dashboard title"
bad=$(jq -r --arg uid "$uid" '[.panels[] | select(.type != "row") | (.datasource, .targets[].datasource) | select(.uid != $uid)] | length' "$dash")
[ "$bad" = 0 ] || fail "$bad panel/target datasources do not use uid $uid"
ntargets=$(jq '[.panels[] | select(.targets) | .targets[]] | length' "$dash")
[ "$ntargets" -gt 10 ] || fail "dashboard has only $ntargets queries"
for want in 'rate(sensor_failed_events_total' 'edge_sensor_temperature_celsius' 'up' 'job:scrape_success:ratio_5m' \
	'scrape_duration_seconds' 'edge_unit_memory_bytes' 'edge_unit_memory_max_bytes' 'edge_unit_cpu_seconds_total' 'edge_sensor_stale'; do
	jq -e --arg w "$want" '[.panels[] | select(.targets) | .targets[].expr | select(contains($w))] | length > 0' "$dash" >/dev/null ||
		fail "dashboard has no query using $want"
done
ok "dashboard: $ntargets queries, datasource uid $uid"

step "package definitions (nfpm.yaml vs .goreleaser.yaml)"
go test -count=1 ./test/packaging/

step "package metadata"
conffiles_expected="/etc/default/edge-observability
/etc/default/edge-sensord
/etc/edge-observability/alertmanager.yml
/etc/edge-observability/prometheus.yml
/etc/edge-observability/rules/edge-device.yml
/etc/edge-observability/rules/edge-observability.yml
/etc/edge-observability/rules/thresholds.yml
/etc/edge-sensord/config.yml
/etc/grafana/provisioning/dashboards/edge-observability.yaml
/etc/grafana/provisioning/datasources/edge-observability.yaml"
files_expected="/usr/bin/edge-sensord
/usr/bin/edgectl
/lib/systemd/system/edge-observability.slice
/lib/systemd/system/edge-sensord.service
/lib/systemd/system/edge-sensord.socket
/lib/systemd/system/prometheus.service.d/edge-observability.conf
/lib/systemd/system/grafana-server.service.d/edge-observability.conf
/lib/systemd/system/prometheus-alertmanager.service.d/edge-observability.conf
/usr/share/edge-observability/dashboards/edge-device.json
/usr/share/edge-observability/central/edge-fleet.yml
/usr/share/edge-observability/grafana-admin-password.sh
/usr/share/man/man8/edge-sensord.8.gz
/usr/share/man/man8/edgectl.8.gz
/usr/share/bash-completion/completions/edge-sensord
/usr/share/bash-completion/completions/edgectl
$conffiles_expected"
# Where each format keeps the licences and the changelog (rpm: %license files, %changelog).
deb_files_expected=$(printf '%s\n' "$files_expected" /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/changelog.Debian.gz /usr/share/doc/$PKG/ALERTS.md \
	/usr/share/lintian/overrides/$PKG | sort)
rpm_files_expected=$(printf '%s\n' "$files_expected" /usr/share/licenses/$PKG/LICENSE /usr/share/licenses/$PKG/copyright \
	/usr/share/doc/$PKG/ALERTS.md | sort)

declare -A deb_arch=([amd64]=amd64 [arm64]=arm64 [armhf]=armhf)
declare -A elf_machine=([amd64]="X86-64" [arm64]="AArch64" [armhf]="ARM" [x86_64]="X86-64" [aarch64]="AArch64" [armv7hl]="ARM")
[ ${#debs[@]} -ge 1 ] || fail "no .deb in $DIST_DIR"
[ ${#rpms[@]} -ge 1 ] || fail "no .rpm in $DIST_DIR"
[ ${#debs[@]} -eq ${#rpms[@]} ] || fail "${#debs[@]} .deb but ${#rpms[@]} .rpm in $DIST_DIR"
for deb in "${debs[@]}"; do
	f=$(dpkg-deb -f "$deb" Package Version Architecture Depends Suggests)
	arch=$(dpkg-deb -f "$deb" Architecture)
	version=$(dpkg-deb -f "$deb" Version)
	[ -n "${deb_arch[$arch]:-}" ] || fail "$deb: unexpected architecture $arch"
	[ "$(dpkg-deb -f "$deb" Package)" = "$PKG" ] || fail "$deb: package name"
	[ "$(basename "$deb")" = "${PKG}_${version}_${arch}.deb" ] || fail "$deb: file name does not match $version/$arch"
	dpkg --compare-versions "$version" gt 0 || fail "$deb: bad version $version"
	printf '%s\n' "$f" | grep -qx 'Depends: prometheus, procps' || fail "$deb: Depends: $(dpkg-deb -f "$deb" Depends)"
	printf '%s\n' "$f" | grep -qx 'Suggests: grafana, prometheus-alertmanager' || fail "$deb: Suggests: $(dpkg-deb -f "$deb" Suggests)"
	dpkg-deb -I "$deb" conffiles | sort | diff -u <(printf '%s\n' "$conffiles_expected") - || fail "$deb: conffiles differ"
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}' | sort | diff -u <(printf '%s\n' "$deb_files_expected") - ||
		fail "$deb: file list differs"
	for s in postinst prerm postrm; do
		dpkg-deb -I "$deb" "$s" | head -1 | grep -q '^#!/bin/sh' || fail "$deb: no $s script"
	done
	x=$tmp/x-$arch
	dpkg-deb -x "$deb" "$x"
	for b in edge-sensord edgectl; do
		readelf -h "$x/usr/bin/$b" | grep -q "Machine: *.*${elf_machine[$arch]}" || fail "$deb: $b is not a ${elf_machine[$arch]} binary"
		if readelf -l "$x/usr/bin/$b" | grep -q 'INTERP'; then fail "$deb: $b is dynamically linked (want CGO_ENABLED=0)"; fi
	done
	ok "$(basename "$deb"): $version $arch, conffiles and files as expected"
done
for rpm in "${rpms[@]}"; do
	name=$(rpm -qp --qf '%{NAME}' "$rpm" 2>/dev/null)
	arch=$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)
	version=$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm" 2>/dev/null)
	[ "$name" = "$PKG" ] || fail "$rpm: name $name"
	[ -n "${elf_machine[$arch]:-}" ] || fail "$rpm: unexpected architecture $arch"
	rpm -qp --requires "$rpm" 2>/dev/null | grep -qx 'prometheus' || fail "$rpm: does not require prometheus"
	rpm -qp --requires "$rpm" 2>/dev/null | grep -qx 'procps-ng' || fail "$rpm: does not require procps-ng (/bin/kill)"
	rpm -qp --suggests "$rpm" 2>/dev/null | grep -qx 'grafana' || fail "$rpm: does not suggest grafana"
	rpm -qp --suggests "$rpm" 2>/dev/null | grep -qx 'prometheus-alertmanager' || fail "$rpm: does not suggest prometheus-alertmanager"
	rpm -qp --configfiles "$rpm" 2>/dev/null | sort | diff -u <(printf '%s\n' "$conffiles_expected") - || fail "$rpm: config files differ"
	rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$rpm" 2>/dev/null | awk '$2 !~ /^d/ {print $1}' | sort |
		diff -u <(printf '%s\n' "$rpm_files_expected") - || fail "$rpm: file list differs"
	scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
	for s in 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet'; do
		printf '%s\n' "$scripts" | grep -q "$s" || fail "$rpm: no $s"
	done
	# grep reads it all: with -q it would stop at the match, and rpm, still writing, gets SIGPIPE (pipefail).
	rpm -qp --changelog "$rpm" 2>/dev/null | grep -- "- $version\$" >/dev/null || fail "$rpm: no %changelog entry for $version"
	ok "$(basename "$rpm"): $version $arch"
done

step "licences, changelog, manual pages and completions in $(basename "$DEB")"
doc=$root/usr/share/doc/$PKG
# Every module compiled into the binaries (as the binaries themselves record it) has a paragraph.
for b in edge-sensord edgectl; do
	for m in $(go version -m "$root/usr/bin/$b" | awk '$1 == "dep" {print $2}'); do
		grep -qxF "Files: $m/*" "$doc/copyright" || fail "$doc/copyright: no paragraph for module $m of /usr/bin/$b"
	done
done
grep -qx 'Files: \*' "$doc/copyright" && grep -qx 'License: Apache-2.0' "$doc/copyright" || fail "$doc/copyright: no Apache-2.0 paragraph for the project"
zcat "$doc/changelog.Debian.gz" >"$tmp/changelog"
changelog_version=$(dpkg-parsechangelog -l "$tmp/changelog" -S Version)
[ "$changelog_version" = "$(dpkg-deb -f "$DEB" Version)" ] || fail "changelog.Debian.gz: latest entry is $changelog_version, package is $(dpkg-deb -f "$DEB" Version)"
for b in edge-sensord edgectl; do
	page=$root/usr/share/man/man8/$b.8.gz
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] || fail "$page: groff warnings: $warnings"
	lexgrog "$page" | grep -q ": \"$b - ..*\"" || fail "$page: no whatis entry ($(lexgrog "$page"))"
	bash -n "$root/usr/share/bash-completion/completions/$b" || fail "bash completion of $b is not valid bash"
done
ok "copyright lists every module of the binaries; changelog at $changelog_version; manual pages render cleanly"

step "lintian and rpmlint"
# No lintian error, and no warning that packaging/lintian-overrides does not explain.
for deb in "${debs[@]}"; do
	lintian --fail-on error,warning --display-level '>=warning' "$deb" || fail "lintian: $deb (above)"
	ok "lintian $(basename "$deb")"
done
# rpmlint unpacks with "rpm2cpio | cpio -id"; the names in nfpm's payload are absolute, which would
# make cpio write the package into / of this machine. A cpio that keeps them relative comes first.
mkdir -p "$tmp/cpio"
printf '#!/bin/sh\nexec /usr/bin/cpio --no-absolute-filenames "$@"\n' >"$tmp/cpio/cpio"
chmod +x "$tmp/cpio/cpio"
for rpm in "${rpms[@]}"; do
	PATH=$tmp/cpio:$PATH rpmlint -c packaging/rpmlint.toml "$rpm" || fail "rpmlint: $rpm (above)"
	ok "rpmlint $(basename "$rpm")"
done

step "make run (scripts/run.sh) with the packaged binaries"
sport=$(free_port)
pport=$(free_port)
BIN_DIR=$root/usr/bin SENSORD_PORT=$sport PROM_PORT=$pport scripts/run.sh >"$tmp/run.log" 2>&1 &
run_pid=$!
up=false
for _ in $(seq 1 120); do
	kill -0 "$run_pid" 2>/dev/null || { cat "$tmp/run.log" >&2; fail "scripts/run.sh exited early"; }
	if curl -fsS "http://127.0.0.1:$pport/api/v1/targets" 2>/dev/null |
		jq -e '[.data.activeTargets[] | select(.health == "up")] | length == 2' >/dev/null; then
		up=true
		break
	fi
	sleep 0.5
done
$up || { kill "$run_pid"; cat "$tmp/run.log" >&2; fail "scripts/run.sh: targets not up"; }
curl -fsS "http://127.0.0.1:$pport/api/v1/rules" | jq -e '[.data.groups[].rules[]] | length > 5' >/dev/null ||
	fail "scripts/run.sh: Prometheus did not load the rules"
children=$(pgrep -P "$run_pid" | paste -sd' ' -)
kill -TERM "$run_pid"
rc=0
wait "$run_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/run.log" >&2; fail "scripts/run.sh exited $rc on SIGTERM"; }
for c in $children; do
	if kill -0 "$c" 2>/dev/null; then fail "scripts/run.sh left process $c running"; fi
done
ok "scripts/run.sh: both targets up, rules loaded, SIGTERM stops all children, exit 0"

step "install, remove and purge $(basename "$DEB") on this machine"
if dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q '^[ir]'; then
	fail "$PKG is already installed here; purge it first (the test installs and purges it)"
fi
pkgs_before=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' | awk '$2 == "ii" {print $1}' | sort)
# Processes a package script could have started: our binaries, or anything run as user prometheus
# (Debian's init script starts Prometheus as that user; tests elsewhere run it as root).
# Only processes of this machine count: containers (e.g. the e2e test's) run the same binaries.
stack_procs() {
	local p pidns
	pidns=$(readlink /proc/self/ns/pid)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] || continue
		case "$(readlink "$p/exe" 2>/dev/null)" in
			/usr/bin/edge-sensord | /usr/bin/edgectl) ;;
			*) [ "$(stat -c %U "$p" 2>/dev/null)" = prometheus ] || continue ;;
		esac
		echo "${p#/proc/}"
	done | sort
}
procs_before=$(stack_procs)
# Stack processes that were not running before the install (processes that ended are fine).
new_procs() {
	local pids
	pids=$(comm -13 <(echo "$procs_before") <(stack_procs) | paste -sd, -)
	if [ -n "$pids" ]; then
		ps -o pid,user,args -p "$pids" >&2 || true
		return 0
	fi
	return 1
}

export DEBIAN_FRONTEND=noninteractive
installed_by_test=true
apt-get install -y -q "$(realpath "$DEB")" | tee "$tmp/install.log"
dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" | grep -q '^ii' || fail "$PKG not installed"
dpkg-query -W -f='${db:Status-Abbrev}' prometheus | grep -q '^ii' || fail "prometheus not installed with $PKG"
for p in $deb_files_expected; do
	[ -e "$p" ] || fail "installed file missing: $p"
done
cmp -s "$root/usr/bin/edge-sensord" /usr/bin/edge-sensord || fail "/usr/bin/edge-sensord differs from the package"
[ "$(stat -c '%a %U %G' /etc/default/edge-observability)" = "640 root prometheus" ] ||
	fail "/etc/default/edge-observability is $(stat -c '%a %U %G' /etc/default/edge-observability), want 640 root prometheus"
pw=/etc/edge-observability/grafana-admin-password
[ "$(stat -c '%a %U' "$pw")" = "600 root" ] || fail "$pw is $(stat -c '%a %U' "$pw"), want 600 root"
[ "$(wc -c <"$pw")" -ge 20 ] || fail "$pw is too short"
grep -q "$pw" "$tmp/install.log" || fail "postinst did not say where the Grafana password is"
pw_before=$(cat "$pw")
[ -L /etc/systemd/system/multi-user.target.wants/edge-sensord.service ] || fail "edge-sensord.service not enabled"
sleep 2
if new_procs; then fail "installation started processes without systemd"; fi
ok "installed: files in place, enabled, password generated, no process started"

# Upgrade to a newer build: a user's conffile edit and the generated password stay, the daemon
# stays enabled.
deb_version=$(dpkg-deb -f "$DEB" Version)
up_version="${deb_version%-*}+1"
DIST_DIR=$tmp/upgrade PACKAGE_ARCHES=amd64 VERSION=$up_version scripts/package.sh >"$tmp/upgrade-build.log" 2>&1 ||
	{ cat "$tmp/upgrade-build.log" >&2; fail "building the upgrade package failed"; }
UP_DEB=$(echo "$tmp"/upgrade/${PKG}_*_amd64.deb)
dpkg --compare-versions "$(dpkg-deb -f "$UP_DEB" Version)" gt "$deb_version" || fail "upgrade package does not sort after $deb_version"
echo "# local edit" >>/etc/edge-observability/prometheus.yml
# Thresholds are the user's: an edited thresholds.yml survives, while the rules that read it are the package's.
sed -i 's/^groups: \[\]$/groups: [{name: local, rules: [{record: "edge:threshold:filesystem_used_ratio", expr: vector(0.95)}]}]/' \
	/etc/edge-observability/rules/thresholds.yml
thresholds_before=$(sha256sum </etc/edge-observability/rules/thresholds.yml)
apt-get install -y -q "$UP_DEB" >"$tmp/upgrade.log" 2>&1 || { cat "$tmp/upgrade.log" >&2; fail "upgrade failed"; }
[ "$(dpkg-query -W -f='${Version}' "$PKG")" = "$(dpkg-deb -f "$UP_DEB" Version)" ] || fail "not upgraded"
[ "$(cat "$pw")" = "$pw_before" ] || fail "upgrade changed the Grafana password"
tail -n1 /etc/edge-observability/prometheus.yml | grep -qx '# local edit' || fail "upgrade lost a conffile edit"
[ "$(sha256sum </etc/edge-observability/rules/thresholds.yml)" = "$thresholds_before" ] || fail "upgrade lost the edited thresholds.yml"
promtool check rules /etc/edge-observability/rules/*.yml >/dev/null || fail "installed rules with the edited thresholds.yml do not load"
[ -L /etc/systemd/system/multi-user.target.wants/edge-sensord.service ] || fail "edge-sensord.service not enabled after upgrade"
[ "$(stat -c '%a %G' /etc/default/edge-observability)" = "640 prometheus" ] || fail "/etc/default/edge-observability permissions after upgrade"
if new_procs; then fail "upgrade started processes without systemd"; fi
ok "upgrade $deb_version -> $(dpkg-deb -f "$UP_DEB" Version) keeps the password, the edited prometheus.yml and thresholds.yml"

apt-get remove -y -q "$PKG" >/dev/null
dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" | grep -q '^rc' || fail "$PKG not in state rc after remove"
for p in /usr/bin/edge-sensord /usr/bin/edgectl /lib/systemd/system/edge-sensord.service \
	/lib/systemd/system/prometheus.service.d/edge-observability.conf /lib/systemd/system/grafana-server.service.d/edge-observability.conf \
	/lib/systemd/system/prometheus-alertmanager.service.d/edge-observability.conf; do
	[ ! -e "$p" ] || fail "$p left after remove"
done
for p in $conffiles_expected "$pw"; do
	[ -e "$p" ] || fail "conffile $p removed by remove (must stay until purge)"
done
[ ! -e /etc/systemd/system/multi-user.target.wants/edge-sensord.service ] || fail "edge-sensord.service still enabled after remove"
ok "removed: program files gone, conffiles kept, disabled"

apt-get purge -y -q "$PKG" >/dev/null
installed_by_test=false
if dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q '^[ir]'; then fail "$PKG still known to dpkg after purge"; fi
for p in $conffiles_expected /etc/edge-observability /etc/edge-sensord /run/edge-observability \
	/lib/systemd/system/prometheus.service.d/edge-observability.conf; do
	[ ! -e "$p" ] || fail "$p left after purge"
done
if new_procs; then fail "processes left running after purge"; fi
# Packages pulled in by the install (e.g. prometheus on a fresh machine) go again.
new_pkgs=$(comm -13 <(echo "$pkgs_before") <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' | awk '$2 == "ii" {print $1}' | sort))
if [ -n "$new_pkgs" ]; then
	echo "removing packages the install pulled in: $new_pkgs"
	# shellcheck disable=SC2086
	apt-get purge -y -q $new_pkgs >/dev/null
fi
ok "purged: nothing left in /etc/edge-observability, drop-ins gone"

echo
echo "test-packaging: all checks passed (exposure: edge-sensord $score, prometheus with the drop-in $prom_score, alertmanager with the drop-in $am_score)"
