#!/bin/sh
# Runs every libFuzzer target in BIN_DIR for SECONDS each. Seeds come from the
# shared vectors and fuzz/seeds (read-only; new inputs go to a temporary
# corpus that is thrown away). A crash fails the run and leaves the reproducer in the
# working directory's fuzz-artifacts/ folder.
set -eu
BIN_DIR=${1:?usage: run-fuzzers.sh BIN_DIR [SECONDS]}
SECONDS_EACH=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VECTORS=${CONCIERGE_VECTORS:-$ROOT/../shared/vectors}

seeds_for() {
  case "$1" in
    eventlog_fuzz|event_decode_fuzz) echo "$VECTORS/tpm/eventlog $VECTORS/tpm/eventlog/bad $VECTORS/tdx/go-tdx-guest/ccel" ;;
    ima_fuzz) echo "$VECTORS/ima" ;;
    ccel_fuzz) echo "$VECTORS/tdx/go-tdx-guest/ccel" ;;
    snp_report_fuzz) echo "$VECTORS/snp/go-sev-guest" ;;
    dcap_quote_fuzz) echo "$VECTORS/tdx/go-tdx-guest $VECTORS/tdx/go-tdx-guest/ccel $VECTORS/tdx/intel-qvl-sample $VECTORS/sgx/intel-qvl-sample" ;;
    dcap_collateral_fuzz) echo "$VECTORS/tdx/go-tdx-guest $VECTORS/tdx/intel-qvl-sample $VECTORS/sgx/intel-qvl-sample" ;;
    x509_fuzz|dcap_pck_extension_fuzz) echo "$VECTORS/snp/amd-roots $VECTORS/tdx/intel-qvl-sample $VECTORS/sgx/intel-qvl-sample" ;;
    http_request_fuzz) echo "$ROOT/fuzz/seeds/http_request" ;;
    *) echo "" ;;
  esac
}

mkdir -p fuzz-artifacts
status=0
for fuzzer in "$BIN_DIR"/*_fuzz; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus=$(mktemp -d)
  seeds=""
  for d in $(seeds_for "$name"); do
    [ -d "$d" ] && seeds="$seeds $d"
  done
  echo "fuzz: $name for ${SECONDS_EACH}s (seeds:${seeds:- none})"
  # shellcheck disable=SC2086
  if ! "$fuzzer" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=fuzz-artifacts/"$name"- -print_final_stats=1 "$corpus" $seeds \
      >"$corpus.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "$corpus.log"; status=1
  else
    grep -E "stat::number_of_executed_units" "$corpus.log" || true
  fi
  rm -rf "$corpus" "$corpus.log"
done
exit $status
