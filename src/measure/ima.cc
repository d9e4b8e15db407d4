// IMA measurement list parsing and writing. See concierge/measure/ima.h for the
// formats and the kernel references.
#include "concierge/measure/ima.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <utility>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"

namespace concierge::measure {

namespace {

// ---------------------------------------------------------------------------
// Template descriptors (kernel ima_template.c defined_templates[]).

enum class FieldKind {
  kDigestNg,  // "<algo>:" NUL digest (d-ng, d-modsig)
  kNameNg,    // name NUL (n-ng)
  kHex,       // raw bytes shown as hex (sig, buf, modsig)
};

struct FieldSpec {
  std::string_view id;
  FieldKind kind;
  bool required;  // in ASCII: must be present and non-empty
};

struct TemplateDesc {
  std::string_view name;
  std::array<FieldSpec, 5> fields;
  std::size_t count;
};

constexpr FieldSpec kDng{"d-ng", FieldKind::kDigestNg, true};
constexpr FieldSpec kNng{"n-ng", FieldKind::kNameNg, true};
constexpr FieldSpec kSig{"sig", FieldKind::kHex, false};
constexpr FieldSpec kBuf{"buf", FieldKind::kHex, false};
constexpr FieldSpec kDmodsig{"d-modsig", FieldKind::kDigestNg, false};
constexpr FieldSpec kModsig{"modsig", FieldKind::kHex, false};

constexpr std::array<TemplateDesc, 4> kTemplates = {{
    {"ima-ng", {kDng, kNng}, 2},
    {"ima-sig", {kDng, kNng, kSig}, 3},
    {"ima-buf", {kDng, kNng, kBuf}, 3},
    {"ima-modsig", {kDng, kNng, kSig, kDmodsig, kModsig}, 5},
}};
constexpr std::string_view kImaTemplate = "ima";  // d|n, special framing

const TemplateDesc* find_template(std::string_view name) {
  for (const auto& t : kTemplates) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Kernel hash_algo_name[] (crypto/hash_info.c) with digest sizes.
struct KnownAlg {
  std::string_view name;
  std::size_t size;
};
constexpr std::array<KnownAlg, 24> kKernelAlgs = {{
    {"md4", 16},         {"md5", 16},      {"sha1", 20},     {"rmd160", 20},   {"rmd256", 32},
    {"rmd320", 40},      {"sha256", 32},   {"sha384", 48},   {"sha512", 64},   {"sha224", 28},
    {"rmd128", 16},      {"wp256", 32},    {"wp384", 48},    {"wp512", 64},    {"tgr128", 16},
    {"tgr160", 20},      {"tgr192", 24},   {"sm3", 32},      {"sm3-256", 32},  {"streebog256", 32},
    {"streebog512", 64}, {"sha3-256", 32}, {"sha3-384", 48}, {"sha3-512", 64},
}};

std::optional<std::size_t> kernel_alg_size(std::string_view name) {
  for (const auto& a : kKernelAlgs) {
    if (a.name == name) return a.size;
  }
  return std::nullopt;
}

constexpr std::size_t kMaxAlgName = 128;  // CRYPTO_MAX_ALG_NAME

// ---------------------------------------------------------------------------
// Locations and errors.

struct Where {
  bool ascii = false;
  std::size_t line = 0;
  std::size_t offset = 0;
};

std::string hex_offset(std::size_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", offset);
  return buf;
}

std::string location_of(const Where& w) {
  return w.ascii ? "line " + std::to_string(w.line) : "offset " + hex_offset(w.offset);
}

Unexpected bad(const Where& w, Errc code, std::string field, std::string message) {
  if (w.ascii) message = "line " + std::to_string(w.line) + ": " + message;
  return fail_at(code, std::move(field), w.offset, std::move(message));
}

void warn(ImaLog& log, const ImaEntry& e, const Where& w, std::string message) {
  log.warnings.push_back(ImaWarning{e.index, location_of(w), std::move(message)});
}

bool all_zero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

bool valid_alg_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAlgName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Template names and file names must survive the ASCII format: no spaces
// (the kernel replaces them with '_'), no line breaks, no NUL.
bool printable_token(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}
bool valid_file_name(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\0' || c == ' ' || c == '\n' || c == '\r'; });
}

void append_u32le(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

// "ima" template data: d (20) || name NUL zero-padded to 256 bytes.
Bytes ima_template_data(ByteView d, std::string_view name) {
  Bytes out(d.begin(), d.end());
  out.resize(kImaDigestSize + kImaNameMax + 1, 0);
  std::copy(name.begin(), name.end(), out.begin() + kImaDigestSize);
  return out;
}

// Splits "<algo>:" NUL digest. nullopt when the field lacks that prefix.
struct DigestNg {
  std::string_view alg;
  ByteView digest;
};
std::optional<DigestNg> split_digest_ng(ByteView b) {
  auto colon = std::find(b.begin(), b.end(), std::uint8_t{':'});
  if (colon == b.end() || colon + 1 == b.end() || *(colon + 1) != 0) return std::nullopt;
  const auto n = static_cast<std::size_t>(colon - b.begin());
  return DigestNg{as_chars(b.first(n)), b.subspan(n + 2)};
}

// Checks one field's bytes and records what it means in the entry.
Result<void> interpret_field(const FieldSpec& spec, ByteView b, const Where& w, ImaEntry& e,
                             ImaLog& log) {
  std::string field(spec.id);
  switch (spec.kind) {
    case FieldKind::kDigestNg: {
      if (b.empty()) {
        if (spec.required) return bad(w, Errc::kMalformed, field, "empty digest field");
        return {};
      }
      auto d = split_digest_ng(b);
      if (!d) return bad(w, Errc::kMalformed, field, "expected '<algo>:' NUL digest");
      if (!valid_alg_name(d->alg)) {
        return bad(w, Errc::kMalformed, field, "invalid hash algorithm name");
      }
      if (spec.id != "d-ng") return {};  // d-modsig: validated only
      e.file_digest_alg = std::string(d->alg);
      e.file_digest.assign(d->digest.begin(), d->digest.end());
      auto size = kernel_alg_size(d->alg);
      e.file_digest_alg_known = size.has_value();
      if (!size) {
        warn(log, e, w,
             "unknown file digest algorithm '" + e.file_digest_alg +
                 "': the file digest is not interpreted");
      } else if (*size != d->digest.size() && !e.violation) {
        warn(log, e, w,
             "file digest is " + std::to_string(d->digest.size()) + " bytes but " +
                 e.file_digest_alg + " digests are " + std::to_string(*size));
      }
      return {};
    }
    case FieldKind::kNameNg: {
      if (b.empty() || b.back() != 0) {
        return bad(w, Errc::kMalformed, field, "name is not NUL-terminated");
      }
      std::string_view name = as_chars(b.first(b.size() - 1));
      if (!valid_file_name(name)) {
        return bad(w, Errc::kMalformed, field, "name contains NUL, space or line break");
      }
      e.file_name = std::string(name);
      return {};
    }
    case FieldKind::kHex:
      if (spec.id == "sig") e.signature.assign(b.begin(), b.end());
      if (spec.id == "buf") e.buffer.assign(b.begin(), b.end());
      return {};
  }
  return {};
}

Result<void> finish_ima_template(ByteView d, std::string_view name, const Where& w, ImaEntry& e) {
  if (name.size() > kImaNameMax) {
    return bad(w, Errc::kMalformed, "n", "file name longer than 255 bytes");
  }
  if (!valid_file_name(name)) {
    return bad(w, Errc::kMalformed, "n", "name contains NUL, space or line break");
  }
  e.template_known = true;
  e.has_template_data = true;
  e.template_data = ima_template_data(d, name);
  e.file_digest_alg = "sha1";
  e.file_digest_alg_known = true;
  e.file_digest.assign(d.begin(), d.end());
  e.file_name = std::string(name);
  return {};
}

// ---------------------------------------------------------------------------
// ASCII.

struct Token {
  std::string_view text;
  std::size_t offset;  // absolute
};

std::optional<HashAlg> alg_from_hex_length(std::size_t n) {
  switch (n) {
    case 40:
      return HashAlg::kSha1;
    case 64:
      return HashAlg::kSha256;
    case 96:
      return HashAlg::kSha384;
    case 128:
      return HashAlg::kSha512;
    default:
      return std::nullopt;
  }
}

Result<Bytes> field_from_text(const FieldSpec& spec, const Token& t, const Where& w) {
  switch (spec.kind) {
    case FieldKind::kDigestNg: {
      if (t.text.empty()) return Bytes{};
      auto colon = t.text.find(':');
      if (colon == std::string_view::npos) {
        return bad(w, Errc::kMalformed, std::string(spec.id), "expected '<algo>:<hex digest>'");
      }
      auto hex = hex_decode(t.text.substr(colon + 1));
      if (!hex) {
        return bad(w, Errc::kMalformed, std::string(spec.id),
                   "digest is not hex: " + hex.error().message);
      }
      Bytes out(t.text.begin(), t.text.begin() + static_cast<std::ptrdiff_t>(colon) + 1);
      out.push_back(0);
      append(out, *hex);
      return out;
    }
    case FieldKind::kNameNg: {
      Bytes out(t.text.begin(), t.text.end());
      out.push_back(0);
      return out;
    }
    case FieldKind::kHex: {
      auto hex = hex_decode(t.text);
      if (!hex) {
        return bad(w, Errc::kMalformed, std::string(spec.id),
                   "field is not hex: " + hex.error().message);
      }
      return std::move(hex).value();
    }
  }
  return Bytes{};
}

Result<void> parse_ascii_line(std::string_view line, std::size_t line_no, std::size_t line_off,
                              ImaLog& log, bool& alg_set) {
  ImaEntry e;
  e.index = log.entries.size();
  e.line = line_no;
  e.offset = line_off;
  Where w{true, line_no, line_off};

  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  const std::size_t digits_start = i;
  std::uint32_t pcr = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && i - digits_start < 3) {
    pcr = pcr * 10 + static_cast<std::uint32_t>(line[i] - '0');
    ++i;
  }
  w.offset = line_off + digits_start;
  if (i == digits_start) return bad(w, Errc::kMalformed, "pcr", "expected a PCR index");
  if (i >= line.size() || line[i] != ' ') {
    return bad(w, Errc::kMalformed, "pcr", "expected a PCR index (0-23) and a space");
  }
  if (pcr >= kPcrCount) {
    return bad(w, Errc::kMalformed, "pcr", "PCR index " + std::to_string(pcr) + " out of range");
  }
  e.pcr = pcr;
  ++i;

  std::vector<Token> tokens;
  for (std::size_t start = i;;) {
    std::size_t sp = line.find(' ', start);
    std::size_t end = sp == std::string_view::npos ? line.size() : sp;
    tokens.push_back(Token{line.substr(start, end - start), line_off + start});
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }

  // Template hash.
  const Token& hash_tok = tokens[0];
  w.offset = hash_tok.offset;
  auto hash_alg = alg_from_hex_length(hash_tok.text.size());
  if (!hash_alg) {
    return bad(
        w, Errc::kMalformed, "template_hash",
        "expected 40, 64, 96 or 128 hex digits, got " + std::to_string(hash_tok.text.size()));
  }
  if (!alg_set) {
    log.template_hash_alg = *hash_alg;
    alg_set = true;
  } else if (*hash_alg != log.template_hash_alg) {
    return bad(w, Errc::kMalformed, "template_hash",
               "template hash length differs from the first entry's");
  }
  auto hash = hex_decode(hash_tok.text);
  if (!hash) {
    return bad(w, Errc::kMalformed, "template_hash", "not hex: " + hash.error().message);
  }
  e.template_hash = std::move(hash).value();
  e.violation = all_zero(e.template_hash);

  // Template name.
  if (tokens.size() < 2 || tokens[1].text.empty()) {
    w.offset = tokens.size() < 2 ? line_off + line.size() : tokens[1].offset;
    return bad(w, Errc::kMalformed, "template_name", "missing template name");
  }
  w.offset = tokens[1].offset;
  if (!printable_token(tokens[1].text)) {
    return bad(w, Errc::kMalformed, "template_name", "invalid template name");
  }
  e.template_name = std::string(tokens[1].text);
  const std::size_t nfields = tokens.size() - 2;
  const Token* fields = tokens.data() + 2;

  if (e.template_name == kImaTemplate) {
    if (nfields != 2) {
      return bad(w, Errc::kMalformed, "template_data",
                 "template ima has 2 fields (d, n), found " + std::to_string(nfields));
    }
    w.offset = fields[0].offset;
    auto d = hex_decode(fields[0].text);
    if (!d || d->size() != kImaDigestSize) {
      return bad(w, Errc::kMalformed, "d", "expected a 20-byte hex digest");
    }
    w.offset = fields[1].offset;
    CONCIERGE_RETURN_IF_ERROR(finish_ima_template(*d, fields[1].text, w, e));
  } else if (const TemplateDesc* desc = find_template(e.template_name)) {
    if (nfields > desc->count) {
      return bad(w, Errc::kMalformed, "template_data",
                 "template " + e.template_name + " has at most " + std::to_string(desc->count) +
                     " fields, found " + std::to_string(nfields));
    }
    Bytes data;
    for (std::size_t f = 0; f < desc->count; ++f) {
      const FieldSpec& spec = desc->fields[f];
      Token t = f < nfields ? fields[f] : Token{{}, line_off + line.size()};
      w.offset = t.offset;
      if (spec.required && t.text.empty()) {
        return bad(w, Errc::kMalformed, std::string(spec.id), "missing field");
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes bytes, field_from_text(spec, t, w));
      CONCIERGE_RETURN_IF_ERROR(interpret_field(spec, bytes, w, e, log));
      append_u32le(data, static_cast<std::uint32_t>(bytes.size()));
      append(data, bytes);
    }
    e.template_known = true;
    e.has_template_data = true;
    e.template_data = std::move(data);
  } else {
    warn(log, e, w,
         "unknown template '" + e.template_name +
             "': its template data cannot be rebuilt from text, so its hash is not verified");
  }
  log.entries.push_back(std::move(e));
  return {};
}

// ---------------------------------------------------------------------------
// Binary.

Result<void> parse_binary_entry(ByteReader& r, ImaLog& log) {
  ImaEntry e;
  e.index = log.entries.size();
  e.offset = r.offset();
  Where w{false, 0, e.offset};

  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t pcr, r.u32le("pcr"));
  if (pcr >= kPcrCount) {
    const bool swapped = (pcr >> 24) < kPcrCount && (pcr & 0xffffffu) == 0;
    return bad(w, Errc::kMalformed, "pcr",
               "PCR index " + std::to_string(pcr) + " out of range" +
                   (swapped ? " (a big-endian log? only little-endian is supported)" : ""));
  }
  e.pcr = pcr;
  CONCIERGE_ASSIGN_OR_RETURN(ByteView hash, r.bytes(kImaDigestSize, "template_hash"));
  e.template_hash.assign(hash.begin(), hash.end());
  e.violation = all_zero(hash);

  w.offset = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t name_len, r.u32le("template_name_len"));
  if (name_len == 0 || name_len > kImaNameMax) {
    return bad(w, Errc::kMalformed, "template_name_len",
               "template name length " + std::to_string(name_len) + " not in 1..255");
  }
  w.offset = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(ByteView name, r.bytes(name_len, "template_name"));
  if (!printable_token(as_chars(name))) {
    return bad(w, Errc::kMalformed, "template_name", "invalid template name");
  }
  e.template_name = std::string(as_chars(name));

