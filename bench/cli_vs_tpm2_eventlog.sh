#!/usr/bin/env bash
# Whole-process timing: `concierge eventlog replay LOG --json` against
# `tpm2_eventlog LOG` (Debian's tpm2-tools) on every shared event log, and on
# a synthetic 10,000-event log written by concierge_bench. Prints, per log,
# the hyperfine medians and how many times faster concierge is (target: >= 5).
#
# Usage: bench/cli_vs_tpm2_eventlog.sh [CONCIERGE_BINARY]
#   CONCIERGE_BINARY  default: <repo>/build/bin/concierge
# Environment:
#   CONCIERGE_VECTORS     shared vectors (default: <repo>/../shared/vectors);
#                         read in place, never copied
#   CONCIERGE_BENCH       bench binary that writes the synthetic log
#                         (default: concierge_bench beside CONCIERGE_BINARY;
#                         the synthetic row is skipped when it is absent)
#   BENCH_OUT             folder for hyperfine's JSON (default: a temp folder)
#   HYPERFINE_OPTS        extra hyperfine options (e.g. "--runs 50")
# Needs hyperfine, jq and tpm2_eventlog. Exit status: 0 when every log was
# timed (whether or not the target is met), 1 on a setup error.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
concierge="${1:-$repo/build/bin/concierge}"
vectors="${CONCIERGE_VECTORS:-$repo/../shared/vectors}"
bench_bin="${CONCIERGE_BENCH:-$(dirname "$concierge")/concierge_bench}"
target=5

die() { echo "cli_vs_tpm2_eventlog: $*" >&2; exit 1; }

for tool in hyperfine jq tpm2_eventlog; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x "$concierge" ]] || die "no concierge binary at $concierge (build it, or pass its path)"
"$concierge" eventlog replay --help >/dev/null 2>&1 ||
  die "'$concierge eventlog replay --help' fails: this build has no eventlog replay"
logdir="$vectors/tpm/eventlog"
[[ -d "$logdir" ]] || die "no event logs in $logdir (set CONCIERGE_VECTORS)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="${BENCH_OUT:-$tmp}"
mkdir -p "$out"

logs=("$logdir"/*.bin)
if [[ -x "$bench_bin" ]]; then
  if CONCIERGE_BENCH_WRITE_SYNTHETIC="$tmp/synthetic-10000.bin" "$bench_bin"; then
    logs+=("$tmp/synthetic-10000.bin")
  else
    echo "note: $bench_bin could not write the synthetic log; skipping it" >&2
  fi
else
  echo "note: no bench binary at $bench_bin; skipping the synthetic log" >&2
fi

echo "concierge:     $concierge"
echo "tpm2_eventlog: $(command -v tpm2_eventlog) ($(tpm2_eventlog --version 2>&1 | head -1))"
echo "machine:       $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; $(date -u +%FT%TZ)"
echo
echo "wall: hyperfine median wall-clock time; cpu: mean user+system time"
printf '%-22s %8s %10s %10s %8s %10s %10s %8s %s\n' log bytes "wall ms" "wall ms" wall "cpu ms" "cpu ms" cpu \
  "target>=${target}x"
printf '%-22s %8s %10s %10s %8s %10s %10s %8s %s\n' "" "" concierge tpm2_evlog speedup concierge \
  tpm2_evlog speedup "(wall)"

failed=0
for log in "${logs[@]}"; do
  name="$(basename "$log" .bin)"
  size="$(stat -c %s "$log")"
  # Both programs must accept the log, or the timing compares an error path.
  if ! "$concierge" eventlog replay "$log" --json >/dev/null 2>"$tmp/err"; then
    printf '%-24s %8s  skipped: concierge rejects it: %s\n' "$name" "$size" "$(head -1 "$tmp/err")"
    continue
  fi
  if ! tpm2_eventlog "$log" >/dev/null 2>"$tmp/err"; then
    printf '%-24s %8s  skipped: tpm2_eventlog rejects it: %s\n' "$name" "$size" "$(head -1 "$tmp/err")"
    continue
  fi
  # shellcheck disable=SC2086  # HYPERFINE_OPTS is a list of options
  if ! hyperfine -N --warmup 3 --style none ${HYPERFINE_OPTS:-} --export-json "$out/$name.json" \
      -n concierge "$concierge eventlog replay $log --json" \
      -n tpm2_eventlog "tpm2_eventlog $log" >"$tmp/hyperfine.log" 2>&1; then
    printf '%-24s %8s  hyperfine failed: %s\n' "$name" "$size" "$(tail -1 "$tmp/hyperfine.log")"
    failed=1
    continue
  fi
  jq -r --arg name "$name" --arg size "$size" --argjson target "$target" '
    (.results[] | select(.command == "concierge")) as $c
    | (.results[] | select(.command == "tpm2_eventlog")) as $t
    | ($c.user + $c.system) as $cc | ($t.user + $t.system) as $tc
    | [$name, $size, ($c.median * 1000), ($t.median * 1000), ($t.median / $c.median),
       ($cc * 1000), ($tc * 1000), ($tc / $cc),
       (if $t.median / $c.median >= $target then "met" else "NOT met" end)]
    | map(tostring) | join("\t")' "$out/$name.json" |
    while IFS=$'\t' read -r n s c t r cc tc rc verdict; do
      printf '%-22s %8s %10.2f %10.2f %7.1fx %10.2f %10.2f %7.1fx %s\n' \
        "$n" "$s" "$c" "$t" "$r" "$cc" "$tc" "$rc" "$verdict"
    done
done
[[ -n "${BENCH_OUT:-}" ]] && echo && echo "hyperfine JSON in $out"
exit "$failed"
