#!/usr/bin/env bash
# Go for the build: prints the bin/ directory of a go command at least as new as go.mod's `go`
# line, and installs Go $GO_VERSION first when there is none, saying what it installs (stderr).
#   scripts/go.sh          find or install, print the directory
#   scripts/go.sh --find   find only (no install, no network): a suitable Go's bin/, or else the
#                          bin/ the install would create
#   scripts/go.sh --install  install Go $GO_VERSION even when another suitable Go exists
# Looked for, in order: go on PATH, /usr/local/go, $GO_SDK/go$GO_VERSION. The install goes to
# $GO_SDK/go$GO_VERSION (GO_SDK defaults to ~/sdk, where golang.org/dl puts Go too), never over
# another Go.
#
# The install is the go command's own: `go mod download` of golang.org/toolchain
# v0.0.1-go$GO_VERSION.linux-$ARCH, the module the toolchain switch of Go 1.21+ runs
# (`GOTOOLCHAIN=go1.26.11 go version`), from the Go module proxy ($GOPROXY, default
# proxy.golang.org). The go command checks it against the checksum database sum.golang.org: the
# zip's h1: hash (a SHA-256 over its files) must equal the database's record, that record must be
# in the database's Merkle tree (an inclusion proof from the tree's tiles), and the tree's head
# must carry sum.golang.org's signature (its public key is compiled into the go command). Any Go
# from 1.13 on does this; when there is none, Debian's golang-go is installed from apt for it
# (1.19 on Debian 12, 1.24 on 13) and removed again afterwards. Then, as the toolchain switch does,
# the commands get their execute bits (zips keep none) and the _go.mod files become go.mod.
# Why not shell alone (curl, a dirhash with sha256sum, the lookup): the record would then be as
# good as the server that sent it, the same proxy as the zip's, and the tree head's signature
# binds nothing without the record's inclusion proof, which is what the go command adds.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
GO_VERSION=${GO_VERSION:-1.26.11}
GO_SDK=${GO_SDK:-${HOME:-/root}/sdk}
DEST=$GO_SDK/go$GO_VERSION

say() { echo "go.sh: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# version GO: the release of the go command GO ("1.26.8"), "" when it does not run. Asked outside
# any module and with GOTOOLCHAIN=local, so that it never switches toolchains itself.
version() {
	local v
	v=$(cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) || return 0
	v=${v%% *}
	echo "${v#go}"
}

at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; } # HAVE NEED

NEED=$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$REPO/go.mod")
[ -n "$NEED" ] || die "no 'go' line in $REPO/go.mod"
at_least "$GO_VERSION" "$NEED" || die "GO_VERSION=$GO_VERSION is older than go.mod's go $NEED"

# find_go prints the bin/ directory of the first suitable go command; false when there is none.
find_go() {
	local g v
	for g in "$(command -v go || true)" /usr/local/go/bin/go "$DEST/bin/go"; do
		if [ -z "$g" ] || [ ! -x "$g" ]; then continue; fi
		v=$(version "$g")
		if [ -n "$v" ] && at_least "$v" "$NEED"; then
			dirname "$(readlink -f "$g")"
			return 0
		fi
	done
	return 1
}

# installed: Go $GO_VERSION is in $DEST already.
installed() { [ -x "$DEST/bin/go" ] && [ "$(version "$DEST/bin/go")" = "$GO_VERSION" ]; }

case ${1:-}/$# in
--find/1)
	find_go || echo "$DEST/bin"
	exit 0
	;;
--install/1) find_go() { installed && echo "$DEST/bin"; } ;; # only its own install counts
/0) ;;
*) die "usage: $0 [--find | --install]" ;;
esac
find_go && exit 0

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
armv6l | armv7l | armv8l) arch=armv6l ;;
i?86) arch=386 ;;
*) die "no Go toolchain for $(uname -m); install Go $NEED or newer and put it on PATH" ;;
esac
MODULE=golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
mkdir -p "$GO_SDK"
exec 9>"$GO_SDK/.go$GO_VERSION.lock"
flock 9
find_go && exit 0 # another run installed it meanwhile

# A go command to download with: any from 1.13 on (checksum database), else Debian's, for now.
boot="" apt_added=() tmp=""
for g in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
	if [ -z "$g" ] || [ ! -x "$g" ]; then continue; fi
	v=$(version "$g")
	if [ -n "$v" ] && at_least "$v" 1.13; then
		boot=$g
		break
	fi
done
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
	[ ${#apt_added[@]} -eq 0 ] && return 0
	say "removing ${apt_added[*]} again"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get purge -y -q "${apt_added[@]}" >/dev/null
}
trap cleanup EXIT
installed_go_pkgs() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" && $2 ~ /^golang/ {print $2}' | sort; }
if [ -z "$boot" ]; then
	command -v apt-get >/dev/null || die "no go command and no apt-get: install Go $NEED or newer and put it on PATH"
	before=$(installed_go_pkgs)
	say "installing Debian's golang-go to download and check Go $GO_VERSION with (removed afterwards)"
	"$REPO/scripts/deps.sh" go-bootstrap >&2 # apt's output too: stdout is for the directory
	mapfile -t apt_added < <(installed_go_pkgs | comm -13 <(echo "$before") -)
	boot=/usr/bin/go
fi

tmp=$(mktemp -d "$GO_SDK/.go$GO_VERSION.XXXXXX")
proxy=${GOPROXY:-https://proxy.golang.org}
say "downloading Go $GO_VERSION ($MODULE, about 75 MB) from ${proxy%%,*} with go$(version "$boot"),"
say "checked against the checksum database sum.golang.org; installing it into $DEST"
start=$SECONDS
# Everything that could turn the check off is set here: no user go.env, no private patterns.
if ! (cd "$tmp" && env GOENV=off GOPATH="$tmp/gopath" GOMODCACHE="$tmp/mod" GOFLAGS=-modcacherw GO111MODULE=on \
	GOTOOLCHAIN=local GOPROXY="$proxy" GOSUMDB=sum.golang.org GONOSUMDB= GONOSUMCHECK= GOPRIVATE= \
	GOINSECURE= "$boot" mod download -json "$MODULE" >"$tmp/download.json"); then
	cat "$tmp/download.json" >&2 || true
	die "downloading or checking $MODULE failed (above); nothing was installed"
fi
dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' "$tmp/download.json")
sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' "$tmp/download.json")
if [ -z "$dir" ] || [ -z "$sum" ] || [ ! -f "$dir/bin/go" ]; then
	die "go mod download gave no module directory: $(cat "$tmp/download.json")"
fi
find "$dir/pkg/tool" "$dir/bin" -type f -exec chmod a+x {} +
find "$dir" -name _go.mod -execdir cp _go.mod go.mod \;
[ "$(version "$dir/bin/go")" = "$GO_VERSION" ] || die "the downloaded go command does not run as Go $GO_VERSION"
mv "$dir" "$DEST"
say "installed Go $GO_VERSION in $DEST ($sum, checked against sum.golang.org): download and check $((SECONDS - start))s, ${SECONDS}s in all"
echo "$DEST/bin"
