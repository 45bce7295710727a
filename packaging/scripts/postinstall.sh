#!/bin/sh
# postinst (deb: "configure" [old-version]) / %post (rpm: 1 = install, 2 = upgrade).
# Does what debhelper's systemd snippets do, portable to rpm, and nothing that needs a running
# systemd when there is none (chroot or container image builds).
set -e

# Start/stop through deb-systemd-invoke where it exists: it honours policy-rc.d (image builds).
invoke() { if command -v deb-systemd-invoke >/dev/null 2>&1; then deb-systemd-invoke "$@"; else systemctl "$@"; fi; }

first_install=false
case "${1:-}" in
	configure) [ -z "${2:-}" ] && first_install=true ;;
	1) first_install=true ;;
	2) ;;
	abort-upgrade | abort-remove | abort-deconfigure) ;;
	*) exit 0 ;;
esac

# The fleet settings may hold credentials: readable by Prometheus, not by everybody.
if [ -f /etc/default/edge-observability ]; then
	if getent group prometheus >/dev/null 2>&1; then
		chown root:prometheus /etc/default/edge-observability
	fi
	chmod 0640 /etc/default/edge-observability
fi

/usr/share/edge-observability/grafana-admin-password.sh || true
if [ -f /var/lib/grafana/grafana.db ]; then
	echo "edge-observability: Grafana already has a database; to use that password run:"
	echo "  grafana cli admin reset-admin-password \"\$(cat /etc/edge-observability/grafana-admin-password)\""
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

# Both work without a running systemd (they only create the [Install] symlinks).
if command -v deb-systemd-helper >/dev/null 2>&1; then
	# As dh_installsystemd: the daemon is enabled on the first installation (was-enabled is true
	# without a state file) and keeps the administrator's choice on upgrades. The socket is not
	# enabled, but its links are recorded so that removal disables it if an administrator did.
	if deb-systemd-helper --quiet was-enabled edge-sensord.service; then
		deb-systemd-helper enable edge-sensord.service >/dev/null || echo "edge-observability: could not enable edge-sensord.service" >&2
	else
		deb-systemd-helper update-state edge-sensord.service >/dev/null || true
	fi
	deb-systemd-helper update-state edge-sensord.socket >/dev/null || true
elif $first_install; then
	systemctl enable edge-sensord.service >/dev/null 2>&1 || echo "edge-observability: could not enable edge-sensord.service" >&2
fi

if [ -d /run/systemd/system ]; then
	if $first_install; then
		invoke start edge-sensord.service || true
	else
		invoke try-restart edge-sensord.service || true
	fi
	# Let the drop-ins take effect. An enabled service is (re)started: on a first install
	# Debian's prometheus postinst ran before our config files were in place, so its start
	# was skipped (ConditionPathExists= in the drop-in). Others stay stopped.
	# Alertmanager's drop-in skips its start while local alerting is off (ExecCondition=).
	for u in prometheus.service prometheus-alertmanager.service grafana-server.service; do
		if systemctl is-enabled --quiet "$u" 2>/dev/null; then
			invoke restart "$u" || true
		else
			invoke try-restart "$u" || true
		fi
	done
fi
[ -d /run/systemd/system ] && edgectl status --check=cgroup || true
exit 0