  if (e.template_name == kImaTemplate) {
    // Kernel ima_measurements_show(): no template data length for "ima"; 'd'
    // is written without a length (IMA_SHOW_BINARY_NO_FIELD_LEN) and 'n' as
    // u32 strlen + name without NUL (IMA_SHOW_BINARY_OLD_STRING_FMT).
    CONCIERGE_ASSIGN_OR_RETURN(ByteView d, r.bytes(kImaDigestSize, "d"));
    w.offset = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t n_len, r.u32le("n_len"));
    if (n_len > kImaNameMax) {
      return bad(w, Errc::kMalformed, "n_len",
                 "file name length " + std::to_string(n_len) + " exceeds 255");
    }
    w.offset = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(ByteView n, r.bytes(n_len, "n"));
    CONCIERGE_RETURN_IF_ERROR(finish_ima_template(d, as_chars(n), w, e));
    log.entries.push_back(std::move(e));
    return {};
  }

  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t data_len, r.u32le("template_data_len"));
  w.offset = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(ByteReader data, r.sub(data_len, "template_data"));
  e.has_template_data = true;
  e.template_data.assign(data.rest().begin(), data.rest().end());

  if (const TemplateDesc* desc = find_template(e.template_name)) {
    for (std::size_t f = 0; f < desc->count; ++f) {
      const FieldSpec& spec = desc->fields[f];
      const std::string id(spec.id);
      w.offset = data.offset();
      CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t len, data.u32le(id + "_len"));
      w.offset = data.offset();
      CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, data.bytes(len, id));
      CONCIERGE_RETURN_IF_ERROR(interpret_field(spec, bytes, w, e, log));
    }
    CONCIERGE_RETURN_IF_ERROR(data.expect_end("template data of " + e.template_name));
    e.template_known = true;
  } else {
    w.offset = e.offset;
    warn(log, e, w,
         "unknown template '" + e.template_name + "': " + std::to_string(data_len) +
             " bytes of template data skipped (hashed as recorded)");
  }
  log.entries.push_back(std::move(e));
  return {};
}

