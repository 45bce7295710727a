#!/usr/bin/env bash
# Runs every fuzz target in the module for DURATION each (default 10s).
# go test -fuzz accepts one target per invocation, so targets run one at a
# time. Exits non-zero when any target fails or the listing fails.
#   scripts/fuzz.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$(scripts/go.sh):$PATH # Go as new as go.mod asks for, installed when missing
export PATH
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

# A duration -fuzztime can end in a bare "context deadline exceeded" failure
# with no failing input: a race in Go's fuzz coordinator at the deadline
# (go.dev/issue/75804, unfixed in Go 1.26). Every real failure either writes
# its input under testdata/fuzz/<target>/ or prints another reason, so only
# that exact signature is retried, once, with the number of executions the
# first run reached as a count budget (-fuzztime Nx sets no deadline).
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
corpus_files() { find "$1/testdata/fuzz/$2" -type f 2>/dev/null | sort || true; }

failed=()
while read -r pkg target; do
	echo "=== fuzz $pkg $target ($duration)"
	dir="$(go list -f '{{.Dir}}' "$pkg")"
	before="$(corpus_files "$dir" "$target")"
	if go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$duration" "$pkg" >"$out" 2>&1; then
		cat "$out"
		continue
	fi
	reasons="$(awk -v t="$target" '
		$0 ~ "^--- FAIL: " t " " { grab = 1; next }
		grab && /^    / { print; next }
		{ grab = 0 }
	' "$out")"
	execs="$(grep -o 'execs: [0-9]*' "$out" | tail -n 1 | grep -o '[0-9]*' || true)"
	if [[ "$reasons" == "    context deadline exceeded" && "$(corpus_files "$dir" "$target")" == "$before" && "${execs:-0}" -gt 0 ]]; then
		# Shown without its FAIL lines, which name no failure of the target.
		grep -v -e "^--- FAIL: $target " -e '^    context deadline exceeded$' -e '^FAIL' -e '^exit status 1$' "$out" || true
		echo "=== fuzz $pkg $target: deadline race without a failing input (go.dev/issue/75804); again for ${execs} executions"
		if go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "${execs}x" "$pkg"; then
			continue
		fi
	else
		cat "$out"
	fi
	failed+=("$pkg $target")
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
