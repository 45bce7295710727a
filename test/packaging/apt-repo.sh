#!/usr/bin/env bash
# Test of scripts/apt-repo.sh (`make test-packaging`, after `make package`): a repository with two
# versions of the package, read by this machine's apt through signed-by with its own lists and
# cache (the system's sources, lists and installed packages are not touched). apt must verify
# the signature, resolve edge-observability to the newer version and download it; a tampered
# Release or a keyring without the signing key must fail.
set -euo pipefail
# shellcheck source=test/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
cd "$REPO"
DIST_DIR=${DIST_DIR:-dist}
v1=$(dpkg-deb -f "$(dist_deb "$DIST_DIR" amd64)" Version)
scripts/deps.sh test
tmp=$(mktemp -d)
# Stops the gpg-agent of the test's own keyring (if the test made one), not any other.
trap '[ ! -d "$tmp/gnupg" ] || GNUPGHOME=$tmp/gnupg gpgconf --kill all; rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's download sandbox user reads file: repositories

v2_upstream="${v1%-*}+1"
DIST_DIR=$tmp/v2 PACKAGE_ARCHES=amd64 VERSION=$v2_upstream scripts/package.sh >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; fail "building version $v2_upstream failed"; }
v2=$(dpkg-deb -f "$tmp"/v2/${PKG}_*_amd64.deb Version)

repo=$tmp/repo
DIST_DIR=$DIST_DIR scripts/apt-repo.sh "$repo" edge-test >"$tmp/line1"
cp "$repo/$PKG-archive-keyring.gpg" "$tmp/first-keyring.gpg"
# The second run signs with a key of the user's own (APT_REPO_KEY), the first with a throwaway one.
export GNUPGHOME=$tmp/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "edge-observability test signer" ed25519 sign 1d 2>/dev/null
own_key=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
DIST_DIR=$tmp/v2 APT_REPO_KEY=$own_key scripts/apt-repo.sh "$repo" edge-test >"$tmp/line2"
gpg --batch --with-colons --show-keys "$repo/$PKG-archive-keyring.gpg" 2>/dev/null | grep -q "^fpr:.*:$own_key:" ||
	fail "the exported keyring does not hold APT_REPO_KEY $own_key"
line=$(cat "$tmp/line2")
[ "$line" = "deb [signed-by=$repo/$PKG-archive-keyring.gpg] file:$repo edge-test main" ] || fail "printed sources.list line: $line"
for f in Release InRelease Release.gpg; do [ -s "$repo/dists/edge-test/$f" ] || fail "no dists/edge-test/$f"; done
grep -qx 'Architectures: amd64 arm64 armhf' "$repo/dists/edge-test/Release" || fail "Release: architectures"
packages() { zcat "$repo/dists/edge-test/main/binary-$1/Packages.gz" | sed -n 's/^Version: //p' | sort | paste -sd' ' -; }
[ "$(packages amd64)" = "$(printf '%s\n' "$v1" "$v2" | sort | paste -sd' ' -)" ] || fail "amd64 Packages.gz lists $(packages amd64), want $v1 and $v2"
for arch in arm64 armhf; do
	if [ -e "$DIST_DIR/${PKG}_${v1}_$arch.deb" ]; then
		[ "$(packages "$arch")" = "$v1" ] || fail "$arch Packages.gz lists '$(packages "$arch")', want $v1"
	fi
done
ok "repository: two versions for amd64, Release signed (InRelease, Release.gpg), keyring exported"

# apt with its own sources, lists, cache and trusted keys: only signed-by can vouch for the repository.
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/trusted.gpg.d" "$tmp/dl"
apt_opts=(-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" -o Dir::Etc::Trusted="$tmp/none.gpg"
	-o Dir::Etc::TrustedParts="$tmp/trusted.gpg.d" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
echo "$line" >"$tmp/sources.list"
apt-get "${apt_opts[@]}" update >"$tmp/update.log" 2>&1 || { cat "$tmp/update.log" >&2; fail "apt-get update from the repository failed"; }
if grep -E '^(W|E):' "$tmp/update.log"; then fail "apt-get update warned (above)"; fi
candidate=$(apt-cache "${apt_opts[@]}" policy "$PKG" | sed -n 's/^ *Candidate: //p')
[ "$candidate" = "$v2" ] || fail "apt's candidate for $PKG is '$candidate', want $v2"
apt-get "${apt_opts[@]}" install -s "$PKG" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "apt-get install -s $PKG failed"; }
inst=$(grep "^Inst $PKG " "$tmp/install.log" || true)
case "$inst" in *"($v2 "*":edge-test "*) ;; *) cat "$tmp/install.log" >&2; fail "apt-get install does not resolve $PKG $v2 from the repository" ;; esac
(cd "$tmp/dl" && apt-get "${apt_opts[@]}" download "$PKG") >"$tmp/download.log" 2>&1 || { cat "$tmp/download.log" >&2; fail "apt-get download failed"; }
cmp -s "$tmp"/dl/${PKG}_*_amd64.deb "$tmp"/v2/${PKG}_*_amd64.deb || fail "downloaded package differs from the one published"
ok "apt-get update verifies the signature; install resolves $PKG $v2 from the repository; download matches"

# A keyring without the key that signed (the previous run's throwaway key) is refused.
sed "s#signed-by=[^]]*#signed-by=$tmp/first-keyring.gpg#" "$tmp/sources.list" >"$tmp/sources.wrongkey"
rm -rf "$tmp/lists" && mkdir -p "$tmp/lists/partial"
if apt-get "${apt_opts[@]}" -o Dir::Etc::SourceList="$tmp/sources.wrongkey" update >"$tmp/wrongkey.log" 2>&1 &&
	! grep -q '^[WE]:.*NO_PUBKEY' "$tmp/wrongkey.log"; then
	cat "$tmp/wrongkey.log" >&2
	fail "apt accepted the repository with a keyring that lacks the signing key"
fi
grep -q 'NO_PUBKEY' "$tmp/wrongkey.log" || { cat "$tmp/wrongkey.log" >&2; fail "no NO_PUBKEY error for the wrong keyring"; }
ok "a keyring without the signing key: NO_PUBKEY"

# Tampered Release: an edit of the signed text breaks both signatures.
sed -i 's/^Label: edge-observability$/Label: tampered/' "$repo/dists/edge-test/InRelease" "$repo/dists/edge-test/Release"
rm -rf "$tmp/lists" && mkdir -p "$tmp/lists/partial"
if apt-get "${apt_opts[@]}" update >"$tmp/tampered.log" 2>&1 && ! grep -q '^[WE]:' "$tmp/tampered.log"; then
	cat "$tmp/tampered.log" >&2
	fail "apt accepted a tampered Release"
fi
grep -Eq 'BADSIG|invalid|not signed' "$tmp/tampered.log" || { cat "$tmp/tampered.log" >&2; fail "no signature error for the tampered Release"; }
if apt-cache "${apt_opts[@]}" policy "$PKG" | grep -q "Candidate: $v2"; then fail "apt uses the tampered repository"; fi
ok "tampered Release: $(grep -m1 -Eo 'BADSIG[^,]*|The following signatures were invalid[^.]*|is not signed' "$tmp/tampered.log")"
echo
echo "apt-repo: all checks passed"
