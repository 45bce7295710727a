#!/usr/bin/env bash
# Builds edge-sensord and edgectl for each architecture and packages them as .deb and .rpm.
# Env:
#   PACKAGE_ARCHES  space-separated subset of "amd64 arm64 armv7" (default: all three)
#   VERSION         package version (default: derived from git, see version_from_git)
#   DIST_DIR        output directory (default: dist)
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$(scripts/go.sh):$PATH # Go as new as go.mod asks for, installed when missing
export PATH

PACKAGE_ARCHES=${PACKAGE_ARCHES:-amd64 arm64 armv7}
DIST_DIR=${DIST_DIR:-dist}
PKG=github.com/edgeobs/edge-observability-stack

# A version that dpkg and rpm both order correctly:
#   tag v1.2.3 on HEAD            -> 1.2.3
#   5 commits after tag v1.2.3    -> 1.2.3+git<commit time>.<sha>  (after 1.2.3, before 1.2.4)
#   no tag yet                    -> 0.1.0~git<commit time>.<sha>  (before the first release)
#   no commit yet                 -> 0.1.0~git<now>
# <commit time> is UTC YYYYMMDDHHMMSS so later snapshots sort higher; uncommitted changes use the
# current time instead of the commit time.
version_from_git() {
	local sha ts tag base sep dirty=""
	if ! sha=$(git rev-parse --short=7 HEAD 2>/dev/null); then
		echo "0.1.0~git$(date -u +%Y%m%d%H%M%S)"
		return
	fi
	if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
		dirty=1
	fi
	if [ -n "$dirty" ]; then
		ts=$(date -u +%Y%m%d%H%M%S)
	else
		ts=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
	fi
	if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
		base=${tag#v}
		if [ -z "$dirty" ] && [ "$(git rev-list -n1 "$tag")" = "$(git rev-parse HEAD)" ]; then
			echo "$base"
			return
		fi
		sep="+"
	else
		base=0.1.0
		sep="~"
	fi
	echo "${base}${sep}git${ts}.${sha}"
}

VERSION=${VERSION:-$(version_from_git)}
# Allowed by both dpkg and rpm: alphanumerics and . + ~ ; anything else becomes a dot.
VERSION=$(printf '%s' "${VERSION#v}" | tr -c 'A-Za-z0-9.+~' '.')
case "$VERSION" in
	[0-9]*) ;;
	*) echo "package.sh: version '$VERSION' must start with a digit" >&2; exit 1 ;;
esac
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS="-s -w -X $PKG/internal/version.Version=$VERSION -X $PKG/internal/version.Revision=$REVISION"

mkdir -p "$DIST_DIR"
build_root=$(mktemp -d)
trap 'rm -rf "$build_root"' EXIT

# Build nfpm once for the host.
CGO_ENABLED=0 go build -o "$build_root/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm

# Copyright, changelog, manual pages and bash completions, from the build: the manual pages and
# completions come from running the binaries, so they are built for this machine too. packaging/
# nfpm.yaml takes them from build/pkgdoc; the lock keeps a parallel run in this tree from
# replacing them while nfpm reads them.
mkdir -p build
exec 9>build/.package.lock
flock 9
rm -rf build/pkgdoc
CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$build_root/host/" ./cmd/edge-sensord ./cmd/edgectl
go run ./scripts/pkgdoc -out build/pkgdoc -version "$VERSION" -bin "$build_root/host"

for arch in $PACKAGE_ARCHES; do
	case "$arch" in
		amd64) goarch=amd64 goarm="" nfpm_arch=amd64 ;;
		arm64) goarch=arm64 goarm="" nfpm_arch=arm64 ;;
		armv7 | arm7 | armhf) goarch=arm goarm=7 nfpm_arch=arm7 ;;
		*) echo "package.sh: unknown architecture '$arch' (amd64, arm64, armv7)" >&2; exit 1 ;;
	esac
	# dist/ holds one version per architecture, so that globs in the tests match one file.
	case "$nfpm_arch" in
		amd64) rm -f "$DIST_DIR"/edge-observability_*_amd64.deb "$DIST_DIR"/edge-observability-*.x86_64.rpm ;;
		arm64) rm -f "$DIST_DIR"/edge-observability_*_arm64.deb "$DIST_DIR"/edge-observability-*.aarch64.rpm ;;
		arm7) rm -f "$DIST_DIR"/edge-observability_*_armhf.deb "$DIST_DIR"/edge-observability-*.armv7hl.rpm ;;
	esac
	bin="$build_root/$nfpm_arch"
	echo "==> building $VERSION for linux/$goarch${goarm:+ v$goarm}"
	build() {
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
			go build -trimpath -ldflags "$LDFLAGS" -o "$bin/" ./cmd/edge-sensord ./cmd/edgectl
	}
	# Under heavy parallel load Go 1.26 has failed here once with "could not import <std pkg>
	# (open : no such file or directory)"; a second attempt builds fine. Real errors fail twice.
	if ! build; then
		echo "package.sh: build failed, retrying once" >&2
		build
	fi
	for packager in deb rpm; do
		ARCH=$nfpm_arch VERSION=$VERSION BIN_DIR=$bin \
			"$build_root/nfpm" package --config packaging/nfpm.yaml --packager "$packager" --target "$DIST_DIR/"
	done
done
ls -l "$DIST_DIR"
