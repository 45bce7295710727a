# shellcheck shell=bash
# Guest backend: Debian 13 ("trixie") booted with its own kernel and systemd
# in qemu (TCG), cgroup v2 only. Once booted the guest has no network but an
# ssh port forwarded to the host's loopback (user-mode networking with
# restrict=on); gexec is ssh with a throwaway key baked into the image, and
# gnet runs its client (curl) in the guest.
# Sourced after harness.sh and rootfs.sh; see harness.sh for the interface.
#
# Callers set WORK, MACHINE, CACHE_DIR. Optional: VM_ARCH (amd64 or arm64),
# VM_APPEND (extra kernel arguments), VM_MEMORY (MiB, 1024), VM_CPUS (2),
# VM_BOOT_TIMEOUT (s, 600), VM_NICE (-10), VM_RTC (qemu's -rtc base=, "utc":
# the host's time; a date in the past boots the guest with a wrong clock, as
# a device without a real-time clock).
#
# arm64 guests run under qemu-system-aarch64 (virt machine, direct kernel
# boot, no firmware). Their image is built with mmdebstrap, whose apt runs on
# the host and whose dpkg runs in the tree under qemu-user (binfmt_misc):
# debootstrap's second stage, one dpkg call per package, took over 20 minutes
# that way.
#
# KVM is not used: on these machines /dev/kvm opens, but the guest's kernel
# stops in its decompressor with "KVM internal error. Suberror: 1 (emulation
# failure)". TCG boots it. Single-threaded TCG: with thread=multi (qemu 7.2)
# the guest kernel panicked during a package install ("invalid opcode" in
# update_curr, "Fatal exception in interrupt"); one host thread runs both
# vCPUs and leaves the other host core to the rest of the machine. That
# thread runs at nice -10 (VM_NICE): at nice 0 on a busy 2-core host the
# guest stood still for 5 s ("clocksource: Long readout interval"), long
# enough to miss the daemon's 10 s watchdog.

VM_CACHE_VERSION=1
VM_SUITE=trixie
VM_ARCH=${VM_ARCH:-amd64}
# The emulator, machine and serial console of each guest architecture.
case $VM_ARCH in
amd64) VM_QEMU=(qemu-system-x86_64) VM_CONSOLE=ttyS0 ;;
arm64) VM_QEMU=(qemu-system-aarch64 -machine virt -cpu max) VM_CONSOLE=ttyAMA0 ;;
*) die "VM_ARCH=$VM_ARCH: amd64 or arm64" ;;
esac
VM_INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd,udev
VM_INSTALL="linux-image-$VM_ARCH openssh-server curl"
VM_FETCH="prometheus man-db" # .debs in the apt cache, for offline installs in the guest
# Alertmanager, an SMTP server and ss for the alerts check and bench (amd64 guests only).
[ "$VM_ARCH" != amd64 ] || VM_FETCH+=" prometheus-alertmanager python3-aiosmtpd iproute2"
# Timers that would use the (absent) network or disturb measurements.
VM_MASK="apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer e2scrub_all.timer serial-getty@$VM_CONSOLE.service"

