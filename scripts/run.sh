#!/usr/bin/env bash
# `make run`: the whole stack in the foreground, no systemd needed: edge-sensord, Prometheus with
# the shipped config and rules, and Grafana when it is installed. Ctrl-C stops everything.
# Env: BIN_DIR (bin), SENSORD_PORT (8000), PROM_PORT (9090), GRAFANA_PORT (3000),
#      SYSFS (/sys; where to look for sensors), KEEP_DATA=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN_DIR=${BIN_DIR:-$REPO/bin}
SENSORD_PORT=${SENSORD_PORT:-8000}
PROM_PORT=${PROM_PORT:-9090}
GRAFANA_PORT=${GRAFANA_PORT:-3000}
SYSFS=${SYSFS:-/sys}

log() { echo "run: $*" >&2; }

[ -x "$BIN_DIR/edge-sensord" ] || { log "$BIN_DIR/edge-sensord missing: run make build"; exit 1; }
if ! command -v prometheus >/dev/null 2>&1; then
	log "prometheus not installed; installing it"
	scripts/deps.sh run
fi

work=$(mktemp -d -t edge-observability-run.XXXXXX)
pids=()
stopping=false
stop() {
	stopping=true
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_DATA:-}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
on_signal() {
	log "stopping"
	stop
	exit 0
}
trap on_signal INT TERM
trap '$stopping || stop' EXIT

# Sensors: simulate them when the machine has none (VMs, containers, CI).
sensord_args=(--web.listen-address="127.0.0.1:$SENSORD_PORT" --path.sysfs="$SYSFS" --prometheus.url="http://127.0.0.1:$PROM_PORT")
have_sensors=false
for p in "$SYSFS"/class/hwmon/hwmon* "$SYSFS"/class/thermal/thermal_zone* "$SYSFS"/bus/iio/devices/iio:device* "$SYSFS"/bus/w1/devices/*; do
	case "$p" in *w1_bus_master* | *'*'*) continue ;; esac
	[ -e "$p" ] && { have_sensors=true; break; }
done
if $have_sensors; then
	log "reading this machine's sensors under $SYSFS"
else
	log "no hwmon, thermal, IIO or 1-wire sensors under $SYSFS: using --sensors.simulate"
	sensord_args+=(--sensors.simulate)
fi

# Prometheus config: the shipped one, rendered like on a device when edgectl can do it.
cfg=$work/prometheus.yml
machine_id=/etc/machine-id
if [ ! -s "$machine_id" ]; then
	machine_id=$work/machine-id
	hostname | md5sum | cut -c1-32 >"$machine_id"
fi
if [ -x "$BIN_DIR/edgectl" ] && "$BIN_DIR/edgectl" prometheus-config --config.in etc/prometheus/prometheus.yml \
	--defaults etc/default/edge-observability --machine-id "$machine_id" --config.out "$cfg" 2>"$work/render.err"; then
	log "Prometheus config rendered by edgectl prometheus-config"
else
	[ -s "$work/render.err" ] && log "edgectl prometheus-config: $(cat "$work/render.err")"
	log "using etc/prometheus/prometheus.yml as is"
	cp etc/prometheus/prometheus.yml "$cfg"
fi
# rules/ also holds the rule tests (tests.yml), which Prometheus cannot load.
sed -i -e "s#/etc/edge-observability/rules/\*.yml#$REPO/etc/prometheus/rules/edge-observability.yml#" \
	-e "s#127.0.0.1:8000#127.0.0.1:$SENSORD_PORT#" -e "s#127.0.0.1:9090#127.0.0.1:$PROM_PORT#" "$cfg"

"$BIN_DIR/edge-sensord" "${sensord_args[@]}" &
pids+=($!)

# Same storage and query limits as the systemd drop-in, data in the temp dir.
prometheus --config.file="$cfg" --storage.tsdb.path="$work/prometheus" \
	--storage.tsdb.retention.time=12h --storage.tsdb.retention.size=256MB \
	--web.listen-address="127.0.0.1:$PROM_PORT" --query.max-concurrency=2 --query.max-samples=50000 --query.timeout=15s \
	--log.level=warn &
pids+=($!)

grafana_url=""
grafana_bin=$(command -v grafana || command -v grafana-server || true)
if [ -n "$grafana_bin" ] && [ -d /usr/share/grafana ]; then
	prov=$work/grafana/provisioning
	mkdir -p "$prov/datasources" "$prov/dashboards" "$prov/plugins" "$prov/alerting" "$work/grafana/data"
	sed "s#http://127.0.0.1:9090#http://127.0.0.1:$PROM_PORT#" etc/grafana/provisioning/datasources/edge-observability.yaml >"$prov/datasources/edge-observability.yaml"
	sed "s#/usr/share/edge-observability/dashboards#$REPO/etc/grafana/dashboards#" etc/grafana/provisioning/dashboards/edge-observability.yaml >"$prov/dashboards/edge-observability.yaml"
	password=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 16 || true)
	grafana_args=(--homepath=/usr/share/grafana)
	case "$grafana_bin" in */grafana) grafana_args=(server "${grafana_args[@]}") ;; esac
	GF_PATHS_DATA=$work/grafana/data GF_PATHS_LOGS=$work/grafana GF_PATHS_PLUGINS=$work/grafana/plugins \
		GF_PATHS_PROVISIONING=$prov GF_SERVER_HTTP_ADDR=127.0.0.1 GF_SERVER_HTTP_PORT=$GRAFANA_PORT \
		GF_SECURITY_ADMIN_PASSWORD=$password GF_ANALYTICS_REPORTING_ENABLED=false \
		GF_ANALYTICS_CHECK_FOR_UPDATES=false GF_LOG_LEVEL=warn \
		"$grafana_bin" "${grafana_args[@]}" &
	pids+=($!)
	grafana_url="http://127.0.0.1:$GRAFANA_PORT (admin / $password)"
else
	log "Grafana not installed: skipping it (dashboard JSON: etc/grafana/dashboards/edge-device.json)"
fi

# Wait until the daemon and Prometheus answer, then say where they are.
ready=false
for _ in $(seq 1 60); do
	if curl -fsS "http://127.0.0.1:$SENSORD_PORT/healthz" >/dev/null 2>&1 &&
		curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1; then
		ready=true
		break
	fi
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null || { log "a process exited during startup"; exit 1; }
	done
	sleep 0.5
done
$ready || { log "edge-sensord or Prometheus did not become ready"; exit 1; }

cat <<MSG
edge observability stack running (Ctrl-C stops it)
  Dashboard     http://127.0.0.1:$SENSORD_PORT/
  edge-sensord  http://127.0.0.1:$SENSORD_PORT/metrics  /sensor  /healthz
  Prometheus    http://127.0.0.1:$PROM_PORT  (config $cfg)
  Grafana       ${grafana_url:-not installed}
MSG

# Any child exiting on its own is an error; signals end the script through on_signal.
set +e
wait -n "${pids[@]}"
rc=$?
set -e
log "a process exited (status $rc); stopping the others"
exit 1
