#!/bin/sh
# The chain-of-trust story, on the embedded default (examples/boot-chain):
#  1. a root of trust measures itself, then each stage is measured by the one
#     before it, into software PCR banks, with a TCG event log written beside;
#  2. a verifier replays the log and gets the same PCRs;
#  3. a substituted kernel changes the PCRs, and the log diff names the stage;
#  4. (when the shared vectors are present) a real machine's log replays to
#     the PCRs read on that machine.
set -eu
CONCIERGE=${1:-build/bin/concierge}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MANIFEST="$ROOT/examples/boot-chain/manifest.json"
VECTORS=${CONCIERGE_VECTORS:-$ROOT/../shared/vectors}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Measured boot of the example chain (root of trust: $(basename "$MANIFEST"))"
"$CONCIERGE" boot --manifest "$MANIFEST" --log "$WORK/good.log"

say "2. The verifier's view: the event log, and its replay"
"$CONCIERGE" eventlog show "$WORK/good.log"
"$CONCIERGE" eventlog replay "$WORK/good.log" --json > "$WORK/good.json"
"$CONCIERGE" boot --manifest "$MANIFEST" --log "$WORK/again.log" --json > "$WORK/boot.json"
python3 - "$WORK/good.json" "$WORK/boot.json" <<'PY'
import json, sys
replayed = json.load(open(sys.argv[1]))["pcrs"]
booted = json.load(open(sys.argv[2]))["pcrs"]
assert replayed == booted, "replay differs from the measured PCRs"
print("replayed PCRs equal the PCRs measured during boot (%d banks)" % len(replayed))
PY

say "3. An attacker substitutes the kernel"
printf 'Linux 6.1 with a backdoor\n' > "$WORK/evil-vmlinuz"
"$CONCIERGE" boot --manifest "$MANIFEST" --log "$WORK/evil.log" --replace kernel="$WORK/evil-vmlinuz"
set +e
"$CONCIERGE" eventlog diff "$WORK/good.log" "$WORK/evil.log"
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
  echo "demo: expected the logs to differ (exit 1), got $rc" >&2
  exit 1
fi
echo "=> the substituted stage shows up as a wrong hash: the chain of trust caught it"

if [ -f "$VECTORS/tpm/eventlog/arch-linux.bin" ]; then
  say "4. A real machine's firmware log (Arch Linux, from the shared vectors)"
  "$CONCIERGE" eventlog show "$VECTORS/tpm/eventlog/arch-linux.bin" | head -25
  echo "..."
  "$CONCIERGE" eventlog replay "$VECTORS/tpm/eventlog/arch-linux.bin" --json > "$WORK/arch.json"
  python3 - "$WORK/arch.json" "$VECTORS/tpm/eventlog/arch-linux.expected.json" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))["pcrs"]
want = json.load(open(sys.argv[2]))["pcrs"]
for bank, pcrs in want.items():
    for pcr, value in pcrs.items():
        assert got[bank][pcr] == value, (bank, pcr)
print("replay equals the PCRs read on that machine: %s"
      % ", ".join("%s %d PCRs" % (b, len(p)) for b, p in want.items()))
PY
fi
say "demo complete"