# vm_image DEB: sets VM_IMAGE to the cached image dir (disk.img, vmlinuz,
# initrd.img, id_ed25519), building it when missing. Keyed on its inputs,
# among them DEB's dependencies (not its version).
vm_image() {
	local mirror deps key build tmp
	mirror=$(debian_mirror)
	deps=$(dpkg-deb -f "$1" Depends Pre-Depends | tr '\n' ' ')
	key=$(printf 'v=%s suite=%s arch=%s include=%s install=%s fetch=%s deps=%s mask=%s mirror=%s\n' \
		"$VM_CACHE_VERSION" "$VM_SUITE" "$VM_ARCH" "$VM_INCLUDE" "$VM_INSTALL" "$VM_FETCH" "$deps" "$VM_MASK" "$mirror" |
		sha256sum | cut -c1-16)
	VM_IMAGE=$CACHE_DIR/vm-$VM_SUITE-$VM_ARCH-$key
	mkdir -p "$CACHE_DIR"
	(
		flock 9
		[ -s "$VM_IMAGE/disk.img" ] && exit 0
		local t0=$SECONDS
		log "building VM image $VM_IMAGE ($VM_SUITE $VM_ARCH from $mirror)"
		build=$WORK/vm-root
		tmp=$VM_IMAGE.tmp
		rm -rf "$build" "$tmp"
		mkdir -p "$tmp"
		# policy-rc.d: nothing the install starts may run outside the VM.
		local script="
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
			apt-get update -q
			apt-get install -y -q --no-install-recommends $VM_INSTALL
			apt-get clean
			apt-get install -y -q --no-install-recommends --download-only $VM_FETCH /var/tmp/${1##*/}
			rm /usr/sbin/policy-rc.d /var/tmp/${1##*/}"
		vm_rootfs "$build"
		cp "$1" "$build/var/tmp/"
		ROOT=$build rootfs_run sh -ec "$script" >"$WORK/logs/vm-image.log" 2>&1 || {
			tail -n 30 "$WORK/logs/vm-image.log" >&2
			die "installing the kernel and fetching packages into the VM image failed (log above)"
		}
		vm_configure "$build" "$tmp"
		cp "$build"/boot/vmlinuz-* "$tmp/vmlinuz"
		cp "$build"/boot/initrd.img-* "$tmp/initrd.img"
		truncate -s 4G "$tmp/disk.img"
		mkfs.ext4 -q -d "$build" -L edge-root "$tmp/disk.img"
		rm -rf "$build"
		mv "$tmp" "$VM_IMAGE"
		# Older keys are dead weight.
		find "$CACHE_DIR" -maxdepth 1 -name "vm-$VM_SUITE-$VM_ARCH-*" ! -name "${VM_IMAGE##*/}" -exec rm -rf {} +
		log "VM image built in $((SECONDS - t0))s"
	) 9>"$CACHE_DIR/.vm-lock-$VM_ARCH" || return 1
}

# vm_rootfs DIR: a minimal tree of VM_SUITE for VM_ARCH with VM_INCLUDE.
vm_rootfs() {
	[ "$VM_ARCH" != amd64 ] || {
		debootstrap_into "$1" "$VM_SUITE" "$VM_INCLUDE"
		return
	}
	binfmt_register "$VM_ARCH"
	# VM_INSTALL too: apt resolves it on the host, faster than emulated.
	mmdebstrap --mode=root --variant=apt --arch="$VM_ARCH" --include="$VM_INCLUDE,${VM_INSTALL// /,}" --dpkgopt=force-unsafe-io \
		"$VM_SUITE" "$1" "$(debian_mirror)" >"$WORK/logs/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$WORK/logs/mmdebstrap.log" >&2
		die "mmdebstrap $VM_SUITE $VM_ARCH failed (log above)"
	}
}

# binfmt_register ARCH: the kernel runs ARCH's binaries through qemu-user, also
# inside the tree (the F flag of Debian's qemu-user-static opens the emulator
# at registration).
binfmt_register() {
	local q
	case $1 in arm64) q=aarch64 ;; armhf) q=arm ;; *) q=$1 ;; esac
	[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		die "cannot mount binfmt_misc to run $1 binaries"
	[ -e "/proc/sys/fs/binfmt_misc/qemu-$q" ] && return 0
	[ -f "/usr/lib/binfmt.d/qemu-$q.conf" ] || die "no /usr/lib/binfmt.d/qemu-$q.conf (qemu-user-static)"
	cat "/usr/lib/binfmt.d/qemu-$q.conf" >/proc/sys/fs/binfmt_misc/register || die "registering qemu-$q with binfmt_misc failed"
}

# vm_configure ROOT IMAGEDIR: network, ssh key, fstab, quiet timers.
vm_configure() {
	local r=$1 u
	mkdir -p "$r/etc/systemd/network" "$r/root/.ssh"
	printf '[Match]\nType=ether\n\n[Network]\nDHCP=ipv4\n' >"$r/etc/systemd/network/10-vm.network"
	ln -sf /lib/systemd/system/systemd-networkd.service "$r/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
	ssh-keygen -q -t ed25519 -N '' -C edge-e2e-throwaway -f "$2/id_ed25519"
	cp "$2/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
	chmod 0700 "$r/root/.ssh"
	echo edge-vm >"$r/etc/hostname"
	printf '127.0.1.1\tedge-vm\n' >>"$r/etc/hosts"
	echo 'LABEL=edge-root / ext4 rw,errors=remount-ro 0 1' >"$r/etc/fstab"
	for u in $VM_MASK; do ln -sf /dev/null "$r/etc/systemd/system/$u"; done
	# A throwaway system: skip dpkg's fsync()s, which dominate install time.
	echo force-unsafe-io >"$r/etc/dpkg/dpkg.cfg.d/e2e-unsafe-io"
}

# guest_prepare DEB: the cached image, built when needed.
guest_prepare() {
	need_tools qemu-img:qemu-utils mkfs.ext4:e2fsprogs ssh:openssh-client systemd-nspawn:systemd-container
	case $VM_ARCH in
	amd64) need_tools qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap ;;
	arm64) need_tools qemu-system-aarch64:qemu-system-arm mmdebstrap:mmdebstrap qemu-aarch64-static:qemu-user-static ;;
	esac
	vm_image "$1"
	echo "$VM_IMAGE" >"$WORK/vm-image"
}