// ---------------------------------------------------------------------------
// Writers.

Unexpected cannot_write(const ImaEntry& e, const std::string& why) {
  return fail(Errc::kUnsupported,
              "entry " + std::to_string(e.index) + " (template " + e.template_name + "): " + why);
}

Result<std::string> ascii_fields(const ImaEntry& e) {
  std::string out;
  if (e.template_name == kImaTemplate) {
    if (e.template_data.size() != kImaDigestSize + kImaNameMax + 1) {
      return cannot_write(e, "ima template data must be 276 bytes");
    }
    ByteView data(e.template_data);
    ByteView padded = data.subspan(kImaDigestSize);
    auto nul = std::find(padded.begin(), padded.end(), std::uint8_t{0});
    std::string_view name = as_chars(padded.first(static_cast<std::size_t>(nul - padded.begin())));
    if (!valid_file_name(name)) return cannot_write(e, "file name not representable");
    out += " " + hex_encode(data.first(kImaDigestSize)) + " " + std::string(name);
    return out;
  }
  const TemplateDesc* desc = find_template(e.template_name);
  if (!desc) return cannot_write(e, "unknown template");
  ByteReader r(e.template_data);
  for (std::size_t f = 0; f < desc->count; ++f) {
    const FieldSpec& spec = desc->fields[f];
    auto len = r.u32le(spec.id);
    if (!len) return cannot_write(e, len.error().to_string());
    auto bytes = r.bytes(*len, spec.id);
    if (!bytes) return cannot_write(e, bytes.error().to_string());
    out += ' ';
    switch (spec.kind) {
      case FieldKind::kDigestNg: {
        if (bytes->empty()) break;
        auto d = split_digest_ng(*bytes);
        if (!d || !valid_alg_name(d->alg)) return cannot_write(e, "malformed digest field");
        out += std::string(d->alg) + ":" + hex_encode(d->digest);
        break;
      }
      case FieldKind::kNameNg: {
        if (bytes->empty() || bytes->back() != 0) return cannot_write(e, "malformed name");
        std::string_view name = as_chars(bytes->first(bytes->size() - 1));
        if (!valid_file_name(name)) return cannot_write(e, "file name not representable");
        out += name;
        break;
      }
      case FieldKind::kHex:
        out += hex_encode(*bytes);
        break;
    }
  }
  if (!r.empty()) return cannot_write(e, "trailing template data");
  return out;
}

}  // namespace

