#!/usr/bin/env bash
# Intel DCAP (TDX) quote verification with chain and collateral cached
# (bench/dcap_verify_bench.cc) against two raw OpenSSL P-256 verifications of
# the same quote, same run; target >= 80%.
# Usage: bench/dcap_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
exec "$repo/bench/verify_ratios.sh" dcap_verify 80 '^BM_(VerifyTdx|RawOpenSslTwoP256|ParseDcap)' \
  "$bench" simulated:BM_VerifyTdxSimulated:BM_RawOpenSslTwoP256Simulated \
  real:BM_VerifyTdxReal:BM_RawOpenSslTwoP256Real -- "$@"
