# Helpers shared by the benches that run the stack in a booted container (stack.sh, life.sh),
# on top of the container helpers of test/e2e/nspawn.sh. Unlike test/lib's checks, a failed query here yields ""
# rather than a failure: a bench records what it saw and goes on.
# shellcheck source=test/e2e/nspawn.sh
. "$REPO/test/e2e/nspawn.sh"

load() { cut -d' ' -f1-3 /proc/loadavg; }
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; } # PART: listed in PARTS
note() { printf '%s %s\n' "$(date -u +%T)" "$*" | tee -a "$OUT/log.txt" >&2; }
prop() { cexec systemctl show -p "$2" --value "$1" || true; } # UNIT PROPERTY
prom_query() { # QUERY [TIME] [URL] -> first value or ""
	local args=(--data-urlencode "query=$1")
	[ -n "${2:-}" ] && args+=(--data-urlencode "time=$2")
	cnet curl -sf --max-time 20 "${3:-$PROM}/api/v1/query" "${args[@]}" | jq -r '.data.result[0].value[1] // ""' || true
}
prom_ready() { cnet curl -sf --max-time 2 "${1:-$PROM}/-/ready" >/dev/null 2>&1; } # [URL]
target_up() { # job edge-sensord scraped and healthy
	cnet curl -sf --max-time 5 "$PROM/api/v1/targets?state=active" 2>/dev/null |
		jq -e '[.data.activeTargets[] | select(.labels.job=="edge-sensord")] | length > 0 and all(.health=="up")' >/dev/null 2>&1
}
wait_until() { # SECONDS WHAT CMD...
	local secs=$1 end=$((SECONDS + $1)) what=$2
	shift 2
	until "$@"; do
		[ $SECONDS -lt $end ] || die "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}