# vm_ssh_args sets the array SSH_ARGS: ssh options and destination of the running VM.
vm_ssh_args() {
	SSH_ARGS=(-i "$(cat "$WORK/vm-image")/id_ed25519" -p "$(cat "$WORK/ssh-port")"
		-o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o LogLevel=ERROR -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=8
		-o ControlMaster=auto -o ControlPath="$WORK/ssh.ctl" -o ControlPersist=300 root@127.0.0.1)
}

guest_boot() {
	local port try t0=$SECONDS
	VM_IMAGE=$(cat "$WORK/vm-image")
	# An overlay left by a VM killed without shutdown is booted again as it is.
	[ -f "$WORK/disk.qcow2" ] || qemu-img create -q -f qcow2 -b "$VM_IMAGE/disk.img" -F raw "$WORK/disk.qcow2"
	: >"$WORK/console.log"
	# A free port can be taken between the look and qemu's bind: then qemu
	# fails at once and another port is tried.
	for try in 1 2 3 4 5; do
		port=$(free_port 2) # ssh, then edge-sensord
		if nice -n "${VM_NICE:--10}" "${VM_QEMU[@]}" -accel tcg,thread=single -smp "${VM_CPUS:-2}" -m "${VM_MEMORY:-1024}" \
			-nodefaults -display none -no-reboot -daemonize -pidfile "$WORK/qemu.pid" -rtc base="${VM_RTC:-utc}" \
			-kernel "$VM_IMAGE/vmlinuz" -initrd "$VM_IMAGE/initrd.img" \
			-append "root=LABEL=edge-root rw console=$VM_CONSOLE panic=-1 ${VM_APPEND:-}" \
			-drive file="$WORK/disk.qcow2",if=virtio,format=qcow2 \
			-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:"$port"-:22,hostfwd=tcp:127.0.0.1:$((port + 1))-:8000 -device virtio-net-pci,netdev=n0 \
			-serial file:"$WORK/console.log" 2>"$WORK/logs/qemu.err"; then
			echo "$port" >"$WORK/ssh-port"
			break
		fi
		log "qemu failed on port $port (try $try): $(cat "$WORK/logs/qemu.err")"
	done
	[ -s "$WORK/ssh-port" ] || die "could not start qemu"
	log "$VM_ARCH VM booting (qemu PID $(cat "$WORK/qemu.pid"), single-threaded TCG, ssh on 127.0.0.1:$port, kernel args: ${VM_APPEND:-none extra})"
	local end=$((SECONDS + ${VM_BOOT_TIMEOUT:-600}))
	until GEXEC_TIMEOUT=30 gexec true 2>/dev/null && guest_running; do
		kill -0 "$(cat "$WORK/qemu.pid")" 2>/dev/null || {
			guest_console 40 >&2
			die "qemu exited during boot (console above)"
		}
		[ $SECONDS -lt $end ] || {
			guest_console 40 >&2
			die "the VM's systemd did not reach running/degraded in ${VM_BOOT_TIMEOUT:-600}s (console above)"
		}
		sleep 1
	done
	log "VM booted to $(gexec systemctl is-system-running || true) in $((SECONDS - t0))s"
	[ "$(gexec systemctl is-system-running || true)" = running ] || gexec systemctl --failed --no-pager >&2 || true
}

guest_console() { tail -n "${1:-20}" "$WORK/console.log" 2>/dev/null | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'; }

guest_up() { kill -0 "$(cat "$WORK/qemu.pid" 2>/dev/null)" 2>/dev/null; }

gexec_in() {
	local cmd SSH_ARGS
	vm_ssh_args
	cmd=$(printf '%q ' env -i PATH="$GUEST_PATH" TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@")
	timeout "${GEXEC_TIMEOUT:-300}" ssh "${SSH_ARGS[@]}" "$cmd"
}

gnet() { gexec "$@"; }

# edge-sensord's port is forwarded to the host's loopback, next to ssh's.
hostnet() { "$@" </dev/null; }
sensord_host_url() { echo "http://127.0.0.1:$(($(cat "$WORK/ssh-port") + 1))"; }

guest_stop() {
	local pid
	pid=$(cat "$WORK/qemu.pid" 2>/dev/null) || return 0
	if kill -0 "$pid" 2>/dev/null; then
		GEXEC_TIMEOUT=20 gexec systemctl poweroff >/dev/null 2>&1 || true
		wait_exit "$pid" 60 || {
			log "VM did not power off in 60s; stopping qemu $pid"
			kill -TERM "$pid" 2>/dev/null || true
			wait_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
		}
	fi
	local SSH_ARGS
	vm_ssh_args
	ssh "${SSH_ARGS[@]}" -O exit >/dev/null 2>&1 || true
	rm -f "$WORK/qemu.pid" "$WORK/disk.qcow2"
}
