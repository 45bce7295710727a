#!/bin/sh
# postrm (deb: "remove", "purge", "upgrade", ...) / %postun (rpm: 0 = erase, 1 = upgrade).
# Removal: Prometheus, Alertmanager and Grafana belong to other packages and keep running, restarted
# without our drop-ins (Alertmanager then with Debian's own configuration and listen address). Purge (rpm: erase) also deletes what the package generated. Prometheus's data in
# /var/lib/prometheus belongs to the prometheus package and is never touched.
set -e

# Start/stop through deb-systemd-invoke where it exists: it honours policy-rc.d (image builds).
invoke() { if command -v deb-systemd-invoke >/dev/null 2>&1; then deb-systemd-invoke "$@"; else systemctl "$@"; fi; }

remove=false
purge=false
case "${1:-}" in
	remove) remove=true ;;
	purge) purge=true ;;
	0) remove=true; purge=true ;;
	*) exit 0 ;;
esac

if $remove && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	invoke try-restart prometheus.service prometheus-alertmanager.service grafana-server.service || true
fi

if $purge; then
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge edge-sensord.service edge-sensord.socket >/dev/null || true
	fi
	rm -f /etc/edge-observability/grafana-admin-password
	rm -f /etc/systemd/system/edge-observability.slice.d/lean.conf
	rmdir /etc/systemd/system/edge-observability.slice.d 2>/dev/null || true
	# Written by edgectl alerts enable (it names the secret files; the files are the user's).
	rm -f /etc/systemd/system/prometheus-alertmanager.service.d/edge-observability-secrets.conf
	rmdir /etc/systemd/system/prometheus-alertmanager.service.d 2>/dev/null || true
	rm -rf /run/edge-observability /run/edge-observability-alertmanager /var/lib/edge-observability
	rmdir /etc/edge-observability/rules /etc/edge-observability /etc/edge-sensord 2>/dev/null || true
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
fi
exit 0
