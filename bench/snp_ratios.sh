#!/usr/bin/env bash
# SEV-SNP report verification with the chain cached (bench/snp_verify_bench.cc)
# against raw OpenSSL P-384 verification of the same signature, same run;
# target >= 85%.
# Usage: bench/snp_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
exec "$repo/bench/verify_ratios.sh" snp_verify 85 '^BM_(VerifySnp|RawOpenSslP384|ParseSnp)' \
  "$bench" real:BM_VerifySnpReal:BM_RawOpenSslP384Real \
  simulated:BM_VerifySnpSimulated:BM_RawOpenSslP384Simulated -- "$@"
