#!/bin/sh
# prerm (deb: "remove", "upgrade" new-version, ...) / %preun (rpm: 0 = erase, 1 = upgrade).
# Stops and disables the daemon on removal only; upgrades restart it in postinst.
set -e

# Start/stop through deb-systemd-invoke where it exists: it honours policy-rc.d (image builds).
invoke() { if command -v deb-systemd-invoke >/dev/null 2>&1; then deb-systemd-invoke "$@"; else systemctl "$@"; fi; }

case "${1:-}" in
	remove | 0) ;;
	*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	invoke stop edge-sensord.socket edge-sensord.service || true
fi
# Disable while the unit files still exist (their [Install] sections say what to remove).
# deb-systemd-helper keeps its state until purge, so a reinstallation keeps them disabled.
if command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper disable edge-sensord.service edge-sensord.socket >/dev/null || true
else
	systemctl disable edge-sensord.service edge-sensord.socket >/dev/null 2>&1 || true
fi
exit 0
