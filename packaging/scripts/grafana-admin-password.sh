#!/bin/sh
# Creates the Grafana admin password of the edge observability stack if it does not exist yet and
# says where it is. grafana-server.service reads it through LoadCredential= (see its drop-in
# /lib/systemd/system/grafana-server.service.d/edge-observability.conf).
# Grafana applies it when it creates its database; for an existing database run:
#   grafana cli admin reset-admin-password "$(cat /etc/edge-observability/grafana-admin-password)"
set -eu
file=${EDGE_GRAFANA_PASSWORD_FILE:-/etc/edge-observability/grafana-admin-password}

if [ ! -s "$file" ]; then
	mkdir -p "$(dirname "$file")"
	umask 077
	tmp="$file.tmp.$$"
	# 24 characters from [A-Za-z0-9]: about 142 bits.
	LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$tmp"
	chmod 0600 "$tmp"
	mv -f "$tmp" "$file"
	echo "edge-observability: generated a Grafana admin password (user admin) in $file"
else
	echo "edge-observability: the Grafana admin password (user admin) is in $file"
fi
