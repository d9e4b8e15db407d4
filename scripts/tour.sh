#!/bin/sh
# A tour of each mechanism, on the embedded default (examples/boot-chain)
# (`make tour`; `make demo` tells the key broker story end to end):
#  1. a root of trust measures itself, then each stage is measured by the one
#     before it, into software PCR banks, with a TCG event log written beside;
#  2. a verifier replays the log and gets the same PCRs;
#  3. a substituted kernel changes the PCRs, and the log diff names the stage;
#  4. (when the shared vectors are present) a real machine's log replays to
#     the PCRs read on that machine;
#  5. the same chain with a TPM as the root of trust (swtpm, a TPM 2.0 built
#     on libtpms): the EK certificate checks out to the manufacturer's CA, an
#     AK proves it lives beside that EK (credential activation), the boot is
#     measured into the TPM, quoted with a fresh nonce and verified against
#     reference values; a second machine booting a substituted kernel is
#     rejected with the kernel named;
#  9. AMD SEV-SNP: (with the shared vectors) a real Milan report verifies to
#     AMD's roots compiled into the binary; a software AMD secure processor
#     issues a report bound to a verifier's nonce, accepted only once its test
#     root is trusted explicitly; a forged measurement is rejected;
# 11. Intel TDX: (with the shared vectors) a real TD's quote verifies to the
#     Intel SGX Root CA compiled into the binary and its CCEL event log
#     replays to the quote's RTMRs; a software quoting enclave issues a quote
#     with signed collateral, accepted (TCB status UpToDate) only once its test
#     root is trusted; OutOfDate collateral is reported with its advisories and
#     rejected unless allowed;
# 13. appraisal: the simulated SEV-SNP guest sends its evidence in an
#     envelope bound to the verifier's nonce and its own key; the verifier
#     checks it against the owner's reference values and its policy and signs
#     an attestation result (EAR); a guest booted from other firmware is not
#     affirmed, and the explanation names the measurement.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/demo-common.sh
. "$ROOT/scripts/demo-common.sh"
MANIFEST="$ROOT/examples/boot-chain/manifest.json"
VECTORS=${CONCIERGE_VECTORS:-$ROOT/../shared/vectors}

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
expect_rejected "the logs to differ" \
  "$CONCIERGE" eventlog diff "$WORK/good.log" "$WORK/evil.log"
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
# A manufactured swtpm (EK certificates from a local CA made here) listening
# on a free loopback port pair; prints its TCTI string.
start_swtpm() {
  name=$1
  mkdir -p "$WORK/$name/state" "$WORK/ca"
  if [ ! -f "$WORK/setup.conf" ]; then
    printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' \
      "$WORK/ca" "$WORK/ca/signkey.pem" "$WORK/ca/issuercert.pem" "$WORK/ca/certserial" \
      > "$WORK/localca.conf"
    printf -- '--platform-manufacturer Concierge\n--platform-version 2.1\n--platform-model demo\n' \
      > "$WORK/localca.options"
    printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = %s\nactive_pcr_banks = sha256,sha384\n' \
      "$WORK/localca.conf" "$WORK/localca.options" > "$WORK/setup.conf"
  fi
  swtpm_setup --tpm2 --tpmstate "$WORK/$name/state" --create-ek-cert --pcr-banks sha256,sha384 \
    --config "$WORK/setup.conf" --overwrite --logfile "$WORK/$name/setup.log" >/dev/null
  started=$(swtpm_listen "$WORK/$name/state" "$WORK/$name/swtpm.log") || return 1
  echo "${started#* }"
}

