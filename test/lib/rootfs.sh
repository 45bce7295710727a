# shellcheck shell=bash
# Debian root trees for the guests: one-shot commands in a tree (systemd-nspawn,
# not booted, host network) and the private cgroups that let everything nspawn
# created be found and removed. Sourced after harness.sh.
# Callers set WORK, MACHINE (a name unique to the run) and, for rootfs_run, ROOT.

declare -p NSPAWN_ARGS >/dev/null 2>&1 || NSPAWN_ARGS=()

# nspawn with --keep-unit uses the caller's cgroup as the container's: the
# nspawn process goes into cgroups of its own first.
nspawn_cg() { echo "edge-e2e-$MACHINE"; }

enter_cg() {
	local h mem cg
	cg=$(nspawn_cg)
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
	cg=$(nspawn_cg)
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

# rootfs_run CMD...: a one-shot command in $ROOT (not booted), host network;
# extra nspawn options in the array NSPAWN_ARGS.
rootfs_run() {
	(
		enter_cg
		exec systemd-nspawn -q -D "$ROOT" --machine="$MACHINE" --register=no --keep-unit \
			--setenv=DEBIAN_FRONTEND=noninteractive "${NSPAWN_ARGS[@]}" "$@"
	)
	local rc=$?
	cleanup_cg
	return $rc
}

# debootstrap_into DIR SUITE INCLUDE: a minbase Debian tree; the log goes to $WORK/logs.
debootstrap_into() {
	local mirror
	mirror=$(debian_mirror)
	if ! debootstrap --variant=minbase --include="$3" "$2" "$1" "$mirror" >"$WORK/logs/debootstrap.log" 2>&1; then
		tail -n 30 "$WORK/logs/debootstrap.log" >&2
		die "debootstrap $2 from $mirror failed (log above)"
	fi
}

# rootfs_tarball NAME SUITE INCLUDE [SETUP]: prints the path of a tarball of a minbase SUITE
# tree with INCLUDE in which the shell command SETUP ran (rootfs_run, host network), built
# when missing. Kept in $CACHE_DIR under a key of its inputs; a new key removes NAME's older
# tarballs of SUITE. Progress and errors go to stderr.
ROOTFS_CACHE_VERSION=3
rootfs_tarball() {
	local name=$1 suite=$2 include=$3 setup=${4:-} mirror key tarball
	mirror=$(debian_mirror)
	key=$(printf 'v=%s suite=%s include=%s setup=%s mirror=%s\n' \
		"$ROOTFS_CACHE_VERSION" "$suite" "$include" "$setup" "$mirror" | sha256sum | cut -c1-16)
	tarball=$CACHE_DIR/$name-$suite-$key.tar
	mkdir -p "$CACHE_DIR" "$WORK/logs"
	(
		flock 9
		[ -s "$tarball" ] && exit 0
		log "building rootfs cache $tarball from $mirror (takes ~2 min)"
		build=$WORK/build-$name-$suite
		rm -rf "$build"
		debootstrap_into "$build" "$suite" "$include"
		if [ -n "$setup" ] && ! ROOT=$build rootfs_run sh -c "$setup" >"$WORK/logs/$name-setup.log" 2>&1; then
			tail -n 30 "$WORK/logs/$name-setup.log" >&2
			die "preparing the $suite tree ($setup) failed (log above)"
		fi
		tar -C "$build" -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
		rm -rf "$build"
		# Older keys are dead weight (a run still untarring one keeps its open file).
		find "$CACHE_DIR" -maxdepth 1 -name "$name-$suite-*.tar" ! -name "${tarball##*/}" -delete
	) 9>"$CACHE_DIR/.lock-$name" >&2 || return 1
	echo "$tarball"
}
