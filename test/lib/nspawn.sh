# shellcheck shell=bash
# Guest backend: a booted systemd as PID 1 in systemd-nspawn on a host whose
# PID 1 is not systemd (here: hybrid cgroups, so the guest sees cgroup v1).
# Sourced after harness.sh and rootfs.sh; see harness.sh for the interface.
#
# Callers set: WORK, ROOT (rootfs dir), MACHINE (container name), CACHE_DIR
# (rootfs tarball cache), EXTRA_PKGS (.debs fetched for offline apt inside),
# NSPAWN_ARGS (array, extra nspawn options).

E2E_INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd
E2E_SUITE=bookworm

# prepare_rootfs unpacks the cached rootfs into $ROOT, building the cache
# first when needed (debootstrap + offline .debs for $EXTRA_PKGS).
prepare_rootfs() {
	local tarball
	# The package lists and .debs are fetched now, with the host's network, so
	# that apt works offline in the booted container (--private-network).
	tarball=$(rootfs_tarball rootfs "$E2E_SUITE" "$E2E_INCLUDE" \
		"apt-get clean && apt-get update -q && apt-get install -y -q --no-install-recommends --download-only $EXTRA_PKGS") || return 1
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xpf "$tarball"
	echo "$MACHINE" >"$ROOT/etc/hostname"
	cat >"$ROOT/usr/local/sbin/cgrw-init" <<'EOS'
#!/bin/sh
# nspawn mounts the cgroup v1 controllers read-only, so systemd could not
# apply MemoryMax=/CPUQuota=; remount them writable, then become systemd.
for d in /sys/fs/cgroup/*/; do
	case $d in */systemd/ | */unified/) continue ;; esac
	mountpoint -q "$d" && mount -o remount,bind,rw "$d"
done
exec /lib/systemd/systemd "$@"
EOS
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

# guest_prepare DEB: the rootfs, with DEB's dependencies (and the packages in
# GUEST_FETCH) in its apt cache (host network, before boot; a no-op when the
# cache is complete). GUEST_FETCH_RECOMMENDS=1 fetches their Recommends too.
guest_prepare() {
	need_tools systemd-nspawn:systemd-container debootstrap:debootstrap
	nspawn_lock
	prepare_rootfs
	mkdir -p "$WORK/debs"
	cp "$1" "$WORK/debs/"
	NSPAWN_ARGS=(--bind-ro="$WORK/debs:/debs")
	local rec=--no-install-recommends
	[ -z "${GUEST_FETCH_RECOMMENDS:-}" ] || rec=--install-recommends
	rootfs_run sh -c "apt-get install -y -q $rec --download-only /debs/${1##*/} ${GUEST_FETCH:-}" >"$WORK/logs/download.log" 2>&1 || {
		tail -n 30 "$WORK/logs/download.log" >&2
		die "could not download the package's dependencies into the rootfs"
	}
	NSPAWN_ARGS=()
}

# guest_boot starts the container in the background and waits until its
# systemd reports running or degraded. Sets LEADER (systemd's PID on the host).
# adjtimex is allowed as on a real host (nspawn allows it only with
# CAP_SYS_TIME): with modes 0 it reads whether NTP synchronised the clock.
guest_boot() {
	local nspawn_pid st
	nspawn_lock
	list_root_cgroups | sort >"$WORK/cgroots.before"
	(
		enter_cg
		exec setsid systemd-nspawn -q -D "$ROOT" --machine="$MACHINE" --register=no --keep-unit \
			--private-network --kill-signal=SIGRTMIN+3 --console=passive "${NSPAWN_ARGS[@]}" \
			--system-call-filter=adjtimex \
			/usr/local/sbin/cgrw-init
	) >"$WORK/console.log" 2>&1 &
	nspawn_pid=$!
	echo "$nspawn_pid" >"$WORK/nspawn.pid"
	LEADER=""
	for _ in $(seq 150); do
		LEADER=$(ps -o pid=,comm= --ppid "$nspawn_pid" 2>/dev/null | awk '$2=="systemd"{print $1}' || true)
		[ -n "$LEADER" ] && break
		kill -0 "$nspawn_pid" 2>/dev/null || break
		sleep 0.2
	done
	if [ -z "$LEADER" ]; then
		cat "$WORK/console.log" >&2
		die "container did not start systemd"
	fi
	echo "$LEADER" >"$WORK/leader.pid"
	wait_for 60 "the container's systemd to reach running/degraded" guest_running
	st=$(gexec systemctl is-system-running || true)
	log "container $MACHINE booted (systemd PID $LEADER on the host): $st"
	[ "$st" = degraded ] && gexec systemctl --failed --no-pager >&2
	return 0
}

guest_console() { tail -n "${1:-20}" "$WORK/console.log" 2>/dev/null; }
guest_up() { kill -0 "$(cat "$WORK/leader.pid" 2>/dev/null)" 2>/dev/null; }

# gexec_in runs a command inside the booted container (all its namespaces), stdin passed.
gexec_in() {
	local leader=${LEADER:-$(cat "$WORK/leader.pid")}
	timeout "${GEXEC_TIMEOUT:-300}" nsenter -t "$leader" -a \
		env -i PATH="$GUEST_PATH" TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"
}

# gnet runs a HOST command in the container's network namespace only (host
# curl/jq reach 127.0.0.1 services inside).
gnet() {
	local leader=${LEADER:-$(cat "$WORK/leader.pid")}
	timeout "${GEXEC_TIMEOUT:-300}" nsenter -t "$leader" -n "$@" </dev/null
}

# The container's network namespace is the host program's network.
hostnet() { gnet "$@"; }
sensord_host_url() { echo http://127.0.0.1:8000; }

guest_stop() {
	local p
	p=$(cat "$WORK/nspawn.pid" 2>/dev/null) || return 0
	if kill -0 "$p" 2>/dev/null; then
		kill -TERM "$p" 2>/dev/null || true # nspawn turns this into SIGRTMIN+3: clean halt
		wait_exit "$p" 30 || {
			log "container did not halt in 30s; killing nspawn $p"
			kill -KILL "$p" 2>/dev/null || true
			wait_exit "$p" 5 || true
		}
	fi
	rm -f "$WORK/nspawn.pid" "$WORK/leader.pid"
	cleanup_cg
}