if command -v swtpm >/dev/null 2>&1 && command -v swtpm_setup >/dev/null 2>&1; then
  MANIFEST_TPM="$ROOT/examples/boot-chain/manifest-tpm.json"
  NONCE=$(od -An -v -N32 -tx1 /dev/urandom | tr -d ' \n')
  SEL=sha256:8,9,12,16,23+sha384:8,9,12,16,23
  TPM=$(start_swtpm machine)

  say "5. A TPM as the root of trust: its EK certificate, checked against the manufacturer's CA"
  "$CONCIERGE" tpm ek --tcti "$TPM" --out "$WORK/ek"
  "$CONCIERGE" tpm verify-ek --cert "$WORK/ek/ek.crt" \
    --roots "$WORK/ca/swtpm-localca-rootca-cert.pem" --intermediates "$WORK/ca/issuercert.pem" \
    --ek "$WORK/ek/ek.pub"

  say "6. An attestation key, and proof that it lives in the EK's TPM (credential activation)"
  "$CONCIERGE" tpm ak create --tcti "$TPM" --out "$WORK/ak"
  head -c 32 /dev/urandom > "$WORK/challenge"
  "$CONCIERGE" tpm make-credential --ek "$WORK/ek/ek.crt" --ak "$WORK/ak/ak.pub" \
    --secret "$WORK/challenge" --out "$WORK/credential"
  "$CONCIERGE" tpm activate --tcti "$TPM" --ak "$WORK/ak" --credential "$WORK/credential" \
    --out "$WORK/answer"
  cmp -s "$WORK/challenge" "$WORK/answer"
  echo "=> the TPM recovered the verifier's secret: the AK is bound to the certified EK"

  say "7. Measured boot into the TPM ($(basename "$MANIFEST_TPM")), quoted with a fresh nonce"
  "$CONCIERGE" boot --manifest "$MANIFEST_TPM" --log "$WORK/reference.log" >/dev/null
  "$CONCIERGE" eventlog reference "$WORK/reference.log" --out "$WORK/reference.json"
  "$CONCIERGE" boot --manifest "$MANIFEST_TPM" --tcti "$TPM" --log "$WORK/tpm.log"
  "$CONCIERGE" tpm quote --tcti "$TPM" --ak "$WORK/ak" --pcrs "$SEL" --nonce "$NONCE" \
    --out "$WORK/quote"
  "$CONCIERGE" tpm verify-quote --ak "$WORK/ak/ak.pub" --msg "$WORK/quote/quote.msg" \
    --sig "$WORK/quote/quote.sig" --nonce "$NONCE" --pcrs "$WORK/quote/pcrs.json" \
    --eventlog "$WORK/tpm.log" --reference "$WORK/reference.json"

  say "8. Another machine boots a substituted kernel: its quote is authentic, its boot is not ours"
  EVIL=$(start_swtpm evil)
  "$CONCIERGE" boot --manifest "$MANIFEST_TPM" --tcti "$EVIL" --log "$WORK/evil-tpm.log" \
    --replace kernel="$WORK/evil-vmlinuz" >/dev/null
  "$CONCIERGE" tpm quote --tcti "$EVIL" --pcrs "$SEL" --nonce "$NONCE" --out "$WORK/evil-quote"
  expect_rejected "the substituted boot to be rejected" \
    "$CONCIERGE" tpm verify-quote --ak "$WORK/evil-quote/ak.pub" \
    --msg "$WORK/evil-quote/quote.msg" --sig "$WORK/evil-quote/quote.sig" --nonce "$NONCE" \
    --pcrs "$WORK/evil-quote/pcrs.json" --eventlog "$WORK/evil-tpm.log" \
    --reference "$WORK/reference.json"
  echo "=> rejected, and the verifier names the substituted stage"
else
  echo "(swtpm is not installed: the TPM part is skipped; scripts/install-deps.sh installs it)"
fi

say "9. AMD SEV-SNP: a real report from a Milan machine, verified to AMD's built-in ARK"
if [ -f "$VECTORS/snp/go-sev-guest/attestation.bin" ]; then
  "$CONCIERGE" verify snp "$VECTORS/snp/go-sev-guest/attestation.bin" \
    --vcek "$VECTORS/snp/go-sev-guest/vcek.der" --report-data 0102030405
  "$CONCIERGE" snp show "$VECTORS/snp/go-sev-guest/attestation.bin" --product Milan | head -12
else
  echo "(the shared vectors are absent: the real report is skipped)"
fi

say "10. A simulated SEV-SNP guest (software AMD secure processor, test roots that are not AMD's)"
"$CONCIERGE" snp simulate init --dir "$WORK/sev" --product Genoa
SNP_NONCE=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
"$CONCIERGE" snp simulate report --dir "$WORK/sev" --report-data "$SNP_NONCE" \
  --measurement "$(printf 'guest firmware v1' | sha384sum | cut -d' ' -f1)" \
  --out "$WORK/sev/report.bin" --certs-out "$WORK/sev/certs.bin"
expect_rejected "simulated evidence to be rejected under AMD's roots" \
  "$CONCIERGE" verify snp "$WORK/sev/report.bin" --certs "$WORK/sev/certs.bin"
echo "=> by default only AMD's roots are trusted: simulated evidence is rejected"
"$CONCIERGE" verify snp "$WORK/sev/report.bin" --certs "$WORK/sev/certs.bin" \
  --root "$WORK/sev/roots.pem" --report-data "$SNP_NONCE"
echo "=> with its test root configured explicitly, and bound to the verifier's nonce"
python3 - "$WORK/sev/report.bin" "$WORK/sev/forged.bin" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[0x90] ^= 0xFF  # the host edits the launch measurement
open(sys.argv[2], "wb").write(data)
PY
expect_rejected "the forged measurement to be rejected" \
  "$CONCIERGE" verify snp "$WORK/sev/forged.bin" --certs "$WORK/sev/certs.bin" \
  --root "$WORK/sev/roots.pem" --report-data "$SNP_NONCE"
