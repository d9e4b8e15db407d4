#!/usr/bin/env bash
# Runs a set of verification benchmarks and prints, per subject, the medians
# and the ratio of the in-process verification rate to the raw OpenSSL
# verification rate of the same signature, both measured in the same run.
#
# Usage: bench/verify_ratios.sh NAME TARGET_PERCENT FILTER BENCH_BINARY \
#          LABEL:VERIFY_BENCHMARK:RAW_BENCHMARK... [-- extra benchmark flags]
# Benchmarks matched by FILTER and not named in a pair are listed as a
# breakdown. Environment: BENCH_OUT folder for the benchmark JSON (default: a
# temporary folder). Needs jq. Exit status 0 when the benchmarks ran (target
# met or not).
set -euo pipefail

name="$1" target="$2" filter="$3" bench="$4"
shift 4
pairs=()
while [[ $# -gt 0 && "$1" != "--" ]]; do pairs+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift

command -v jq >/dev/null || { echo "$name: jq is not installed" >&2; exit 1; }
[[ -x "$bench" ]] || { echo "$name: no bench binary at $bench" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="${BENCH_OUT:-$tmp}"
mkdir -p "$out"
json="$out/$name.json"

"$bench" --benchmark_filter="$filter" \
  --benchmark_repetitions=5 --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json "$@" >/dev/null

# Median CPU time in microseconds of each benchmark, by name.
medians="$(jq -c '
  [.benchmarks[] | select(.aggregate_name == "median")
   | {key: .run_name,
      value: (.cpu_time / (if .time_unit == "ns" then 1000 elif .time_unit == "us" then 1
                           elif .time_unit == "ms" then 0.001 else 0.000001 end))}]
  | from_entries' "$json")"

echo "$name: medians of 5 repetitions, CPU time per verification (us); ratios within the same run"
printf '%-12s %10s %10s %10s %10s %11s %s\n' subject verify_us raw_us verify/s raw/s \
  verify/raw "target>=${target}%"
named=()
for pair in "${pairs[@]}"; do
  IFS=: read -r label verify raw <<<"$pair"
  named+=("$verify" "$raw")
  jq -r --arg v "$verify" --arg r "$raw" --arg l "$label" --argjson target "$target" '
    .[$v] as $q | .[$r] as $w
    | if $q == null or $w == null then [$l, "skipped (benchmark did not run)"] | join("\t")
      else ($w / $q * 100) as $ratio
        | [$l, $q, $w, (1e6 / $q), (1e6 / $w), $ratio,
           (if $ratio >= $target then "met" else "NOT met" end)] | map(tostring) | join("\t")
      end' <<<"$medians" |
    while IFS=$'\t' read -r l q w qps wps ratio verdict; do
      if [[ -z "${w:-}" ]]; then printf '%-12s %s\n' "$l" "$q"; continue; fi
      printf '%-12s %10.2f %10.2f %10.0f %10.0f %10.1f%% %s\n' "$l" "$q" "$w" "$qps" "$wps" \
        "$ratio" "$verdict"
    done
done
echo
echo "breakdown (us)"
jq -r --argjson named "$(printf '%s\n' "${named[@]}" | jq -R . | jq -s .)" '
  [to_entries[] | select(.key as $k | $named | index($k) | not) | "\(.key)\t\(.value)"] | .[]' \
  <<<"$medians" |
  while IFS=$'\t' read -r bm us; do printf '  %-28s %8.2f\n' "$bm" "$us"; done
[[ -n "${BENCH_OUT:-}" ]] && echo && echo "benchmark JSON in $json"
exit 0