std::string ImaWarning::to_string() const {
  std::string out;
  if (entry_index != kNoEntry) out = "entry " + std::to_string(entry_index);
  if (!location.empty()) out += (out.empty() ? "" : " ") + std::string("(") + location + ")";
  return out.empty() ? message : out + ": " + message;
}

Result<ImaLog> parse_ima_ascii(std::string_view text) {
  ImaLog log;
  log.ascii = true;
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    return fail_at(Errc::kMalformed, "text", nul, "NUL byte in an ASCII IMA log");
  }
  bool alg_set = false;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {
    const std::size_t eol = text.find('\n', pos);
    const std::size_t end = eol == std::string_view::npos ? text.size() : eol;
    ++line_no;
    std::string_view line = text.substr(pos, end - pos);
    const std::size_t line_off = pos;
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;  // blank line
    CONCIERGE_RETURN_IF_ERROR(parse_ascii_line(line, line_no, line_off, log, alg_set));
  }
  return log;
}

Result<ImaLog> parse_ima_binary(ByteView data) {
  ImaLog log;
  log.ascii = false;
  log.template_hash_alg = HashAlg::kSha1;
  ByteReader r(data);
  while (!r.empty()) CONCIERGE_RETURN_IF_ERROR(parse_binary_entry(r, log));
  return log;
}

