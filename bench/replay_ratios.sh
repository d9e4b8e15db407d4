#!/usr/bin/env bash
# Runs the event-log replay benchmarks (bench/eventlog_replay_bench.cc) and
# prints, per log, the medians and the ratio of replay to the bare hashing it
# implies, both measured in the same run (target: <= 2x).
#
# Usage: bench/replay_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
#   CONCIERGE_BENCH_BINARY  default: <repo>/build/bin/concierge_bench
# Environment: BENCH_OUT  folder for the benchmark JSON (default: a temp folder)
# Needs jq. Exit status 0 when the benchmarks ran (target met or not).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
target=2

command -v jq >/dev/null || { echo "replay_ratios: jq is not installed" >&2; exit 1; }
[[ -x "$bench" ]] || { echo "replay_ratios: no bench binary at $bench" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="${BENCH_OUT:-$tmp}"
mkdir -p "$out"
json="$out/eventlog_replay.json"

"$bench" --benchmark_filter='^(Parse|Replay|ReplayNoDataCheck|BareHashing|BareHashingPlusDataChecks)/' \
  --benchmark_repetitions=5 --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json "$@" >/dev/null

echo "medians of 5 repetitions, CPU time per whole log (us); ratios within the same run"
printf '%-22s %6s %9s %9s %9s %9s %9s %8s %8s %s\n' log events parse replay noCheck bare \
  bare+chk replay/ noCheck/ "target<=${target}x"
printf '%-22s %6s %9s %9s %9s %9s %9s %8s %8s\n' "" "" "" "" "" "" "" "bare+chk" bare
jq -r --argjson target "$target" '
  [.benchmarks[] | select(.aggregate_name == "median")
   | {kind: (.run_name | split("/")[0]), log: (.run_name | split("/")[1:] | join("/")),
      us: (.cpu_time / (if .time_unit == "ns" then 1000 elif .time_unit == "us" then 1
                        elif .time_unit == "ms" then 0.001 else 0.000001 end)),
      events: .events, extends: .extends}]
  | group_by(.log)[]
  | (map({key: .kind, value: .us}) | from_entries) as $t
  | select($t.Replay and $t.BareHashingPlusDataChecks)
  | ($t.Replay / $t.BareHashingPlusDataChecks) as $r
  | ($t.ReplayNoDataCheck / $t.BareHashing) as $r2
  | [.[0].log, .[0].events, $t.Parse, $t.Replay, $t.ReplayNoDataCheck, $t.BareHashing,
     $t.BareHashingPlusDataChecks, $r, $r2,
     (if .[0].extends == 0 then "n/a (no extends: nothing to hash)"
      elif $r <= $target and $r2 <= $target then "met" else "NOT met" end)]
  | map(tostring) | join("\t")' "$json" |
  while IFS=$'\t' read -r log events p r n b bc r1 r2 verdict; do
    printf '%-22s %6.0f %9.1f %9.1f %9.1f %9.1f %9.1f %7.2fx %7.2fx %s\n' \
      "$log" "$events" "$p" "$r" "$n" "$b" "$bc" "$r1" "$r2" "$verdict"
  done
[[ -n "${BENCH_OUT:-}" ]] && echo && echo "benchmark JSON in $json"
exit 0
