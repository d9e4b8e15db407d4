// The TPM connection: TCTI loading, ESYS context, PCRs, NV, sessions.
#include "concierge/attester/tpm/tpm.h"

#include "attester/tpm/esys_util.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace concierge::attester::tpm {
namespace {

constexpr unsigned kPcrCount = 24;

bool any_selected(const TPML_PCR_SELECTION& s) {
  for (UINT32 i = 0; i < s.count; ++i) {
    for (unsigned b = 0; b < s.pcrSelections[i].sizeofSelect; ++b) {
      if (s.pcrSelections[i].pcrSelect[b] != 0) return true;
    }
  }
  return false;
}

}  // namespace

Error tpm_error(const char* command, std::uint32_t rc) {
  const char* decoded = Tss2_RC_Decode(rc);
  // Layers other than the TPM's own (0) are the stack's: TCTI, ESAPI, ...
  const std::uint32_t layer = rc & TSS2_RC_LAYER_MASK;
  const bool transport =
      layer == TSS2_TCTI_RC_LAYER ||
      (layer == TSS2_ESAPI_RC_LAYER &&
       ((rc & 0xffffu) == TSS2_BASE_RC_IO_ERROR || (rc & 0xffffu) == TSS2_BASE_RC_TRY_AGAIN));
  return make_error(transport ? Errc::kIo : Errc::kDevice,
                    std::string(command) + ": " + (decoded ? decoded : "unknown error"));
}

TpmObject::TpmObject(TpmObject&& other) noexcept : tpm_(other.tpm_), handle_(other.handle_) {
  other.tpm_ = nullptr;
}

TpmObject& TpmObject::operator=(TpmObject&& other) noexcept {
  if (this != &other) {
    reset();
    tpm_ = other.tpm_;
    handle_ = other.handle_;
    other.tpm_ = nullptr;
  }
  return *this;
}

TpmObject::~TpmObject() { reset(); }

void TpmObject::reset() {
  if (tpm_ != nullptr) tpm_->flush(handle_);
  tpm_ = nullptr;
}

Result<std::unique_ptr<Tpm>> Tpm::open(const std::string& tcti) {
  std::unique_ptr<Tpm> tpm(new Tpm());
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &tpm->tcti_);
  if (rc != TSS2_RC_SUCCESS) {
    return fail(Errc::kIo, "cannot open TCTI \"" + tcti + "\": " + Tss2_RC_Decode(rc));
  }
  rc = Esys_Initialize(&tpm->esys_, tpm->tcti_, nullptr);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("Esys_Initialize", rc));
  rc = Esys_Startup(tpm->esys_, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && (rc & 0xfffu) != TPM2_RC_INITIALIZE) {
    return Unexpected(tpm_error("TPM2_Startup", rc));
  }
  return tpm;
}

Tpm::~Tpm() {
  if (esys_ != nullptr) Esys_Finalize(&esys_);
  if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
}

void Tpm::flush(std::uint32_t esys_handle) { (void)Esys_FlushContext(esys_, esys_handle); }

Result<std::vector<HashAlg>> Tpm::pcr_banks() {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0,
                                  1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> caps(raw);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_GetCapability", rc));
  std::vector<HashAlg> banks;
  const auto& list = caps->data.assignedPCR;
  for (UINT32 i = 0; i < list.count; ++i) {
    const auto& sel = list.pcrSelections[i];
    bool allocated = false;
    for (unsigned b = 0; b < sel.sizeofSelect; ++b) allocated |= sel.pcrSelect[b] != 0;
    auto alg = hash_from_tcg_id(sel.hash);
    if (allocated && alg) banks.push_back(*alg);
  }
  return banks;
}

