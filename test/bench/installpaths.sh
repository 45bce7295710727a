#!/usr/bin/env bash
# What each install path costs (`test/bench/run.sh installpaths`, in `make bench`): in a booted
# Debian 12 container (nspawn) with a clean root, apt's plan for the package with Recommends (apt's
# default) and without (the README's command), the installed size of each, then the install with
# Recommends done for real: the units it starts and keeps running beyond the stack's, and their
# memory (benchtool cgsoak) after INSTALLPATHS_SETTLE seconds. The stack's own memory is in
# docs/BENCHMARKS.md ("The default stack against Netdata").
#   INSTALLPATHS_SETTLE=120 INSTALLPATHS_SOAK=120   seconds
# Results: test/bench/results/installpaths/ and test/bench/results/installpaths.md.
# dpkg-query's format and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016
set -Eeuo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
STACK_GUEST=nspawn
GUEST_FETCH_RECOMMENDS=1 # the whole plan of apt's default install, fetched before boot
# shellcheck source=test/lib/guest-stack.sh
. "$REPO/test/lib/guest-stack.sh"
SETTLE=${INSTALLPATHS_SETTLE:-120}
SOAK=${INSTALLPATHS_SOAK:-120}
STACK_JOURNAL=""

# Not stack_up: it installs the package without Recommends.
OUT=$RESULTS/installpaths MACHINE=edgeinst$$
DEB=$(amd64_deb "${INSTALLPATHS_DEB:-}")
make_workdir edge-installpaths
ROOT=$WORK/rootfs
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
LOG_FILE=$OUT/log.txt
trap stack_down EXIT
trap 'exit 130' INT TERM
BT=$WORK/benchtool
(cd "$REPO" && go build -o "$BT" ./test/bench/benchtool) || die "building benchtool failed"
guest_prepare "$DEB"
guest_boot
gexec mkdir -p /debs
gput "$DEB" "/debs/${DEB##*/}"
gput "$BT" /usr/local/bin/benchtool
gexec chmod 0755 /usr/local/bin/benchtool
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "package: ${DEB##*/}, commit $(git -C "$REPO" rev-parse --short HEAD)"
	echo "guest: nspawn, $(gexec sh -c '. /etc/os-release && echo "$PRETTY_NAME"')"
	echo "knobs: INSTALLPATHS_SETTLE=$SETTLE INSTALLPATHS_SOAK=$SOAK"
	echo "load: $(load)"
} >"$OUT/env.txt"

# apt's plans from the same clean root: "Inst PACKAGE" lines.
for path in recommends no-recommends; do
	opt=--install-recommends
	[ $path = recommends ] || opt=--no-install-recommends
	gexec apt-get install -s -q $opt "/debs/${DEB##*/}" >"$OUT/plan-$path.txt" 2>&1 || die "apt-get -s $opt failed"
done
gexec systemctl list-units --no-legend --plain --state=running --type=service '*' | cut -d' ' -f1 | sort >"$OUT/running-before.txt"
gexec apt-get install -y -q "/debs/${DEB##*/}" >"$OUT/install.log" 2>&1 || die "apt's default install failed: $(tail -n 5 "$OUT/install.log")"
gexec dpkg-query -W -f='${Package} ${Installed-Size}\n' >"$OUT/installed-sizes.txt"
note "installed with Recommends; settling ${SETTLE}s"
sleep "$SETTLE"
gexec systemctl list-units --no-legend --plain --state=running --type=service '*' | cut -d' ' -f1 | sort >"$OUT/running-after.txt"
gexec systemctl list-timers --no-legend --plain --all '*' >"$OUT/timers.txt"
groups=()
for u in $(comm -13 "$OUT/running-before.txt" "$OUT/running-after.txt"); do
	groups+=("${u%.service}=$(prop "$u" ControlGroup)")
	echo "$u $(prop "$u" Slice)" >>"$OUT/new-units.txt"
done
gexec benchtool cgsoak -duration "${SOAK}s" -interval 10s -out /var/tmp/installpaths "${groups[@]}" >"$OUT/units.kv"
"$BT" installpaths-report "$OUT" | tee "$RESULTS/installpaths.md"
