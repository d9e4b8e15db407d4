#!/usr/bin/env bash
# TPM quote verification (bench/tpm_quote_bench.cc) against raw OpenSSL
# verification of the same signature, same run; target >= 70%.
# Usage: bench/quote_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
exec "$repo/bench/verify_ratios.sh" tpm_quote 70 '^BM_(VerifyQuote|RawOpenSsl(Ecdsa|Rsa)|ParseQuote|Concierge)' \
  "$bench" EcdsaP256:BM_VerifyQuoteEcdsaP256:BM_RawOpenSslEcdsaP256 \
  Rsa2048:BM_VerifyQuoteRsa2048:BM_RawOpenSslRsa2048 -- "$@"
