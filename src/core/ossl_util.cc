#include "core/ossl_util.h"

#include <openssl/asn1.h>
#include <openssl/err.h>

#include <chrono>
#include <ctime>

namespace concierge::ossl {

std::string take_errors() {
  unsigned long last = 0;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) last = e;
  if (last == 0) return {};
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

void clear_errors() { ERR_clear_error(); }

Unexpected fail_ossl(Errc code, std::string what) {
  std::string reason = take_errors();
  if (!reason.empty()) what += ": " + reason;
  return fail(code, std::move(what));
}

BioPtr mem_bio(ByteView data) {
  // BIO_new_mem_buf takes an int length; larger inputs are refused by callers.
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_string(BIO* bio) {
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  if (n <= 0 || p == nullptr) return {};
  return std::string(p, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> unix_seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year(tm.tm_year + 1900), month(static_cast<unsigned>(tm.tm_mon + 1)),
                           day(static_cast<unsigned>(tm.tm_mday))};
  if (!ymd.ok()) return std::nullopt;
  const auto since_epoch = sys_days(ymd).time_since_epoch() + hours(tm.tm_hour) +
                           minutes(tm.tm_min) + seconds(tm.tm_sec);
  return duration_cast<seconds>(since_epoch).count();
}

const char* md_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return "SHA1";
    case HashAlg::kSha256:
      return "SHA2-256";
    case HashAlg::kSha384:
      return "SHA2-384";
    case HashAlg::kSha512:
      return "SHA2-512";
    case HashAlg::kSm3_256:
      return "SM3";
  }
  return "";
}

const EVP_MD* md_for(HashAlg alg) {
  struct Table {
    const EVP_MD* md[5];
    Table()
        : md{EVP_MD_fetch(nullptr, "SHA1", nullptr), EVP_MD_fetch(nullptr, "SHA2-256", nullptr),
             EVP_MD_fetch(nullptr, "SHA2-384", nullptr), EVP_MD_fetch(nullptr, "SHA2-512", nullptr),
             EVP_MD_fetch(nullptr, "SM3", nullptr)} {
      ERR_clear_error();  // a missing SM3 is reported by md_for() returning nullptr
    }
  };
  static const Table t;
  const EVP_MD* const* table = t.md;
  switch (alg) {
    case HashAlg::kSha1:
      return table[0];
    case HashAlg::kSha256:
      return table[1];
    case HashAlg::kSha384:
      return table[2];
    case HashAlg::kSha512:
      return table[3];
    case HashAlg::kSm3_256:
      return table[4];
  }
  return nullptr;
}

}  // namespace concierge::ossl
