#!/usr/bin/env bash
# Runs the TPM quote verification benchmarks (bench/tpm_quote_bench.cc) and
# prints, per signature scheme, the medians and the ratio of the in-process
# quote verification rate to the raw OpenSSL verification rate of the same
# signature, both measured in the same run (target: >= 70%).
#
# Usage: bench/quote_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
#   CONCIERGE_BENCH_BINARY  default: <repo>/build/bin/concierge_bench
# Environment: BENCH_OUT  folder for the benchmark JSON (default: a temp folder)
# Needs jq. Exit status 0 when the benchmarks ran (target met or not).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
target=70

command -v jq >/dev/null || { echo "quote_ratios: jq is not installed" >&2; exit 1; }
[[ -x "$bench" ]] || { echo "quote_ratios: no bench binary at $bench" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="${BENCH_OUT:-$tmp}"
mkdir -p "$out"
json="$out/tpm_quote.json"

"$bench" --benchmark_filter='^BM_(VerifyQuote|RawOpenSsl|ParseQuote|Concierge)' \
  --benchmark_repetitions=5 --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json "$@" >/dev/null

# Median CPU time in microseconds of each benchmark, by name.
medians="$(jq -c '
  [.benchmarks[] | select(.aggregate_name == "median")
   | {key: .run_name,
      value: (.cpu_time / (if .time_unit == "ns" then 1000 elif .time_unit == "us" then 1
                           elif .time_unit == "ms" then 0.001 else 0.000001 end))}]
  | from_entries' "$json")"

echo "medians of 5 repetitions, CPU time per verification (us); ratios within the same run"
printf '%-12s %10s %10s %10s %10s %11s %s\n' scheme quote_us raw_us quotes/s raw/s \
  quote/raw "target>=${target}%"
for scheme in EcdsaP256 Rsa2048; do
  jq -r --arg s "$scheme" --argjson target "$target" '
    .["BM_VerifyQuote" + $s] as $q | .["BM_RawOpenSsl" + $s] as $r
    | select($q != null and $r != null)
    | ($r / $q * 100) as $ratio
    | [$s, $q, $r, (1e6 / $q), (1e6 / $r), $ratio,
       (if $ratio >= $target then "met" else "NOT met" end)]
    | map(tostring) | join("\t")' <<<"$medians" |
    while IFS=$'\t' read -r s q r qps rps ratio verdict; do
      printf '%-12s %10.2f %10.2f %10.0f %10.0f %10.1f%% %s\n' "$s" "$q" "$r" "$qps" "$rps" \
        "$ratio" "$verdict"
    done
done
echo
echo "breakdown (us): parse_quote alone; core signature wrappers on the same message"
jq -r '[to_entries[] | select(.key | test("^BM_(ParseQuote|Concierge)"))
        | "\(.key)\t\(.value)"] | .[]' <<<"$medians" |
  while IFS=$'\t' read -r name us; do printf '  %-24s %8.2f\n' "$name" "$us"; done
[[ -n "${BENCH_OUT:-}" ]] && echo && echo "benchmark JSON in $json"
exit 0
