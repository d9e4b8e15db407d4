#include "concierge/store/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/state_files.h"
#include "core/ossl_util.h"

namespace concierge::store {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kIvSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kHeaderSize = 1 + kIvSize;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kHexKeySize = 2 * kKeySize;
constexpr std::string_view kIdContext = "concierge-kek";

using Key = std::array<std::uint8_t, kKeySize>;
using CipherCtxPtr = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

// Wipes a fixed key buffer when it goes out of scope.
struct KeyGuard {
  Key key{};
  ~KeyGuard() { wipe(key); }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly 64 hex digits into `out` without leaving copies behind.
bool parse_hex_key(std::string_view text, Key& out) {
  if (text.size() != kHexKeySize) return false;
  for (std::size_t i = 0; i < kKeySize; ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      wipe(out);
      return false;
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

Result<std::string> key_id(const Key& key) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), kIdContext.data(), kIdContext.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md, &len) != 1 || len < 8) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot compute the KEK id");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id;
  for (std::size_t i = 0; i < 8; ++i) {
    id.push_back(kDigits[md[i] >> 4]);
    id.push_back(kDigits[md[i] & 0xf]);
  }
  return id;
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

SecretBox::SecretBox(const std::array<std::uint8_t, 32>& key) : key_(key) {}

SecretBox::SecretBox(SecretBox&& other) noexcept : key_(other.key_), id_(std::move(other.id_)) {
  wipe(other.key_);
  other.id_.clear();
}

SecretBox& SecretBox::operator=(SecretBox&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    id_ = std::move(other.id_);
    wipe(other.key_);
    other.id_.clear();
  }
  return *this;
}

SecretBox::~SecretBox() { wipe(key_); }

Result<SecretBox> SecretBox::from_key(ByteView key) {
  if (key.size() != kKeySize) {
    return fail(Errc::kInvalidArgument,
                "a key-encryption key is 32 bytes, not " + std::to_string(key.size()));
  }
  KeyGuard k;
  std::memcpy(k.key.data(), key.data(), kKeySize);
  CONCIERGE_ASSIGN_OR_RETURN(std::string id, key_id(k.key));
  SecretBox box(k.key);
  box.id_ = std::move(id);
  return box;
}

Result<SecretBox> SecretBox::generate() {
  KeyGuard k;
  if (RAND_bytes(k.key.data(), static_cast<int>(k.key.size())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot generate a key-encryption key");
  }
  return from_key(k.key);
}

Result<SecretBox> SecretBox::from_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return fail(Errc::kNotFound, "key file " + path.string() + " does not exist");
    }
    return fail(Errc::kIo, "cannot open key file " + path.string() + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(Errc::kIo, "cannot stat key file " + path.string() + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::kInvalidArgument, "key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(Errc::kInvalidArgument, "key file " + path.string() + " has mode " + mode +
                                            ": group or others may access it (chmod 600 it)");
  }
  // Read at most one byte more than the longest valid content.
  std::array<std::uint8_t, kHexKeySize + 2> buf{};
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      wipe(buf);
      return fail(Errc::kIo, "cannot read key file " + path.string() + ": " + errno_text(err));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);

  KeyGuard k;
  bool ok = false;
  if (got == kKeySize) {
    std::memcpy(k.key.data(), buf.data(), kKeySize);
    ok = true;
  } else if (got == kHexKeySize || (got == kHexKeySize + 1 && buf[kHexKeySize] == '\n')) {
    ok = parse_hex_key(as_chars(ByteView(buf.data(), kHexKeySize)), k.key);
  }
  wipe(buf);
  if (!ok) {
    return fail(Errc::kInvalidArgument,
                "key file " + path.string() +
                    " holds neither 32 raw bytes nor 64 hex digits (with an optional newline)");
  }
  return from_key(k.key);
}

Result<SecretBox> SecretBox::from_env(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) {
    return fail(Errc::kNotFound, std::string("environment variable ") + variable + " is not set");
  }
  KeyGuard k;
  if (!parse_hex_key(value, k.key)) {
    return fail(Errc::kInvalidArgument,
                std::string("environment variable ") + variable + " is not 64 hex digits");
  }
  return from_key(k.key);
}

