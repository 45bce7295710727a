#!/usr/bin/env bash
# Alertmanager's cost in the stack's slice (`test/bench/run.sh alerts`, in `make bench`): the
# installed package with Debian's prometheus-alertmanager in a booted guest, alerting enabled
# (`edgectl alerts enable`) to a webhook and an SMTP server in the guest. benchtool cgsoak samples
# the cgroups of Alertmanager, Prometheus, edge-sensord and the slice: first with alerting off (the
# peer: the stack without Alertmanager, same run), then on and idle, then while alerts fire and
# resolve every 2 minutes (a rule added for the bench, one alert per sensor).
#   ALERTS_GUEST=vm       vm: Debian 13, Alertmanager 0.28, cgroup v2; nspawn: Debian 12,
#                         Alertmanager 0.25, cgroup v1 on this host
#   ALERTS_IDLE=600 ALERTS_SOAK=1200 ALERTS_SAMPLE=10   seconds
#   ALERTS_GROUP_INTERVAL=1m  the route's group_interval during the soak (shipped: 5m), so that
#                         each change of the alerts is notified within the 2-minute cycle
# Results: test/bench/results/alerts-GUEST/ (kv files, cgsoak's CSVs, the journal) and
# test/bench/results/alerts-GUEST.md.
# Scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
STACK_GUEST=${ALERTS_GUEST:-vm}
GUEST_FETCH="prometheus-alertmanager python3-aiosmtpd iproute2" # nspawn: fetched before boot
# shellcheck source=test/lib/guest-stack.sh
. "$REPO/test/lib/guest-stack.sh"

IDLE=${ALERTS_IDLE:-600}
SOAK=${ALERTS_SOAK:-1200}
SAMPLE=${ALERTS_SAMPLE:-10}
GROUP_INTERVAL=${ALERTS_GROUP_INTERVAL:-1m}
export GEXEC_TIMEOUT=$((SOAK + IDLE + 300))
STACK_JOURNAL="-u edge-sensord.service -u prometheus.service -u prometheus-alertmanager.service"
AM_UNIT=prometheus-alertmanager.service
need_tools jq:jq

stack_up "alerts-$STACK_GUEST" "${ALERTS_DEB:-}"
gput "$BT" /usr/local/bin/benchtool
gexec chmod 0755 /usr/local/bin/benchtool
gexec apt-get install -y -q --no-install-recommends prometheus-alertmanager python3-aiosmtpd iproute2 >>"$OUT/install.log" 2>&1 ||
	die "installing prometheus-alertmanager failed: $(tail -n 5 "$OUT/install.log")"
wait_for 90 "prometheus ready" prom_ready
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "package: $(basename "$DEB"), commit $(git -C "$REPO" rev-parse --short HEAD)"
	echo "guest: $STACK_GUEST, $(gexec sh -c '. /etc/os-release && echo "$PRETTY_NAME"'), cgroup v$CG_V"
	echo "knobs: ALERTS_IDLE=$IDLE ALERTS_SOAK=$SOAK ALERTS_SAMPLE=$SAMPLE ALERTS_GROUP_INTERVAL=$GROUP_INTERVAL"
	echo "versions: $(gexec dpkg-query -W -f='${Package} ${Version}, ' prometheus prometheus-alertmanager)"
	echo "load: $(load)"
} >"$OUT/env.txt"

# soak NAME SECONDS: cgsoak of the stack's units (Alertmanager's while it runs) and the slice, into
# OUT/NAME.kv and NAME/.
soak() {
	local groups=("prometheus=$(prop prometheus.service ControlGroup)" "edge-sensord=$(prop edge-sensord.service ControlGroup)"
		"slice=$(prop "$SLICE" ControlGroup)")
	! is_active $AM_UNIT || groups+=("alertmanager=$(prop $AM_UNIT ControlGroup)")
	note "$1: ${2}s, load $(load)"
	gexec benchtool cgsoak -duration "${2}s" -interval "${SAMPLE}s" -out "/var/tmp/alerts-bench/$1" "${groups[@]}" >"$OUT/$1.kv"
	gexec tar -C /var/tmp/alerts-bench -cf - "$1" | tar -C "$OUT" -xf -
}

soak off "$IDLE"
receivers_up
alerts_enable --group-interval "$GROUP_INTERVAL" >"$OUT/enable.log" 2>&1 || die "edgectl alerts enable: $(cat "$OUT/enable.log")"
wait_for 60 "$AM_UNIT active" is_active $AM_UNIT
wait_for 90 "prometheus ready" prom_ready
soak idle "$IDLE"

# One alert per sensor value, all firing for a minute and resolved for the next.
gexec_in sh -c 'cat >/etc/edge-observability/rules/bench-flapping.yml' <<'EOF'
groups:
  - name: bench.flapping
    rules:
      - alert: BenchFlapping
        expr: count by (sensor) ({__name__=~"edge_sensor_(temperature_celsius|voltage_volts|current_amperes|power_watts|fan_speed_rpm|humidity_ratio|pressure_pascals|illuminance_lux)"}) * 0 + (time() % 120) < 60
        labels:
          severity: warning
        annotations:
          summary: 'Bench alert for sensor {{ $labels.sensor }}'
EOF
gexec systemctl reload prometheus.service
rule_loaded() { gnet curl -sf "$PROM/api/v1/rules" | grep -q BenchFlapping; }
wait_for 60 "rule BenchFlapping loaded" rule_loaded
hooks0=$(hook_count BenchFlapping "")
mails0=$(mail_count BenchFlapping)
soak flapping "$SOAK"
{
	echo "alertmanager_version $(gexec dpkg-query -W -f='${Version}' prometheus-alertmanager)"
	echo "flapping_alerts $(prom_query 'count(count by (sensor) ({__name__=~"edge_sensor_(temperature_celsius|voltage_volts|current_amperes|power_watts|fan_speed_rpm|humidity_ratio|pressure_pascals|illuminance_lux)"}))')"
	echo "webhook_notifications $(($(hook_count BenchFlapping "") - hooks0))"
	echo "mails $(($(mail_count BenchFlapping) - mails0))"
} >"$OUT/counts.kv"
# A soak that delivered nothing measured nothing of delivery.
grep -q '^webhook_notifications [1-9]' "$OUT/counts.kv" || die "no webhook notification during the soak: $(tr '\n' ' ' <"$OUT/counts.kv")"
gexec rm /etc/edge-observability/rules/bench-flapping.yml
gexec edgectl alerts status >"$OUT/alerts-status.txt" 2>&1 || true
gexec edgectl status >"$OUT/edgectl-status.txt" 2>&1 || true
"$BT" alerts-report "$OUT" | tee "$RESULTS/alerts-$STACK_GUEST.md"
