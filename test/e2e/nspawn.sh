# shellcheck shell=bash
# Helpers to boot a real systemd as PID 1 in systemd-nspawn on a host whose
# PID 1 is not systemd (hybrid cgroup v1 + unified). Sourced by run.sh.
#
# Callers set: WORK (per-run state dir), ROOT (rootfs dir), MACHINE (container
# name), CACHE_DIR (rootfs tarball cache), EXTRA_PKGS (.debs fetched for
# offline apt inside), NSPAWN_ARGS (array, extra nspawn options).

E2E_CACHE_VERSION=2
E2E_INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd
E2E_SUITE=bookworm
E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '%s e2e: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# debian_mirror prints the host's Debian mirror (deb822 sources first).
debian_mirror() {
	local m=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
		m=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

# The nspawn process goes into cgroups of its own (with --keep-unit it uses
# the caller's cgroup as the container's), so that everything the container
# created can be found and removed afterwards.
CG_NAME() { echo "edge-e2e-$MACHINE"; }

enter_cg() {
	local h mem cg
	cg=$(CG_NAME)
	for h in systemd unified; do
		[ -d /sys/fs/cgroup/$h ] || continue
		mkdir -p "/sys/fs/cgroup/$h/$cg"
		echo "$BASHPID" >"/sys/fs/cgroup/$h/$cg/cgroup.procs"
	done
	if [ -d /sys/fs/cgroup/memory ]; then
		mem=/sys/fs/cgroup/memory$(awk -F: '$2=="memory"{print $3}' "/proc/$BASHPID/cgroup")
		mem=${mem%/}
		[ "${mem##*/}" = "$cg" ] || mem=$mem/$cg
		mkdir -p "$mem"
		echo "$mem" >"$WORK/memcg"
		echo "$BASHPID" >"$mem/cgroup.procs"
	fi
}

cleanup_cg() {
	local d cg
	cg=$(CG_NAME)
	# A halted container leaves empty directories; remove children first.
	for d in /sys/fs/cgroup/systemd/$cg /sys/fs/cgroup/unified/$cg $(cat "$WORK/memcg" 2>/dev/null); do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	# Controllers that nspawn does not namespace (cpu, pids, devices, ... on a
	# hybrid host) get the container's slices at the host's root: remove the
	# ones that appeared while it ran (rmdir only succeeds on empty cgroups).
	if [ -f "$WORK/cgroots.before" ]; then
		list_root_cgroups | sort | comm -13 "$WORK/cgroots.before" - | while read -r d; do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	fi
	rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
	return 0
}

list_root_cgroups() {
	local c
	for c in /sys/fs/cgroup/*/; do
		case $c in */systemd/ | */unified/) continue ;; esac
		find "$c" -mindepth 1 -maxdepth 1 -type d
	done
}

ns_run() { # one-shot command in the rootfs (not booted), host network
	(
		enter_cg
		exec systemd-nspawn -q -D "$ROOT" --machine="$MACHINE" --register=no --keep-unit \
			--setenv=DEBIAN_FRONTEND=noninteractive "${NSPAWN_ARGS[@]}" "$@"
	)
	local rc=$?
	cleanup_cg
	return $rc
}

# prepare_rootfs unpacks the cached rootfs into $ROOT, building the cache
# first when needed (debootstrap + offline .debs for $EXTRA_PKGS).
prepare_rootfs() {
	local mirror key tarball build
	mirror=$(debian_mirror)
	key=$(printf 'v=%s suite=%s include=%s extra=%s mirror=%s\n' \
		"$E2E_CACHE_VERSION" "$E2E_SUITE" "$E2E_INCLUDE" "$EXTRA_PKGS" "$mirror" | sha256sum | cut -c1-16)
	tarball=$CACHE_DIR/rootfs-$E2E_SUITE-$key.tar
	mkdir -p "$CACHE_DIR"
	(
		flock 9
		[ -s "$tarball" ] && exit 0
		log "building rootfs cache $tarball from $mirror (takes ~2 min)"
		build=$WORK/build-rootfs
		rm -rf "$build"
		if ! debootstrap --variant=minbase --include="$E2E_INCLUDE" "$E2E_SUITE" "$build" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
			tail -n 30 "$WORK/debootstrap.log" >&2
			die "debootstrap failed (log above)"
		fi
		# Fetch the package lists and .debs now, with the host's network, so
		# that apt works offline in the booted container (--private-network).
		if ! ROOT=$build ns_run sh -c "apt-get clean && apt-get update -q && apt-get install -y -q --no-install-recommends --download-only $EXTRA_PKGS" >"$WORK/prepare.log" 2>&1; then
			tail -n 30 "$WORK/prepare.log" >&2
			die "downloading $EXTRA_PKGS into the rootfs failed (log above)"
		fi
		tar -C "$build" -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
		rm -rf "$build"
		# Older cache keys are dead weight (a run still untarring one keeps its open file).
		find "$CACHE_DIR" -maxdepth 1 -name 'rootfs-*.tar' ! -name "${tarball##*/}" -delete
	) 9>"$CACHE_DIR/.lock" || return 1
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xpf "$tarball"
	echo "$MACHINE" >"$ROOT/etc/hostname"
	cat >"$ROOT/usr/local/sbin/cgrw-init" <<'EOF'
#!/bin/sh
# nspawn mounts the cgroup v1 controllers read-only, so systemd could not
# apply MemoryMax=/CPUQuota=; remount them writable, then become systemd.
for d in /sys/fs/cgroup/*/; do
	case $d in */systemd/ | */unified/) continue ;; esac
	mountpoint -q "$d" && mount -o remount,bind,rw "$d"