Result<ImaLog> parse_ima_log(ByteView data) {
  if (data.empty()) return fail(Errc::kMalformed, "empty IMA measurement list");
  if (data[0] < kPcrCount) return parse_ima_binary(data);
  return parse_ima_ascii(as_chars(data));
}

Result<Bytes> write_ima_binary(const ImaLog& log) {
  Bytes out;
  for (const ImaEntry& e : log.entries) {
    if (!e.has_template_data) return cannot_write(e, "template data unknown");
    if (e.pcr >= kPcrCount) return cannot_write(e, "PCR index out of range");
    if (e.template_name.empty() || e.template_name.size() > kImaNameMax) {
      return cannot_write(e, "template name length not in 1..255");
    }
    append_u32le(out, e.pcr);
    if (e.violation) {
      out.insert(out.end(), kImaDigestSize, 0);
    } else if (log.template_hash_alg == HashAlg::kSha1 && e.template_hash.size() == 20) {
      append(out, e.template_hash);
    } else {
      CONCIERGE_ASSIGN_OR_RETURN(Bytes sha1, digest(HashAlg::kSha1, e.template_data));
      append(out, sha1);
    }
    append_u32le(out, static_cast<std::uint32_t>(e.template_name.size()));
    append(out, as_bytes(e.template_name));
    if (e.template_name == kImaTemplate) {
      if (e.template_data.size() != kImaDigestSize + kImaNameMax + 1) {
        return cannot_write(e, "ima template data must be 276 bytes");
      }
      ByteView data(e.template_data);
      append(out, data.first(kImaDigestSize));
      ByteView padded = data.subspan(kImaDigestSize);
      auto nul = std::find(padded.begin(), padded.end(), std::uint8_t{0});
      auto len = static_cast<std::size_t>(nul - padded.begin());
      append_u32le(out, static_cast<std::uint32_t>(len));
      append(out, padded.first(len));
    } else {
      if (e.template_data.size() > UINT32_MAX) return cannot_write(e, "template data too long");
      append_u32le(out, static_cast<std::uint32_t>(e.template_data.size()));
      append(out, e.template_data);
    }
  }
  return out;
}

Result<std::string> write_ima_ascii(const ImaLog& log) {
  std::string out;
  for (const ImaEntry& e : log.entries) {
    if (!e.has_template_data || !e.template_known) {
      return cannot_write(e, "fields unknown, cannot format as text");
    }
    if (e.pcr >= kPcrCount) return cannot_write(e, "PCR index out of range");
    if (!printable_token(e.template_name)) return cannot_write(e, "invalid template name");
    char pcr[8];
    std::snprintf(pcr, sizeof pcr, "%2u ", static_cast<unsigned>(e.pcr));
    out += pcr;
    out += hex_encode(e.template_hash);
    out += ' ';
    out += e.template_name;
    CONCIERGE_ASSIGN_OR_RETURN(std::string fields, ascii_fields(e));
    out += fields;
    out += '\n';
  }
  return out;
}

}  // namespace concierge::measure
