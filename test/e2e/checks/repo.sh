# shellcheck shell=bash
# e2e checks: signed apt repository.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/. They
# use test/lib's helpers (gexec, prop, prom_query, the version-neutral cgroup
# readers, ...), so each runs on cgroup v1 and v2.
# dpkg-query formats and scripts run in the guest are single-quoted on purpose:
# shellcheck disable=SC2016

# The repository of scripts/apt-repo.sh (make apt-repo), signed with a key of
# the run's own, copied into the guest at /srv/edge-apt and used there with
# signed-by=, as a device would use a published one.
REPO_LIST=/etc/apt/sources.list.d/edge-observability.list

# repo_key sets REPO_KEY, the signing key in $WORK/gnupg, made by the first call
# (checks run in subshells: the keyring, not a variable, carries it to the next).
repo_key() {
	export GNUPGHOME=$WORK/gnupg
	mkdir -p -m 700 "$GNUPGHOME"
	REPO_KEY=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
	[ -n "$REPO_KEY" ] && return 0
	gpg --batch --quiet --passphrase '' --quick-gen-key "edge-observability e2e repository" ed25519 sign 1d 2>/dev/null ||
		fail "could not create a signing key"
	REPO_KEY=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
}

# publish_repo DIST: add DIST's .debs to the repository, copy it into the
# guest and update the guest's lists of it alone (the guest has no network).
publish_repo() {
	repo_key
	DIST_DIR=$1 APT_REPO_KEY=$REPO_KEY "$REPO/scripts/apt-repo.sh" "$WORK/apt" e2e >"$WORK/logs/apt-repo.log" 2>&1 ||
		fail "scripts/apt-repo.sh failed: $(tail -n 5 "$WORK/logs/apt-repo.log")"
	gexec rm -rf /srv/edge-apt
	gexec mkdir -p /srv/edge-apt
	tar -C "$WORK/apt" -cf - . | gexec_in tar -C /srv/edge-apt -xf -
	gexec sh -c "echo 'deb [signed-by=/srv/edge-apt/edge-observability-archive-keyring.gpg] file:/srv/edge-apt e2e main' >$REPO_LIST"
	GEXEC_TIMEOUT=600 gexec apt-get update -o Dir::Etc::SourceList=$REPO_LIST -o Dir::Etc::SourceParts=- \
		-o APT::Get::List-Cleanup=0 >"$WORK/logs/apt-update.log" 2>&1 ||
		fail "apt-get update of the repository failed: $(tail -n 5 "$WORK/logs/apt-update.log")"
	! grep -E '^(W|E):' "$WORK/logs/apt-update.log" || fail "apt-get update warned: $(grep -E '^(W|E):' "$WORK/logs/apt-update.log")"
}

check_repo_upgrade() {
	requires check_install check_units
	local newdeb new_version ver policy build_info
	newdeb=$(upgrade_deb)
	new_version=$(dpkg-deb -f "$newdeb" Version)
	publish_repo "$(dirname "$newdeb")"
	policy=$(gexec apt-cache policy edge-observability)
	grep -q "Candidate: $new_version" <<<"$policy" || fail "apt's candidate is not $new_version: $policy"
	grep -q "file:/srv/edge-apt e2e/main" <<<"$policy" || fail "apt does not list the repository: $policy"
	GEXEC_TIMEOUT=1200 gexec apt-get upgrade -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		>"$WORK/logs/upgrade.log" 2>&1 || {
		tail -n 40 "$WORK/logs/upgrade.log" >&2
		fail "apt-get upgrade failed (log above)"
	}
	ver=$(gexec dpkg-query -W -f='${Version}' edge-observability)
	[ "$ver" = "$new_version" ] || fail "version after apt-get upgrade is $ver, want $new_version"
	gexec grep -q '^ARGS=.*--sensors.simulate' /etc/default/edge-sensord || fail "the upgrade lost the edit of /etc/default/edge-sensord"
	wait_for 90 "edge-sensord and prometheus active after the upgrade" all_active edge-sensord.service prometheus.service
	build_info=$(gnet curl -sf --max-time 5 "$SENSORD/metrics" | grep '^edge_sensor_build_info' || true)
	echo "$build_info" | grep -q "version=\"$NEW_UPSTREAM\"" ||
		fail "running edge-sensord is not the upgraded one: ${build_info:-no edge_sensor_build_info}"
	detail "repository=signed-by(key ${REPO_KEY:0:16}) install=$OLD_VERSION upgrade=$ver conffile=kept daemon=new"
}
