# shellcheck shell=bash
# e2e checks: the guest.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

# The guest under test as the log shows it: kernel, systemd, cgroup mount.
guest_facts() {
	note "guest kernel: $(gexec uname -r); $(gexec systemctl --version | head -n1)"
	note "guest /proc/mounts: $(gexec grep ' /sys/fs/cgroup' /proc/mounts | tr '\n' ';')"
	note "guest root cgroup.controllers: $(gexec cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || echo none)"
}

# guest_v2_debian13: cgroup2 alone at /sys/fs/cgroup, systemd 257, Debian 13.
guest_v2_debian13() {
	local fstype v1 sd os
	fstype=$(gexec awk '$2=="/sys/fs/cgroup" {print $3}' /proc/mounts)
	[ "$fstype" = cgroup2 ] || fail "/sys/fs/cgroup is '$fstype', want cgroup2"
	v1=$(gexec awk '$3=="cgroup" {print $2}' /proc/mounts)
	[ -z "$v1" ] || fail "cgroup v1 hierarchies mounted: $v1"
	sd=$(gexec systemctl --version | head -n1)
	case $sd in "systemd 257 "*) ;; *) fail "guest runs '$sd', want systemd 257" ;; esac
	os=$(gexec sh -c '. /etc/os-release && echo "$VERSION_ID"')
	[ "$os" = 13 ] || fail "guest is Debian '$os', want 13"
	detail "cgroup=cgroup2-only systemd=\"$sd\" debian=$os kernel=$(gexec uname -r)"
}

check_guest_v2() {
	guest_facts
	guest_v2_debian13
	gexec grep -qw memory /sys/fs/cgroup/cgroup.controllers || fail "no memory controller in the root cgroup.controllers"
}

check_guest_arm64() {
	guest_facts
	guest_v2_debian13
	local m a
	m=$(gexec uname -m)
	a=$(gexec dpkg --print-architecture)
	[ "$m" = aarch64 ] && [ "$a" = arm64 ] || fail "guest is $m/$a, want aarch64/arm64"
	detail "machine=$m dpkg_arch=$a cpu=\"$(gexec sh -c 'grep -m1 -i "^CPU part\|^model name" /proc/cpuinfo || true' | tr -s ' \t')\""
}

check_guest_nomemcg() {
	guest_facts
	guest_v2_debian13
	gexec grep -qw cgroup_disable=memory /proc/cmdline || fail "kernel command line lacks cgroup_disable=memory: $(gexec cat /proc/cmdline)"
	! gexec grep -qw memory /sys/fs/cgroup/cgroup.controllers ||
		fail "the memory controller is on despite cgroup_disable=memory: $(gexec cat /sys/fs/cgroup/cgroup.controllers)"
	detail "cmdline=cgroup_disable=memory controllers=\"$(gexec cat /sys/fs/cgroup/cgroup.controllers)\""
}
