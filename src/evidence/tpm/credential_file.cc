// The tpm2-tools credential file: magic, version, TPM2B_ID_OBJECT,
// TPM2B_ENCRYPTED_SECRET (the TPM2Bs unmarshalled by tss2-mu).
#include <cstdio>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/evidence/tpm/credential.h"
#include "evidence/tpm/mu.h"

namespace concierge::evidence::tpm {
namespace {

void put_be32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
  return buf;
}

// One TPM2B of type T at `*offset`, returned as its marshalled bytes.
template <typename T>
Result<Bytes> take_tpm2b(mu::UnmarshalFn<T> fn, ByteView file, std::size_t* offset,
                         std::string_view what) {
  const std::size_t start = *offset;
  CONCIERGE_RETURN_IF_ERROR(mu::unmarshal_at(fn, file, offset, what));
  return Bytes(file.begin() + static_cast<std::ptrdiff_t>(start),
               file.begin() + static_cast<std::ptrdiff_t>(*offset));
}

}  // namespace

Bytes encode_credential_file(const Credential& credential) {
  Bytes out;
  out.reserve(8 + credential.id_object.size() + credential.encrypted_secret.size());
  put_be32(out, kCredentialFileMagic);
  put_be32(out, kCredentialFileVersion);
  out.insert(out.end(), credential.id_object.begin(), credential.id_object.end());
  out.insert(out.end(), credential.encrypted_secret.begin(), credential.encrypted_secret.end());
  return out;
}

Result<Credential> parse_credential_file(ByteView file) {
  ByteReader r(file);
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t magic, r.u32be("magic"));
  if (magic != kCredentialFileMagic) {
    return fail_at(
        Errc::kMalformed, "magic", 0,
        "magic is " + hex32(magic) + ", not the credential file's " + hex32(kCredentialFileMagic));
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t version, r.u32be("version"));
  if (version != kCredentialFileVersion) {
    return fail_at(Errc::kUnsupported, "version", 4,
                   "credential file version " + std::to_string(version) + " (only 1 is known)");
  }
  std::size_t offset = r.offset();
  Credential out;
  CONCIERGE_ASSIGN_OR_RETURN(out.id_object, take_tpm2b(&Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, file,
                                                       &offset, "TPM2B_ID_OBJECT"));
  CONCIERGE_ASSIGN_OR_RETURN(out.encrypted_secret,
                             take_tpm2b(&Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, file, &offset,
                                        "TPM2B_ENCRYPTED_SECRET"));
  if (offset != file.size()) {
    return fail_at(
        Errc::kTrailingData, "credential file", offset,
        std::to_string(file.size() - offset) + " trailing bytes after the TPM2B_ENCRYPTED_SECRET");
  }
  return out;
}

}  // namespace concierge::evidence::tpm
