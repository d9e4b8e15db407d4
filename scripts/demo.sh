#!/bin/sh
# The whole story on the embedded default (SQLite in a temporary folder):
#  1. the owner starts a key broker, with an admin key and a key-encryption
#     key that never goes into the database;
#  2. the owner registers a secret, its release policy, and the reference
#     values of a known-good boot chain;
#  3. a confidential VM boots through its measured chain (its TPM is swtpm
#     when installed, otherwise a software TPM), attests with evidence bound
#     to the broker's nonce and to a key it just generated, and receives the
#     secret encrypted to that key;
#  4. the VM boots again with one stage substituted: the broker refuses, and
#     the explanation names the substituted stage;
#  5. the audit log shows who got what, and which rule decided.
# scripts/tour.sh (make tour) walks through each mechanism on its own.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/demo-common.sh
. "$ROOT/scripts/demo-common.sh"

say "1. The owner starts a key broker (KBS protocol 0.4.0, SQLite in $WORK/broker)"
mkdir -p "$WORK/broker" "$WORK/owner" "$WORK/vm"
"$CONCIERGE" admin keygen --out "$WORK/owner/admin.pem" --public "$WORK/broker/admin.pub.pem"
# The key-encryption key: 32 random bytes, readable by the broker only.
(umask 077 && od -An -v -N32 -tx1 /dev/urandom | tr -d ' \n' > "$WORK/broker/kek")
cat > "$WORK/broker/config.json" <<'JSON'
{"listen": "127.0.0.1:0",
 "store": "sqlite:broker.db",
 "kek": {"file": "kek"},
 "ear_key": "ear-signing.pem",
 "admin_keys": ["admin.pub.pem"],
 "threads": 4}
JSON
"$CONCIERGE" serve --config "$WORK/broker/config.json" > "$WORK/broker/serve.log" 2>&1 &
echo $! >> "$WORK/pids"
for _ in $(seq 1 100); do
  grep -q 'serving' "$WORK/broker/serve.log" 2>/dev/null && break
  sleep 0.05
