#!/usr/bin/env bash
# Runs every fuzz target in the module for DURATION each (default 10s).
# go test -fuzz accepts one target per invocation, so targets run one at a
# time. Exits non-zero when any target fails or the listing fails.
#   scripts/fuzz.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
duration="${1:-10s}"

# `go test -list` prints the matching names of each package followed by
# "ok <package> <time>"; pair every name with the package that follows it.
# A package that does not build is a failure, but the others still run.
list_failed=0
listing="$(go test -list '^Fuzz' ./... 2>&1)" || list_failed=1
targets="$(awk '
	/^Fuzz/ { names[n++] = $1; next }
	/^ok[ \t]/ { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }
' <<<"$listing")"

if [[ -z "$targets" ]]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

failed=()
while read -r pkg target; do
	echo "=== fuzz $pkg $target ($duration)"
	if ! go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$duration" "$pkg"; then
		failed+=("$pkg $target")
	fi
done <<<"$targets"

if ((list_failed)); then
	grep -v '^Fuzz' <<<"$listing" | grep -v '^ok[[:space:]]' | grep -v '^?[[:space:]]' >&2 || true
	failed+=("listing fuzz targets (a package does not build or its tests fail to list)")
fi
if ((${#failed[@]})); then
	printf 'fuzz.sh: FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz.sh: all $(wc -l <<<"$targets") targets passed"