Result<SecretBox> SecretBox::create_file(const std::filesystem::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(SecretBox box, generate());
  std::array<char, kHexKeySize + 1> text{};
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < kKeySize; ++i) {
    text[2 * i] = kDigits[box.key_[i] >> 4];
    text[2 * i + 1] = kDigits[box.key_[i] & 0xf];
  }
  text[kHexKeySize] = '\n';
  auto created = state_files::create_file(path, std::string_view(text.data(), text.size()), 0600,
                                          state_files::IfExists::kRefuse);
  OPENSSL_cleanse(text.data(), text.size());
  if (!created) {
    return fail(created.error().code, "key file: " + created.error().message);
  }
  return box;
}

Result<Bytes> SecretBox::seal(ByteView plaintext, std::string_view aad) const {
  if (id_.empty()) return fail(Errc::kInvalidArgument, "seal with a moved-from SecretBox");
  if (plaintext.size() > static_cast<std::size_t>(INT_MAX) - kHeaderSize - kTagSize ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    return fail(Errc::kInvalidArgument, "value too large to seal");
  }
  Bytes out(kHeaderSize + plaintext.size() + kTagSize);
  out[0] = kVersion;
  if (RAND_bytes(out.data() + 1, static_cast<int>(kIvSize)) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot draw an IV");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data() + 1) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "AES-256-GCM seal failed");
  }
  std::uint8_t* body = out.data() + kHeaderSize;
  if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(),
                                              static_cast<int>(plaintext.size())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "AES-256-GCM seal failed");
  }
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), body + plaintext.size(), &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          body + plaintext.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "AES-256-GCM seal failed");
  }
  return out;
}

Result<Bytes> SecretBox::open(ByteView sealed, std::string_view aad) const {
  if (id_.empty()) return fail(Errc::kInvalidArgument, "open with a moved-from SecretBox");
  if (sealed.size() < kHeaderSize + kTagSize) {
    return fail(Errc::kMalformed, "sealed value of " + std::to_string(sealed.size()) +
                                      " bytes is shorter than its header and tag");
  }
  if (sealed[0] != kVersion) {
    return fail(Errc::kMalformed,
                "sealed value has version " + std::to_string(sealed[0]) + ", not 1");
  }
  if (sealed.size() > static_cast<std::size_t>(INT_MAX) ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    return fail(Errc::kInvalidArgument, "sealed value too large");
  }
  const std::size_t body_size = sealed.size() - kHeaderSize - kTagSize;
  const std::uint8_t* iv = sealed.data() + 1;
  const std::uint8_t* body = sealed.data() + kHeaderSize;
  Bytes tag(body + body_size, body + body_size + kTagSize);
  Bytes out(body_size);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), iv) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      (body_size > 0 &&
       EVP_DecryptUpdate(ctx.get(), out.data(), &len, body, static_cast<int>(body_size)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) != 1) {
    wipe(out);
    return ossl::fail_ossl(Errc::kCrypto, "AES-256-GCM open failed");
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + body_size, &tail) != 1) {
    wipe(out);
    ossl::clear_errors();
    return fail(Errc::kCrypto,
                "sealed value does not authenticate (another key, another context, or tampered)");
  }
  return out;
}

Result<std::string> SecretBox::row_mac(const std::vector<std::string_view>& fields) const {
  if (id_.empty()) return fail(Errc::kInvalidArgument, "the key-encryption key is empty");
  static constexpr std::string_view kLabel = "concierge store integrity v1";
  std::array<std::uint8_t, 32> subkey{};
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), subkey.data(),
           &n) == nullptr) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot derive the store's integrity key");
  }
  Bytes message;
  for (std::string_view f : fields) {
    const std::uint64_t size = f.size();
    for (int i = 7; i >= 0; --i) message.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
    message.insert(message.end(), f.begin(), f.end());
  }
  std::array<std::uint8_t, 32> tag{};
  const bool ok = HMAC(EVP_sha256(), subkey.data(), static_cast<int>(subkey.size()), message.data(),
                       message.size(), tag.data(), &n) != nullptr;
  wipe(subkey);
  if (!ok) return ossl::fail_ossl(Errc::kCrypto, "cannot compute a row's integrity tag");
  return hex_encode(tag);
}

Result<bool> SecretBox::row_mac_matches(const std::vector<std::string_view>& fields,
                                        std::string_view mac) const {
  CONCIERGE_ASSIGN_OR_RETURN(std::string want, row_mac(fields));
  return want.size() == mac.size() && equal_constant_time(as_bytes(want), as_bytes(mac));
}

}  // namespace concierge::store