done
sed -n 1p "$WORK/broker/serve.log"
URL=$(sed -n 's/.*on \(http[s]*:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$WORK/broker/serve.log")
[ -n "$URL" ] || { echo "demo: the broker did not start" >&2; cat "$WORK/broker/serve.log" >&2; exit 1; }
ADMIN="$CONCIERGE admin --url $URL --key $WORK/owner/admin.pem"
# The guest pins the broker's EAR key (its public half) and verifies the
# attestation result before it uses a secret. The demo runs on loopback over
# plain http, which the agent accepts only with --insecure (and says so).
openssl pkey -in "$WORK/broker/ear-signing.pem" -pubout -out "$WORK/owner/broker-ear.pub.pem"
BROKER="--insecure --broker-jwks $WORK/owner/broker-ear.pub.pem"

# The VM's root of trust: swtpm (a TPM 2.0 on libtpms) when installed,
# otherwise the software TPM of the agent (DEMO_SOFTWARE_TPM=1 forces it).
if [ -z "${DEMO_SOFTWARE_TPM:-}" ] && command -v swtpm >/dev/null 2>&1 &&
  command -v swtpm_setup >/dev/null 2>&1; then
  MANIFEST="$ROOT/examples/boot-chain/manifest-tpm.json"
  mkdir -p "$WORK/vm/tpm"
  swtpm_setup --tpm2 --tpmstate "$WORK/vm/tpm" --create-ek-cert --pcr-banks sha256,sha384 \
    --overwrite --logfile "$WORK/vm/swtpm-setup.log" >/dev/null 2>&1 ||
    swtpm_setup --tpm2 --tpmstate "$WORK/vm/tpm" --pcr-banks sha256,sha384 --overwrite \
      --logfile "$WORK/vm/swtpm-setup.log" >/dev/null
  # Powers the VM's TPM on (PCRs start from their reset values); prints its TCTI.
  power_on() {
    if [ -f "$WORK/vm/swtpm.pid" ]; then
      kill "$(cat "$WORK/vm/swtpm.pid")" 2>/dev/null || true
      sleep 0.2
    fi
    started=$(swtpm_listen "$WORK/vm/tpm" "$WORK/vm/swtpm.log") || return 1
    echo "${started%% *}" > "$WORK/vm/swtpm.pid"
    echo "${started#* }"
  }
  TPM=$(power_on)
  "$CONCIERGE" tpm ak create --tcti "$TPM" --out "$WORK/vm/ak" >/dev/null
  # boot [STAGE=FILE]: one boot of the VM, measured into its TPM.
  boot() {
    TPM=$(power_on)
    if [ $# -gt 0 ]; then
      "$CONCIERGE" boot --manifest "$MANIFEST" --tcti "$TPM" --log "$WORK/vm/boot.log" \
        --replace "$1" >/dev/null
    else
      "$CONCIERGE" boot --manifest "$MANIFEST" --tcti "$TPM" --log "$WORK/vm/boot.log" >/dev/null
    fi
    GUEST="--tee tpm --tcti $TPM --ak $WORK/vm/ak --event-log $WORK/vm/boot.log --pcrs sha256:8,9,12,16,23"
  }
  ROT="swtpm, an emulated TPM 2.0"
else
  MANIFEST="$ROOT/examples/boot-chain/manifest.json"
  boot() {
    GUEST="--tee sim-tpm --sim-state $WORK/vm/sim-tpm --boot-manifest $MANIFEST"
    if [ $# -gt 0 ]; then GUEST="$GUEST --replace $1"; fi
  }
  ROT="the agent's software TPM (install swtpm for an emulated hardware TPM)"
fi

say "2. The owner registers a secret, its release policy, and the known-good boot chain"
head -c 32 /dev/urandom > "$WORK/owner/disk-key"
$ADMIN put-resource default/disk/root-key "$WORK/owner/disk-key"
cat > "$WORK/owner/release.json" <<'JSON'
{"id": "release/root-key",
 "description": "the root disk key, only to a VM whose whole boot chain is known",
 "rules": [
   {"id": "affirming", "when": {"path": "status", "equals": "affirming"}},
   {"id": "known-executables", "when": {"path": "vector.executables", "equals": 2},
    "explain": "every measured stage is a known-good one"},
   {"id": "log-replays", "when": {"path": "claims.log.matches_registers", "equals": true}}]}
JSON
$ADMIN set-release-policy default/disk/root-key "$WORK/owner/release.json"
# The golden boot: the image as built, measured once; its AK is the VM's.
boot
"$CONCIERGE" agent reference $GUEST --out "$WORK/owner/refs.json" >/dev/null
$ADMIN add-refs "$WORK/owner/refs.json"
echo "(the VM's root of trust: $ROT; boot chain: $(basename "$MANIFEST"))"

say "3. The VM boots through its measured chain, attests, and receives the secret"
boot
"$CONCIERGE" agent get-resource "$URL/kbs/v0/resource/default/disk/root-key" $BROKER $GUEST \
  --out "$WORK/vm/root-key"
cmp -s "$WORK/owner/disk-key" "$WORK/vm/root-key"
echo "=> the VM holds the owner's disk key; it crossed the host encrypted to a key only the VM had"

say "4. The host substitutes the kernel and boots the VM again"
printf 'Linux 6.1 with a backdoor\n' > "$WORK/vm/evil-vmlinuz"
boot kernel="$WORK/vm/evil-vmlinuz"
rm -f "$WORK/vm/stolen-key"
expect_rejected "the broker to refuse" \
  "$CONCIERGE" agent get-resource "$URL/kbs/v0/resource/default/disk/root-key" $BROKER $GUEST \
  --out "$WORK/vm/stolen-key"
[ ! -e "$WORK/vm/stolen-key" ]
echo "=> refused: no key left the broker, and the reason names the substituted stage (/boot/vmlinuz)"

say "5. The owner's audit log"
$ADMIN audit --limit 6 | cut -c1-220
say "demo complete"