echo "=> a host that edits the measurement breaks the AMD signature"
say "11. Intel TDX: a real TD's quote, verified to Intel's built-in root, and its CCEL log"
CCEL="$VECTORS/tdx/go-tdx-guest/ccel"
if [ -f "$CCEL/cos-113-tdx-quote.dat" ]; then
  "$CONCIERGE" verify tdx "$CCEL/cos-113-tdx-quote.dat" --ccel "$CCEL/ccel_data.dat" \
    --report-data "$(od -An -v -tx1 "$CCEL/nonce.dat" | tr -d ' \n')" --at 2025-01-01
  "$CONCIERGE" tdx ccel "$CCEL/ccel_data.dat" --table "$CCEL/ccel_table.dat"
  echo "=> the firmware's event log replays to the RTMRs the TDX module signed"
else
  echo "(the shared vectors are absent: the real quote is skipped)"
fi

say "12. A simulated TD (software quoting enclave, test PKI that is not Intel's)"
"$CONCIERGE" tdx simulate init "$WORK/tdx" >/dev/null
TDX_NONCE=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
"$CONCIERGE" tdx simulate quote --dir "$WORK/tdx" --report-data "$TDX_NONCE" \
  --mrtd "$(printf 'TD firmware v1' | sha384sum | cut -d' ' -f1)" -o "$WORK/tdx/quote.dat"
expect_rejected "simulated evidence to be rejected under Intel's root" \
  "$CONCIERGE" verify tdx "$WORK/tdx/quote.dat" --collateral "$WORK/tdx"
echo "=> by default only Intel's root is trusted: simulated evidence is rejected"
"$CONCIERGE" verify tdx "$WORK/tdx/quote.dat" --collateral "$WORK/tdx" \
  --root "$WORK/tdx/root.pem" --report-data "$TDX_NONCE"
echo "=> with its test root configured explicitly: chain, QE report, quote, collateral"
"$CONCIERGE" tdx simulate init "$WORK/tdx-old" --tcb-status OutOfDate \
  --advisory INTEL-SA-00837 >/dev/null
"$CONCIERGE" tdx simulate quote --dir "$WORK/tdx-old" -o "$WORK/tdx-old/quote.dat"
expect_rejected "an out-of-date platform to be rejected" \
  "$CONCIERGE" verify tdx "$WORK/tdx-old/quote.dat" --collateral "$WORK/tdx-old" \
  --root "$WORK/tdx-old/root.pem"
echo "=> a platform behind on its TCB is named with its advisories (--allow-tcb OutOfDate to accept)"
say "13. Appraisal: reference values, policy, and a signed attestation result (EAR)"
cat > "$WORK/sev/guest-key.jwk" <<'JWK'
{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
JWK
FIRMWARE=$(printf 'guest firmware v1' | sha384sum | cut -d' ' -f1)
"$CONCIERGE" refs add snp.measurement "$FIRMWARE" --provenance "firmware build 1" \
  --file "$WORK/refs.json"
CHALLENGE=$(head -c 16 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
guest_envelope() {  # measurement, output: a report bound to CHALLENGE and the guest's key
  "$CONCIERGE" snp simulate report --dir "$WORK/sev" --measurement "$1" \
    --report-data "$("$CONCIERGE" envelope report-data --tee snp --nonce "$CHALLENGE" \
      --tee-pubkey "$WORK/sev/guest-key.jwk")" \
    --out "$WORK/sev/guest.bin" --certs-out "$WORK/sev/guest.certs"
  "$CONCIERGE" envelope make --tee snp --evidence "$WORK/sev/guest.bin" \
    --cert-table "$WORK/sev/guest.certs" --nonce "$CHALLENGE" \
    --tee-pubkey "$WORK/sev/guest-key.jwk" -o "$2"
}
guest_envelope "$FIRMWARE" "$WORK/good.json"
"$CONCIERGE" appraise "$WORK/good.json" --refs "$WORK/refs.json" \
  --snp-root "$WORK/sev/roots.pem" --token --key "$WORK/ear.key" \
  --jwks-out "$WORK/jwks.json" | sed -n '1p;/^eyJ/s/^\(.\{60\}\).*/EAR: \1.../p'
echo "=> affirming: the EAR (a JWT signed by the verifier; its key in jwks.json) carries the verdict"
guest_envelope "$(printf 'guest firmware, patched by the host' | sha384sum | cut -d' ' -f1)" \
  "$WORK/evil.json"
expect_rejected "the other firmware not to be affirmed" \
  sh -c '"$0" appraise "$1" --refs "$2" --snp-root "$3" > "$4"' "$CONCIERGE" \
  "$WORK/evil.json" "$WORK/refs.json" "$WORK/sev/roots.pem" "$WORK/evil.txt"
sed -n '1,3p' "$WORK/evil.txt"
echo "=> not affirmed, and the explanation names the link of the chain that broke"
say "demo complete"
