#!/usr/bin/env bash
# `make run`: the whole stack in the foreground, no systemd needed: edge-sensord, Prometheus with
# the shipped config and rules, and Grafana when it is installed. Ctrl-C stops everything.
# Env: BIN_DIR (bin), SENSORD_PORT (8000), PROM_PORT (9090), GRAFANA_PORT (3000),
#      LISTEN (127.0.0.1): edge-sensord's address; 0.0.0.0 (or ::) opens the dashboard to other
#      machines, Prometheus and Grafana stay on loopback,
#      SYSFS (/sys; where to look for sensors), KEEP_DATA=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN_DIR=${BIN_DIR:-$REPO/bin}
SENSORD_PORT=${SENSORD_PORT:-8000}
PROM_PORT=${PROM_PORT:-9090}
GRAFANA_PORT=${GRAFANA_PORT:-3000}
LISTEN=${LISTEN:-127.0.0.1}
SYSFS=${SYSFS:-/sys}

log() { echo "run: $*" >&2; }

[ -x "$BIN_DIR/edge-sensord" ] || { log "$BIN_DIR/edge-sensord missing: run make build"; exit 1; }
scripts/deps.sh run # Prometheus, curl: installed when missing, saying so

# bracket ADDR: ADDR as the host part of a URL ([::1] for IPv6).
bracket() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
# The address Prometheus scrapes edge-sensord at and the banner shows first: loopback when it
# listens on every address.
case $LISTEN in
0.0.0.0 | :: | '[::]') SENSORD_HOST=127.0.0.1 ;;
*) SENSORD_HOST=$(bracket "$LISTEN") ;;
esac
SENSORD_URL=http://$SENSORD_HOST:$SENSORD_PORT

# port_open HOST PORT: something accepts connections there.
port_open() { (exec 3<>"/dev/tcp/${1//[][]/}/$2") 2>/dev/null; }

# listens PID PORT: process PID holds a listening TCP socket on PORT (any address), as the kernel's
# socket tables and the process's file descriptors tell.
listens() {
	local ino
	while read -r ino; do
		find "/proc/$1/fd" -lname "socket:\[$ino\]" 2>/dev/null | grep -q . && return 0
	done < <(awk -v p="$(printf ':%04X' "$2")" '$4 == "0A" && substr($2, length($2) - 4) == p {print $10}' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	return 1
}

# Refuse at once when a port is taken (another make run, a device's own stack): its answers
# would not be ours.
for spec in "edge-sensord SENSORD_PORT $SENSORD_HOST $SENSORD_PORT" "Prometheus PROM_PORT 127.0.0.1 $PROM_PORT"; do
	read -r what var host port <<<"$spec"
	if port_open "$host" "$port"; then
		log "port $port ($what) is in use already, perhaps by another make run or an installed stack;"
		log "stop that, or pick a free port: make run $var=..."
		exit 1
	fi
done

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
sensord_args=(--web.listen-address="$(bracket "${LISTEN//[][]/}"):$SENSORD_PORT" --path.sysfs="$SYSFS" --prometheus.url="http://127.0.0.1:$PROM_PORT")
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
# The repository's rules/ holds the installed rule files (their tests are in rules/tests/).
sed -i -e "s#/etc/edge-observability/rules/\*.yml#$REPO/etc/prometheus/rules/*.yml#" \
	-e "s#127.0.0.1:8000#$SENSORD_HOST:$SENSORD_PORT#" -e "s#127.0.0.1:9090#127.0.0.1:$PROM_PORT#" "$cfg"

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

# Ready once both answer, from the processes started here: a port another process took after
# the check above would answer too, so the listening sockets must be theirs.
names=(edge-sensord Prometheus Grafana)
ours_ready() {
	curl -fsS --max-time 2 "$SENSORD_URL/healthz" >/dev/null 2>&1 &&
		curl -fsS --max-time 2 "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 &&
		listens "${pids[0]}" "$SENSORD_PORT" && listens "${pids[1]}" "$PROM_PORT"
}
ready=false
for _ in $(seq 1 120); do
	if ours_ready; then
		ready=true
		break
	fi
	for i in "${!pids[@]}"; do
		kill -0 "${pids[$i]}" 2>/dev/null && continue
		wait "${pids[$i]}" && rc=0 || rc=$?
		log "${names[$i]} exited during startup (status $rc; its messages are above): not running"
		exit 1
	done
	sleep 0.5
done
$ready || { log "edge-sensord or Prometheus did not answer within 60s: not running"; exit 1; }

# The dashboard's addresses: this machine, and with LISTEN=0.0.0.0 (::) those another machine
# on the network uses.
lan_urls=()
case $LISTEN in
0.0.0.0 | :: | '[::]')
	for a in $(hostname -I 2>/dev/null || true); do
		case $a in *:*) [ "$LISTEN" = 0.0.0.0 ] || lan_urls+=("http://[$a]:$SENSORD_PORT/") ;; *) lan_urls+=("http://$a:$SENSORD_PORT/") ;; esac
	done
	;;
esac
if [ "$LISTEN" = 127.0.0.1 ]; then
	network="this machine only; LISTEN=0.0.0.0 opens it to the network"
elif [ ${#lan_urls[@]} -gt 0 ]; then
	network="from the network: ${lan_urls[*]}"
else
	network="listening on $LISTEN"
fi

cat <<MSG
edge observability stack running (Ctrl-C stops it)
  Dashboard     $SENSORD_URL/  ($network)
  edge-sensord  $SENSORD_URL/metrics  /sensor  /healthz
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
