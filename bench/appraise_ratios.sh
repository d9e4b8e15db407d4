#!/usr/bin/env bash
# Appraisal (binding, policy, EAR signing) on top of the SEV-SNP verification
# it follows (bench/appraise_bench.cc), same run. The target "at most 15% on
# top of verification" is a rate ratio of at least 1/1.15 = 87%
# (verification time / appraisal time).
# Usage: bench/appraise_ratios.sh [CONCIERGE_BENCH_BINARY] [extra benchmark flags]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-$repo/build/bin/concierge_bench}"
shift || true
exec "$repo/bench/verify_ratios.sh" appraise 87 '^BM_(AppraiseSnp|VerifySnpEvidence)$' \
  "$bench" snp:BM_AppraiseSnp:BM_VerifySnpEvidence -- "$@"
