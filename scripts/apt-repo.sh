#!/usr/bin/env bash
# Builds a signed apt repository from the packages in dist/ (`make apt-repo`):
#   scripts/apt-repo.sh OUT_DIR [SUITE]          SUITE defaults to "stable"
# Env:
#   DIST_DIR       where the .deb files are (default: dist)
#   APT_REPO_KEY   key ID or fingerprint of a secret key in your GnuPG keyring (GNUPGHOME) to sign
#                  with. Without it, a throwaway key is generated for this run and deleted after
#                  signing: clients must fetch the new public keyring after every run.
# Layout: OUT_DIR/pool/main/*.deb (packages of earlier runs stay, so apt sees every version),
# OUT_DIR/dists/SUITE/{Release,InRelease,Release.gpg}, OUT_DIR/dists/SUITE/main/binary-ARCH/Packages(.gz)
# for amd64, arm64 and armhf, and OUT_DIR/edge-observability-archive-keyring.gpg, the public key
# for signed-by=. Prints the sources.list line.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT_DIR [SUITE]" >&2; exit 2; }
SUITE=${2:-stable}
DIST_DIR=${DIST_DIR:-dist}
ARCHES="amd64 arm64 armhf"
case "$SUITE" in */* | "" | .*) echo "apt-repo.sh: bad suite name '$SUITE'" >&2; exit 2 ;; esac
for tool in apt-ftparchive gpg; do
	command -v "$tool" >/dev/null || { echo "apt-repo.sh: $tool missing (scripts/deps.sh test installs apt-utils and gnupg)" >&2; exit 1; }
done
shopt -s nullglob
debs=("$DIST_DIR"/*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "apt-repo.sh: no .deb in $DIST_DIR (run make package)" >&2; exit 1; }

mkdir -p "$1"
out=$(cd "$1" && pwd)
mkdir -p "$out/pool/main"
cp "${debs[@]}" "$out/pool/main/"

# Indexes, with paths relative to the repository root as apt wants them.
suite_dir=dists/$SUITE
for arch in $ARCHES; do
	mkdir -p "$out/$suite_dir/main/binary-$arch"
	(cd "$out" && apt-ftparchive --arch "$arch" packages pool/main) >"$out/$suite_dir/main/binary-$arch/Packages"
	gzip -9nkf "$out/$suite_dir/main/binary-$arch/Packages"
done
rm -f "$out/$suite_dir/Release" "$out/$suite_dir/InRelease" "$out/$suite_dir/Release.gpg"
release=$(cd "$out" && apt-ftparchive \
	-o APT::FTPArchive::Release::Origin=edge-observability \
	-o APT::FTPArchive::Release::Label=edge-observability \
	-o APT::FTPArchive::Release::Suite="$SUITE" \
	-o APT::FTPArchive::Release::Codename="$SUITE" \
	-o APT::FTPArchive::Release::Architectures="$ARCHES" \
	-o APT::FTPArchive::Release::Components=main \
	release "$suite_dir")
printf '%s\n' "$release" >"$out/$suite_dir/Release"

gpg() { command gpg --batch --quiet --no-auto-check-trustdb "$@"; }
# Signing key: the user's, or a throwaway one in a keyring that lives only for this run.
key=${APT_REPO_KEY:-}
if [ -z "$key" ]; then
	GNUPGHOME=$(mktemp -d)
	export GNUPGHOME
	trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
	gpg --passphrase '' --quick-gen-key "edge-observability apt repository (throwaway key)" ed25519 sign 1y \
		2>"$GNUPGHOME/keygen.log" || { cat "$GNUPGHOME/keygen.log" >&2; exit 1; }
	key=$(gpg --with-colons --list-secret-keys | awk -F: '$1 == "fpr" {print $10; exit}')
	echo "apt-repo.sh: signed with throwaway key $key (set APT_REPO_KEY to sign with your own)" >&2
fi
gpg --yes --local-user "$key" --clearsign -o "$out/$suite_dir/InRelease" "$out/$suite_dir/Release"
gpg --yes --local-user "$key" --armor --detach-sign -o "$out/$suite_dir/Release.gpg" "$out/$suite_dir/Release"
keyring=$out/edge-observability-archive-keyring.gpg
gpg --yes --export "$key" >"$keyring"
[ -s "$keyring" ] || { echo "apt-repo.sh: could not export the public key of $key" >&2; exit 1; }

echo "deb [signed-by=$keyring] file:$out $SUITE main"
