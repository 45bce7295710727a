#!/usr/bin/env bash
# Installs the apt packages a task needs; idempotent (apt-get update only when something is missing).
#   scripts/deps.sh test    unit/integration/browser/packaging/e2e tests
#   scripts/deps.sh run     `make run`
#   scripts/deps.sh bench   benchmarks (test + load generators)
#   scripts/deps.sh go-bootstrap   a go command for scripts/go.sh to fetch Go with (it removes it again)
# Go itself comes from scripts/go.sh.
# Services of installed packages are not started (policy-rc.d), so nothing is left running.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

mode=${1:-test}
case "$mode" in
	run) pkgs=(prometheus curl ca-certificates) ;;
	go-bootstrap) pkgs=(golang-go ca-certificates) ;;
	test) pkgs=(prometheus systemd systemd-container debootstrap rpm dpkg-dev curl ca-certificates jq
		lintian rpmlint man-db apt-utils gnupg qemu-user-static chromium fonts-dejavu-core
		qemu-system-x86 qemu-utils e2fsprogs openssh-client python3-prometheus-client
		prometheus-alertmanager python3-aiosmtpd victoria-metrics prometheus-node-exporter) ;;
	bench) pkgs=(prometheus systemd systemd-container debootstrap rpm dpkg-dev curl ca-certificates jq
		lintian rpmlint man-db apt-utils gnupg qemu-user-static chromium fonts-dejavu-core
		wrk stress-ng prometheus-node-exporter) ;;
	*) echo "usage: $0 test|run|bench|go-bootstrap" >&2; exit 2 ;;
esac

# The browser tests fetch axe-core from the npm registry with npm. Only when there is no npm: a
# nodejs from elsewhere (NodeSource) brings its own, and Debian's npm would conflict with it.
if [ "$mode" = test ] && ! command -v npm >/dev/null 2>&1; then
	pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi

echo "deps.sh: installing ${missing[*]}"
# Debian's prometheus ships an init script: without this, invoke-rc.d would start it on a machine
# without systemd. Only add a policy when none exists, and remove only our own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from edge-observability scripts/deps.sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 0755 "$policy"
	own_policy=true
fi
cleanup() {
	if $own_policy; then
		$sudo rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