done
exec /lib/systemd/systemd "$@"
EOF
	chmod 0755 "$ROOT/usr/local/sbin/cgrw-init"
	# A throwaway system: skip dpkg's fsync()s, which dominate install time.
	echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/e2e-unsafe-io"
}

# nspawn_lock serialises the containers of this project's tests on a host:
# their systemd shares the host's root cgroup of the controllers that nspawn
# does not namespace (cpu, pids, ...). Held (fd 7) until the caller exits.
nspawn_lock() {
	[ "${NSPAWN_LOCK_HELD:-0}" = 1 ] && return 0
	mkdir -p /run/lock
	exec 7>/run/lock/edge-observability-nspawn.lock
	if ! flock -n 7; then
		log "another test container of this project is running; waiting for it"
		flock 7
	fi
	NSPAWN_LOCK_HELD=1
}

# boot starts the container in the background and waits until its systemd
# reports running or degraded. Sets LEADER (systemd's PID on the host).
boot() {
	local st
	nspawn_lock
	list_root_cgroups | sort >"$WORK/cgroots.before"
	(
		enter_cg
		exec setsid systemd-nspawn -q -D "$ROOT" --machine="$MACHINE" --register=no --keep-unit \
			--private-network --kill-signal=SIGRTMIN+3 --console=passive "${NSPAWN_ARGS[@]}" \
			/usr/local/sbin/cgrw-init
	) >"$WORK/console.log" 2>&1 &
	NSPAWN_PID=$!
	echo "$NSPAWN_PID" >"$WORK/nspawn.pid"
	LEADER=""
	for _ in $(seq 150); do
		LEADER=$(ps -o pid=,comm= --ppid "$NSPAWN_PID" 2>/dev/null | awk '$2=="systemd"{print $1}' || true)
		[ -n "$LEADER" ] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.2
	done
	if [ -z "$LEADER" ]; then
		cat "$WORK/console.log" >&2
		die "container did not start systemd"
	fi
	echo "$LEADER" >"$WORK/leader.pid"
	for _ in $(seq 300); do
		st=$(cexec systemctl is-system-running 2>/dev/null || true)
		case $st in running | degraded)
			log "container $MACHINE booted (systemd PID $LEADER on the host): $st"
			[ "$st" = degraded ] && cexec systemctl --failed --no-pager >&2
			return 0
			;;
		esac
		sleep 0.2
	done
	cat "$WORK/console.log" >&2
	die "container systemd did not reach running/degraded (last: ${st:-none})"
}

# cexec runs a command inside the booted container (all its namespaces).
cexec() {
	timeout "${CEXEC_TIMEOUT:-300}" nsenter -t "$LEADER" -a \
		env -i PATH="$E2E_PATH" TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"
}

# cnet runs a HOST command in the container's network namespace only (host
# curl/jq reach 127.0.0.1 services inside).
cnet() {
	timeout "${CEXEC_TIMEOUT:-300}" nsenter -t "$LEADER" -n "$@"
}

stop_container() {
	local p
	p=$(cat "$WORK/nspawn.pid" 2>/dev/null) || return 0
	if kill -0 "$p" 2>/dev/null; then
		kill -TERM "$p" 2>/dev/null || true # nspawn turns this into SIGRTMIN+3: clean halt
		for _ in $(seq 150); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$p" 2>/dev/null; then
			log "container did not halt in 30s; killing nspawn $p"
			kill -KILL "$p" 2>/dev/null || true
			sleep 1
		fi
	fi
	rm -f "$WORK/nspawn.pid" "$WORK/leader.pid"
	cleanup_cg
}