Result<PcrValues> Tpm::read_pcrs(const std::vector<PcrSelection>& selection) {
  CONCIERGE_ASSIGN_OR_RETURN(auto banks, pcr_banks());
  for (const auto& s : selection) {
    if (std::find(banks.begin(), banks.end(), s.bank) == banks.end()) {
      return fail(Errc::kNotFound,
                  "the TPM has no " + std::string(hash_name(s.bank)) + " PCR bank allocated");
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(TPML_PCR_SELECTION wanted, to_tpml(selection));
  PcrValues out;
  while (any_selected(wanted)) {
    UINT32 counter = 0;
    TPML_PCR_SELECTION* raw_sel = nullptr;
    TPML_DIGEST* raw_values = nullptr;
    TSS2_RC rc = Esys_PCR_Read(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &wanted, &counter,
                               &raw_sel, &raw_values);
    EsysPtr<TPML_PCR_SELECTION> got(raw_sel);
    EsysPtr<TPML_DIGEST> values(raw_values);
    if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_PCR_Read", rc));
    if (values->count == 0) return fail(Errc::kDevice, "TPM2_PCR_Read returned no PCR values");
    // Values come in selection order: banks in order, PCRs ascending.
    UINT32 next = 0;
    for (UINT32 i = 0; i < got->count; ++i) {
      const auto& sel = got->pcrSelections[i];
      auto alg = hash_from_tcg_id(sel.hash);
      for (unsigned pcr = 0; pcr < kPcrCount && pcr / 8 < sel.sizeofSelect; ++pcr) {
        if ((sel.pcrSelect[pcr / 8] & (1u << (pcr % 8))) == 0) continue;
        if (next >= values->count || !alg) {
          return fail(Errc::kDevice, "TPM2_PCR_Read returned fewer values than PCRs it selected");
        }
        const TPM2B_DIGEST& d = values->digests[next++];
        out[*alg][pcr] = Bytes(d.buffer, d.buffer + d.size);
        for (UINT32 j = 0; j < wanted.count; ++j) {  // done with this one
          if (wanted.pcrSelections[j].hash == sel.hash) {
            wanted.pcrSelections[j].pcrSelect[pcr / 8] &= static_cast<BYTE>(~(1u << (pcr % 8)));
          }
        }
      }
    }
  }
  return out;
}

Result<void> Tpm::extend_pcr(unsigned pcr, const std::vector<measure::OwnedDigest>& digests) {
  if (pcr >= kPcrCount) return fail(Errc::kInvalidArgument, "PCR index out of range");
  CONCIERGE_ASSIGN_OR_RETURN(auto banks, pcr_banks());
  TPML_DIGEST_VALUES values{};
  for (const auto& d : digests) {
    auto alg = hash_from_tcg_id(d.alg_id);
    if (!alg || std::find(banks.begin(), banks.end(), *alg) == banks.end()) continue;
    if (d.value.size() != digest_size(*alg) || values.count >= TPM2_NUM_PCR_BANKS) {
      return fail(Errc::kInvalidArgument, "bad digest for PCR extend");
    }
    auto& v = values.digests[values.count++];
    v.hashAlg = d.alg_id;
    std::memcpy(reinterpret_cast<std::uint8_t*>(&v.digest), d.value.data(), d.value.size());
  }
  if (values.count == 0) {
    return fail(Errc::kNotFound, "none of the digests' banks is allocated in the TPM");
  }
  TSS2_RC rc = Esys_PCR_Extend(esys_, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_PCR_Extend", rc));
  return {};
}

Result<void> Tpm::reset_pcr(unsigned pcr) {
  if (pcr >= kPcrCount) return fail(Errc::kInvalidArgument, "PCR index out of range");
  TSS2_RC rc =
      Esys_PCR_Reset(esys_, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_PCR_Reset", rc));
  return {};
}

Result<std::optional<Bytes>> Tpm::read_nv(std::uint32_t nv_index) {
  ESYS_TR nv = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_TR_FromTPMPublic(esys_, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) {
    // TPM_RC_HANDLE (a format-one code: bit 7, with the handle number in
    // bits 8-11) means no such index.
    if ((rc & TSS2_RC_LAYER_MASK) == 0 && (rc & 0xbfu) == TPM2_RC_HANDLE) {
      return std::optional<Bytes>();
    }
    return Unexpected(tpm_error("TPM2_NV_ReadPublic", rc));
  }
  struct CloseTr {
    ESYS_CONTEXT* esys;
    ESYS_TR tr;
    ~CloseTr() { (void)Esys_TR_Close(esys, &tr); }
  } close{esys_, nv};

  TPM2B_NV_PUBLIC* raw_pub = nullptr;
  rc = Esys_NV_ReadPublic(esys_, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw_pub, nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> pub(raw_pub);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_NV_ReadPublic", rc));
  const std::uint16_t size = pub->nvPublic.dataSize;

  // The largest chunk TPM2_NV_Read accepts (TPM_PT_NV_BUFFER_MAX); 512 when
  // the TPM does not say, smaller than any TPM's limit seen in practice.
  std::uint16_t chunk = 512;
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw_caps = nullptr;
  if (Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                         TPM2_PT_NV_BUFFER_MAX, 1, &more, &raw_caps) == TSS2_RC_SUCCESS) {
    EsysPtr<TPMS_CAPABILITY_DATA> caps(raw_caps);
    const auto& props = caps->data.tpmProperties;
    if (props.count == 1 && props.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
        props.tpmProperty[0].value > 0) {
      chunk = static_cast<std::uint16_t>(std::min<std::uint32_t>(
          props.tpmProperty[0].value, sizeof(TPM2B_MAX_NV_BUFFER{}.buffer)));
    }
  }

  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(chunk, size - out.size()));
    TPM2B_MAX_NV_BUFFER* raw_data = nullptr;
    rc = Esys_NV_Read(esys_, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                      static_cast<std::uint16_t>(out.size()), &raw_data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(raw_data);
    if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_NV_Read", rc));
    if (data->size == 0 || data->size > n) {
      return fail(Errc::kDevice, "TPM2_NV_Read returned an unexpected size");
    }
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return std::optional<Bytes>(std::move(out));
}

Result<Bytes> Tpm::random(std::size_t size) {
  Bytes out;
  while (out.size() < size) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(32, size - out.size()));
    TPM2B_DIGEST* raw = nullptr;
    TSS2_RC rc = Esys_GetRandom(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, n, &raw);
    EsysPtr<TPM2B_DIGEST> r(raw);
    if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_GetRandom", rc));
    out.insert(out.end(), r->buffer, r->buffer + r->size);
  }
  return out;
}

Result<TpmObject> Tpm::endorsement_policy_session() {
  const TPMT_SYM_DEF symmetric{.algorithm = TPM2_ALG_NULL, .keyBits = {}, .mode = {}};
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &symmetric,
                                     TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_StartAuthSession", rc));
  TpmObject owned(this, session);
  TPM2B_TIMEOUT* timeout = nullptr;
  TPMT_TK_AUTH* ticket = nullptr;
  rc = Esys_PolicySecret(esys_, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, &timeout, &ticket);
  Esys_Free(timeout);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_PolicySecret", rc));
  return owned;
}

Result<std::vector<PcrSelection>> parse_pcr_selection(std::string_view text) {
  std::vector<PcrSelection> out;
  std::set<HashAlg> seen_banks;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t plus = text.find('+', start);
    std::string_view part =
        text.substr(start, plus == std::string_view::npos ? std::string_view::npos : plus - start);
    std::size_t colon = part.find(':');
    if (colon == std::string_view::npos) {
      return fail(Errc::kInvalidArgument,
                  "PCR selection \"" + std::string(part) + "\" is not <bank>:<indices>");
    }
    auto alg = hash_from_name(part.substr(0, colon));
    if (!alg) {
      return fail(Errc::kInvalidArgument,
                  "unknown PCR bank \"" + std::string(part.substr(0, colon)) + "\"");
    }
    if (!seen_banks.insert(*alg).second) {
      return fail(Errc::kInvalidArgument,
                  "bank " + std::string(part.substr(0, colon)) + " selected twice");
    }
    PcrSelection sel{*alg, {}};
    std::string_view list = part.substr(colon + 1);
    if (list == "all") {
      for (unsigned i = 0; i < kPcrCount; ++i) sel.pcrs.push_back(i);
    } else {
      std::set<unsigned> pcrs;
      std::size_t p = 0;
      while (p <= list.size()) {
        std::size_t comma = list.find(',', p);
        std::string_view item =
            list.substr(p, comma == std::string_view::npos ? std::string_view::npos : comma - p);
        unsigned v = 0;
        if (item.empty() || item.size() > 2) {
          return fail(Errc::kInvalidArgument, "bad PCR index \"" + std::string(item) + "\"");
        }
        for (char c : item) {
          if (c < '0' || c > '9') {
            return fail(Errc::kInvalidArgument, "bad PCR index \"" + std::string(item) + "\"");
          }
          v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v >= kPcrCount || !pcrs.insert(v).second) {
          return fail(Errc::kInvalidArgument,
                      "PCR index " + std::string(item) + " out of range or repeated");
        }
        if (comma == std::string_view::npos) break;
        p = comma + 1;
      }
      sel.pcrs.assign(pcrs.begin(), pcrs.end());
    }
    out.push_back(std::move(sel));
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  return out;
}

}  // namespace concierge::attester::tpm
