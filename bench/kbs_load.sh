#!/usr/bin/env bash
# The key broker under load (bench/kbs_load.cc): complete KBS exchanges
# (auth -> attest with simulated SEV-SNP evidence -> resource, decrypted)
# over loopback against `concierge serve` on SQLite. Three runs, each after
# measuring the raw 2-core P-384 verification rate (the limit):
#   max        closed loop: the most the broker completes;
#   paced      open loop at KBS_LOAD_FRACTION (0.5) x the P-384 rate, where
#              the p99 target applies;
#   sustained  open loop at KBS_LOAD_SUSTAINED (0.5) x what `max` reached:
#              the latency of a load the broker keeps up with.
#
# Usage: bench/kbs_load.sh [BUILD_DIR] [extra concierge_kbs_load flags]
#   BUILD_DIR: holds bin/concierge and bin/concierge_kbs_load (default
#   build-release); nothing is built here.
# Environment: KBS_LOAD_SECONDS (10), KBS_LOAD_THREADS (closed loop, 4),
#   KBS_LOAD_PACED_THREADS (open loop, 16), KBS_LOAD_SERVER_THREADS (32: at
#   least one per client connection, since a kept-alive connection holds a
#   server thread), BENCH_OUT (a folder for the JSON results),
#   KBS_LOAD_DB_DIR (a folder for the SQLite database instead of the
#   temporary folder, e.g. /dev/shm to take the disk's fsync out of the
#   measurement). Targets: exchanges/s >= 50% of the P-384 rate; p99 <= 25
#   ms at that load. Exit status 0 when the runs completed (targets met or
#   not).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build-release}"
shift || true
case "$build" in /*) ;; *) build="$(pwd)/$build" ;; esac
concierge="$build/bin/concierge"
load="$build/bin/concierge_kbs_load"
for b in "$concierge" "$load"; do
  [[ -x "$b" ]] || { echo "kbs_load: no $b (build concierge_cli and concierge_kbs_load)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "kbs_load: jq is not installed" >&2; exit 1; }

seconds="${KBS_LOAD_SECONDS:-10}"
threads="${KBS_LOAD_THREADS:-4}"
paced_threads="${KBS_LOAD_PACED_THREADS:-16}"
server_threads="${KBS_LOAD_SERVER_THREADS:-32}"
fraction="${KBS_LOAD_FRACTION:-0.5}"
sustained="${KBS_LOAD_SUSTAINED:-0.5}"

work="$(mktemp -d)"
db_dir="$work"
[[ -n "${KBS_LOAD_DB_DIR:-}" ]] && db_dir="$(mktemp -d "$KBS_LOAD_DB_DIR/kbs_load.XXXXXX")"
server_pid=""
# shellcheck disable=SC2317  # (called by the trap)
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  [[ "$db_dir" == "$work" ]] || rm -rf "$db_dir"
}
trap cleanup EXIT
out="${BENCH_OUT:-$work/out}"
mkdir -p "$out"

# The guest's platform: a simulated Genoa (test roots, not AMD's).
"$concierge" snp simulate init --dir "$work/sev" --product Genoa >/dev/null
measurement="$(printf 'concierge bench guest firmware' | sha384sum | cut -d' ' -f1)"

# The broker: admin key, key-encryption key (never in the store), SQLite.
"$concierge" admin keygen --out "$work/admin.pem" --public "$work/admin.pub.pem" >/dev/null
(umask 077 && od -An -v -N32 -tx1 /dev/urandom | tr -d ' \n' > "$work/kek")
cat > "$work/config.json" <<JSON
{"listen": "127.0.0.1:0",
 "store": "sqlite:$db_dir/broker.db",
 "kek": {"file": "kek"},
 "ear_key": "ear-signing.pem",
 "admin_keys": ["admin.pub.pem"],
 "threads": $server_threads,
 "trust": {"snp_roots": ["sev/roots.pem"]}}
JSON
"$concierge" serve --config "$work/config.json" --port 0 > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q 'serving' "$work/serve.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
url="$(sed -n 's/.*on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$work/serve.log")"
[[ -n "$url" ]] || { echo "kbs_load: the broker did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
sed -n 1p "$work/serve.log"
echo "database: $db_dir/broker.db ($(df --output=fstype "$db_dir" | tail -1))"

# The owner: a secret and the guest's launch measurement as reference value.
admin=("$concierge" admin --url "$url" --key "$work/admin.pem")
head -c 32 /dev/urandom > "$work/secret"
"${admin[@]}" put-resource default/bench/key "$work/secret" >/dev/null
cat > "$work/refs.json" <<JSON
{"version": 1,
 "reference_values": [{"name": "snp.measurement", "value": "$measurement",
                       "provenance": "bench/kbs_load.sh"}]}
JSON
"${admin[@]}" add-refs "$work/refs.json" >/dev/null

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); load:$(uptime | sed 's/.*load average://')"
common=(--url "$url" --sim-state "$work/sev" --measurement "$measurement" --expect "$work/secret"
  --pid "$server_pid" --duration "$seconds" "$@")

echo
"$load" "${common[@]}" --threads "$threads" --label max | tee "$work/max.txt" || true
grep '^{' "$work/max.txt" > "$out/kbs_load_max.json" || true
echo
"$load" "${common[@]}" --threads "$paced_threads" --rate-of-limit "$fraction" --label paced |
  tee "$work/paced.txt" || true
grep '^{' "$work/paced.txt" > "$out/kbs_load_paced.json" || true
# Where the broker can keep up: paced at a fraction of the throughput the
# closed loop reached, to show the latency of a sustainable load.
max_rate="$(jq -r '.exchanges_per_s // 0' "$out/kbs_load_max.json" 2>/dev/null || echo 0)"
sustained_rate="$(jq -n "$max_rate * $sustained")"
if jq -e -n "$sustained_rate >= 1" >/dev/null; then
  echo
  "$load" "${common[@]}" --threads "$paced_threads" --rate "$sustained_rate" --label sustained |
    tee "$work/sustained.txt" || true
  grep '^{' "$work/sustained.txt" > "$out/kbs_load_sustained.json" || true
fi

kill -TERM "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo
echo "kbs_load: targets: exchanges/s >= $(jq -n "$fraction * 100")% of the 2-core P-384 rate; p99 <= 25 ms at that load"
printf '%-9s %8s %10s %10s %7s %8s %8s %8s %7s %9s %9s\n' run xchg/s p384/s ratio errors \
  p50_ms p99_ms max_ms target srv_cpu cli_cpu
for run in max paced sustained; do
  f="$out/kbs_load_$run.json"
  [[ -s "$f" ]] || { echo "$run: no result"; continue; }
  jq -r --argjson frac "$fraction" '
    [.label, .exchanges_per_s, .p384_verify_per_s, .ratio, .errors, .p50_ms, .p99_ms, .max_ms,
     (if .label == "max" then (if .ratio >= $frac then "met" else "NOT met" end)
      elif .label == "paced" then
        (if .errors == 0 and .late_at_end == 0 and .p99_ms <= 25
            and .exchanges_per_s >= $frac * .p384_verify_per_s * 0.98
         then "met" else "NOT met" end)
      else "-" end),
     .server_cpu_ms_per_exchange, .client_cpu_ms_per_exchange] | map(tostring) | join("\t")' "$f" |
    while IFS=$'\t' read -r l x p r e p50 p99 mx verdict s c; do
      printf '%-9s %8.1f %10.1f %9.1f%% %7s %8.2f %8.2f %8.2f %7s %9s %9s\n' "$l" "$x" "$p" \
        "$(jq -n "$r * 100")" "$e" "$p50" "$p99" "$mx" "$verdict" "$s" "$c"
    done
done
last=""
for run in max paced sustained; do [[ -s "$out/kbs_load_$run.json" ]] && last="$out/kbs_load_$run.json"; done
[[ -n "$last" ]] && jq -r '"server memory after the runs: VmHWM \(.server_vmhwm_kb) kB, VmRSS \(.server_vmrss_kb) kB, \(.server_threads) threads"' "$last"
[[ -s "$out/kbs_load_max.json" ]] && jq -r '"max: P-384 signing \(.p384_sign_per_s)/s beside verification \(.p384_verify_per_s)/s: with each exchange costing the guest one signature and the broker one verification on these two cores, the ratio cannot exceed \(.ceiling_ratio * 100 | . * 10 | round / 10)% (sign / (sign + verify)); the broker alone, at its CPU per exchange: \(if .broker_alone_ratio then (.broker_alone_ratio * 100 | . * 10 | round / 10 | tostring) + "%" else "n/a" end) (derived, not measured)"' "$out/kbs_load_max.json"
echo "(max: closed loop; paced: open loop at ${fraction} x the P-384 rate, where the target needs"
echo " the offered rate achieved, no errors and p99 <= 25 ms; sustained: open loop at ${sustained} x"
echo " the closed loop's rate. srv_cpu, cli_cpu: CPU ms per exchange of the broker and of the load"
echo " generator, which share the cores)"
[[ -n "${BENCH_OUT:-}" ]] && echo "JSON results in $out"
exit 0
