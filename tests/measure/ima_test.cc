#include "concierge/measure/ima.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/vectors.h"

namespace concierge::measure {
namespace {

// ---------------------------------------------------------------------------
// An independent model of the kernel's template data and PCR extends, written
// from the kernel sources (ima_template_lib.c, ima_crypto.c), not from ima.cc.

Bytes le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes str(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes field(const Bytes& b) { return cat({le32(static_cast<std::uint32_t>(b.size())), b}); }
Bytes unhex(const std::string& s) { return hex_decode(s).value(); }
Bytes hash(HashAlg alg, const Bytes& b) { return digest(alg, b).value(); }

Bytes d_ng(const std::string& alg, const Bytes& d) { return cat({str(alg), str(":"), {0}, d}); }
Bytes n_ng(const std::string& name) { return cat({str(name), {0}}); }

// One synthetic entry, described by its fields.
struct Model {
  std::uint32_t pcr = 10;
  std::string tmpl;
  std::string alg;  // file digest algorithm (ng templates)
  Bytes file_digest;
  std::string name;
  Bytes extra;  // sig or buf
  bool violation = false;

  Bytes template_data() const {
    if (tmpl == "ima") {
      Bytes padded(256, 0);
      std::copy(name.begin(), name.end(), padded.begin());
      return cat({file_digest, padded});
    }
    Bytes out = cat({field(d_ng(alg, file_digest)), field(n_ng(name))});
    if (tmpl == "ima-sig" || tmpl == "ima-buf") out = cat({out, field(extra)});
    return out;
  }
  Bytes template_hash(HashAlg column) const {
    if (violation) return Bytes(digest_size(column), 0);
    return hash(column, template_data());
  }
  std::string ascii(HashAlg column) const {
    char pcr_text[8];
    std::snprintf(pcr_text, sizeof pcr_text, "%2u ", pcr);
    std::string line = pcr_text + hex_encode(template_hash(column)) + " " + tmpl;
    if (tmpl == "ima") return line + " " + hex_encode(file_digest) + " " + name + "\n";
    line += " " + alg + ":" + hex_encode(file_digest) + " " + name;
    if (tmpl == "ima-sig" || tmpl == "ima-buf") line += " " + hex_encode(extra);
    return line + "\n";
  }
  Bytes binary() const {
    Bytes head = cat({le32(pcr), template_hash(HashAlg::kSha1), field(str(tmpl))});
    if (tmpl == "ima") return cat({head, file_digest, field(str(name))});
    return cat({head, field(template_data())});
  }
};

std::vector<Model> synthetic_models() {
  std::vector<Model> m;
  m.push_back({10, "ima-ng", "sha1", Bytes(20, 0), "boot_aggregate", {}, false});
  m.push_back({10, "ima-ng", "sha256", Bytes(32, 0x11), "/usr/bin/bash", {}, false});
  m.push_back({10, "ima-sig", "sha256", Bytes(32, 0x22), "/usr/lib/libc.so.6",
               unhex("030204aabbccdd0100"), false});
  m.push_back({10, "ima-sig", "sha512", Bytes(64, 0x33), "/etc/unsigned", {}, false});
  m.push_back(
      {10, "ima-buf", "sha256", Bytes(32, 0x44), "kexec-cmdline", str("root=/dev/sda1"), false});
  m.push_back({10, "ima", "", Bytes(20, 0x55), "/sbin/init", {}, false});
  m.push_back({11, "ima-ng", "sha384", Bytes(48, 0x66), "/opt/other-pcr", {}, false});
  // A violation: the kernel writes "<algo>:" NUL + 20 zero bytes.
  m.push_back({10, "ima-ng", "sha256", Bytes(20, 0), "/var/log/open-writers", {}, true});
  m.push_back({8, "ima-ng", "sha1", Bytes(20, 0x77), "/boot/pcr8", {}, false});
  return m;
}

std::string ascii_log(const std::vector<Model>& models, HashAlg column) {
  std::string out;
  for (const auto& m : models) out += m.ascii(column);
  return out;
}
Bytes binary_log(const std::vector<Model>& models) {
  Bytes out;
  for (const auto& m : models) out = cat({out, m.binary()});
  return out;
}

// PCR index -> expected value for one bank.
std::map<unsigned, Bytes> expected_pcrs(const std::vector<Model>& models, HashAlg bank) {
  std::map<unsigned, Bytes> pcrs;
  const std::size_t n = digest_size(bank);
  for (const auto& m : models) {
    auto it = pcrs.emplace(m.pcr, Bytes(n, 0)).first;
    Bytes measurement = m.violation ? Bytes(n, 0xff) : hash(bank, m.template_data());
    it->second = hash(bank, cat({it->second, measurement}));
  }
  return pcrs;
}

void expect_replay_matches(const ImaReplayResult& r, const std::vector<Model>& models) {
  ASSERT_EQ(r.banks.size(), 4u);
  for (const auto& bank : r.banks) {
    auto want = expected_pcrs(models, bank.alg());
    for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) {
      auto it = want.find(pcr);
      EXPECT_EQ(bank.touched(pcr), it != want.end()) << "PCR " << pcr;
      if (it != want.end()) {
        EXPECT_EQ(hex_encode(bank.value(pcr)), hex_encode(it->second))
            << hash_name(bank.alg()) << " PCR " << pcr;
      }
    }
  }
}

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

// ---------------------------------------------------------------------------
// Real vectors.

struct VectorFacts {
  const char* file;
  HashAlg column;
  std::size_t entries, verified, violations, mismatches;
  const char* file_digest_alg;
};

class ImaVectors : public ::testing::TestWithParam<VectorFacts> {};

TEST_P(ImaVectors, ParsesAndVerifiesWhatIsTrue) {
  const VectorFacts& f = GetParam();
  CONCIERGE_REQUIRE_VECTOR(path, std::string("ima/") + f.file);
  const Bytes data = testing::read_file(path);
  auto log = parse_ima_log(data);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_TRUE(log->ascii);
  EXPECT_EQ(log->template_hash_alg, f.column);
  ASSERT_EQ(log->entries.size(), f.entries);
  for (const auto& e : log->entries) {
    EXPECT_EQ(e.pcr, 10u);
    EXPECT_EQ(e.template_name, "ima-ng");
    EXPECT_EQ(e.file_digest_alg, f.file_digest_alg);
    EXPECT_TRUE(e.has_template_data);
  }
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->verified, f.verified);
  EXPECT_EQ(r->violations, f.violations);
  EXPECT_EQ(r->mismatches, f.mismatches);
  EXPECT_EQ(r->unverifiable, 0u);
  EXPECT_EQ(r->banks.size(), 4u);
  EXPECT_TRUE(r->omitted_banks.empty());
  // An all-zero template hash is the violation (the first, boot_aggregate, line).
  for (std::size_t i = 0; i < log->entries.size(); ++i) {
    const auto& e = log->entries[i];
    const bool zero = e.template_hash == Bytes(digest_size(f.column), 0);
    EXPECT_EQ(e.violation, zero);
    EXPECT_EQ(r->status[i] == ImaStatus::kViolation, zero);
  }
}

INSTANTIATE_TEST_SUITE_P(
    ImaReal, ImaVectors,
    ::testing::Values(
        VectorFacts{"ascii_runtime_measurements", HashAlg::kSha1, 826, 826, 0, 0, "sha1"},
        VectorFacts{"keylime-ima-log-sha1", HashAlg::kSha1, 2, 1, 1, 0, "sha1"},
        VectorFacts{"keylime-ima-log-sha256", HashAlg::kSha1, 2, 2, 0, 0, "sha256"},
        VectorFacts{"keylime-ima-log-sha384", HashAlg::kSha1, 2, 1, 1, 0, "sha384"},
        VectorFacts{"keylime-ima-log-sha512", HashAlg::kSha1, 2, 1, 1, 0, "sha512"},
        // Keylime's negative test: an "unknown" digest algorithm, and the
        // /data entry's SHA-256 template hash is not the hash of its template
        // data (checked against an independent computation as well).
        VectorFacts{"keylime-ima-log-unknown", HashAlg::kSha256, 2, 0, 1, 1, "unknown"}),
    [](const ::testing::TestParamInfo<VectorFacts>& p) {
      std::string name = p.param.file;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(ImaVector, UnknownAlgorithmIsReportedNotGuessed) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/keylime-ima-log-unknown");
  auto log = parse_ima_log(testing::read_file(path));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_EQ(log->entries.size(), 2u);
  const ImaEntry& e = log->entries[1];
  EXPECT_EQ(e.file_digest_alg, "unknown");
  EXPECT_FALSE(e.file_digest_alg_known);
  EXPECT_EQ(hex_encode(e.file_digest),
            "0011223344556677889900112233445577889900112233445566778899");
  EXPECT_EQ(e.file_name, "/data");
  // The template data is rebuilt from the text, so the hash can be checked.
  EXPECT_EQ(e.template_data, cat({field(d_ng("unknown", e.file_digest)), field(n_ng("/data"))}));
  std::size_t unknown_warnings = 0;
  for (const auto& w : log->warnings) {
    if (w.message.find("unknown file digest algorithm 'unknown'") != std::string::npos) {
      ++unknown_warnings;
      EXPECT_NE(w.to_string().find("line"), std::string::npos);
    }
  }
  EXPECT_EQ(unknown_warnings, 2u);
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status[1], ImaStatus::kMismatch);
  EXPECT_NE(hash(HashAlg::kSha256, e.template_data), e.template_hash);
}

TEST(ImaVector, RealAsciiLogReplaysToIndependentValue) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/ascii_runtime_measurements");
  const Bytes data = testing::read_file(path);
  auto log = parse_ima_log(data);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  // Rebuild the model from the text with the test's own code.
  std::vector<Model> models;
  for (const auto& e : log->entries) {
    models.push_back(
        {e.pcr, e.template_name, e.file_digest_alg, e.file_digest, e.file_name, {}, e.violation});
    EXPECT_EQ(models.back().template_data(), e.template_data);
  }
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  expect_replay_matches(*r, models);
  // Figure computed outside this project (Python hashlib) from the same file.
  EXPECT_EQ(hex_encode(r->bank(HashAlg::kSha1)->value(10)),
            "82231c67a69da98dc5b3aa10f6343d33109225fc");
  EXPECT_EQ(hex_encode(r->bank(HashAlg::kSha256)->value(10)),
            "c4a065637fc6a7c55f2811dd06cb45dd037133be2b3dc5c3e6fbe6bf061db724");
}

TEST(ImaVector, RealAsciiLogRoundTripsThroughBinary) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/ascii_runtime_measurements");
  const Bytes data = testing::read_file(path);
  auto log = parse_ima_log(data);
  ASSERT_TRUE(log.has_value());
  auto bin = write_ima_binary(*log);
  ASSERT_TRUE(bin.has_value()) << bin.error().to_string();
  auto back = parse_ima_log(*bin);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_FALSE(back->ascii);
  auto text = write_ima_ascii(*back);
  ASSERT_TRUE(text.has_value()) << text.error().to_string();
  EXPECT_EQ(*text, as_string(data));
  auto again = write_ima_binary(*back);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *bin);
}

// ---------------------------------------------------------------------------
// Synthetic logs.

TEST(ImaSynthetic, AsciiParsesFieldsAndReplaysToIndependentComputation) {
  const auto models = synthetic_models();
  for (HashAlg column : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    SCOPED_TRACE(std::string(hash_name(column)));
    const std::string text = ascii_log(models, column);
    auto log = parse_ima_log(as_bytes(text));
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    EXPECT_TRUE(log->ascii);
    EXPECT_EQ(log->template_hash_alg, column);
    ASSERT_EQ(log->entries.size(), models.size());
    for (std::size_t i = 0; i < models.size(); ++i) {
      const auto& e = log->entries[i];
      const auto& m = models[i];
      EXPECT_EQ(e.index, i);
      EXPECT_EQ(e.line, i + 1);
      EXPECT_EQ(e.pcr, m.pcr);
      EXPECT_EQ(e.template_name, m.tmpl);
      EXPECT_EQ(e.template_data, m.template_data()) << i;
      EXPECT_EQ(e.file_digest, m.file_digest);
      EXPECT_EQ(e.file_name, m.name);
      EXPECT_EQ(e.violation, m.violation);
      EXPECT_EQ(e.file_digest_alg, m.tmpl == "ima" ? "sha1" : m.alg);
      if (m.tmpl == "ima-sig") {
        EXPECT_EQ(e.signature, m.extra);
      }
      if (m.tmpl == "ima-buf") {
        EXPECT_EQ(e.buffer, m.extra);
      }
    }
    EXPECT_TRUE(log->warnings.empty());
    auto r = replay_ima(*log);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->verified, models.size() - 1);
    EXPECT_EQ(r->violations, 1u);
    EXPECT_EQ(r->mismatches, 0u);
    EXPECT_TRUE(r->warnings.empty());
    expect_replay_matches(*r, models);
  }
}

TEST(ImaSynthetic, BinaryParsesAndReplaysToIndependentComputation) {
  const auto models = synthetic_models();
  const Bytes bin = binary_log(models);
  auto log = parse_ima_log(bin);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_FALSE(log->ascii);
  EXPECT_EQ(log->template_hash_alg, HashAlg::kSha1);
  ASSERT_EQ(log->entries.size(), models.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < models.size(); ++i) {
    EXPECT_EQ(log->entries[i].offset, offset);
    EXPECT_EQ(log->entries[i].template_data, models[i].template_data());
    offset += models[i].binary().size();
  }
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verified, models.size() - 1);
  EXPECT_EQ(r->violations, 1u);
  expect_replay_matches(*r, models);
}

TEST(ImaSynthetic, AsciiAndBinaryRoundTrip) {
  const auto models = synthetic_models();
  const std::string text = ascii_log(models, HashAlg::kSha1);
  const Bytes bin = binary_log(models);

  auto from_text = parse_ima_ascii(text);
  ASSERT_TRUE(from_text.has_value());
  auto text_to_bin = write_ima_binary(*from_text);
  ASSERT_TRUE(text_to_bin.has_value()) << text_to_bin.error().to_string();
  EXPECT_EQ(*text_to_bin, bin);

  auto from_bin = parse_ima_binary(bin);
  ASSERT_TRUE(from_bin.has_value());
  auto bin_to_text = write_ima_ascii(*from_bin);
  ASSERT_TRUE(bin_to_text.has_value()) << bin_to_text.error().to_string();
  EXPECT_EQ(*bin_to_text, text);

  // A SHA-256 column converts to binary with SHA-1 template digests.
  auto from_256 = parse_ima_ascii(ascii_log(models, HashAlg::kSha256));
  ASSERT_TRUE(from_256.has_value());
  auto bin_256 = write_ima_binary(*from_256);
  ASSERT_TRUE(bin_256.has_value());
  EXPECT_EQ(*bin_256, bin);
}

TEST(ImaSynthetic, ViolationExtendsAllOnes) {
  Model v{10, "ima-ng", "sha256", Bytes(20, 0), "/tmp/x", {}, true};
  auto log = parse_ima_ascii(v.ascii(HashAlg::kSha1));
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE(log->entries[0].violation);
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status[0], ImaStatus::kViolation);
  for (const auto& bank : r->banks) {
    const std::size_t n = digest_size(bank.alg());
    EXPECT_EQ(Bytes(bank.value(10).begin(), bank.value(10).end()),
              hash(bank.alg(), cat({Bytes(n, 0), Bytes(n, 0xff)})));
  }
  // The same from the binary form.
  auto bin = parse_ima_binary(v.binary());
  ASSERT_TRUE(bin.has_value());
  EXPECT_TRUE(bin->entries[0].violation);
  auto rb = replay_ima(*bin, {HashAlg::kSha256});
  ASSERT_TRUE(rb.has_value());
  EXPECT_EQ(Bytes(rb->banks[0].value(10).begin(), rb->banks[0].value(10).end()),
            hash(HashAlg::kSha256, cat({Bytes(32, 0), Bytes(32, 0xff)})));
}

TEST(ImaSynthetic, MismatchIsAWarningNotAnError) {
  Model m{10, "ima-ng", "sha256", Bytes(32, 1), "/bin/true", {}, false};
  std::string line = m.ascii(HashAlg::kSha1);
  line[3] = line[3] == 'a' ? 'b' : 'a';  // first template hash digit
  auto log = parse_ima_ascii(line);
  ASSERT_TRUE(log.has_value());
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mismatches, 1u);
  EXPECT_EQ(r->status[0], ImaStatus::kMismatch);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].to_string().find("entry 0 (line 1)"), std::string::npos);
  EXPECT_NE(r->warnings[0].message.find("mismatch"), std::string::npos);
  // The replay extends the hash of the template data, not the recorded hash.
  expect_replay_matches(*r, {m});
}

TEST(ImaSynthetic, ImaSigWithoutSignatureKeepsTheTrailingSpace) {
  Model m{10, "ima-sig", "sha256", Bytes(32, 9), "/etc/hosts", {}, false};
  const std::string line = m.ascii(HashAlg::kSha1);
  EXPECT_EQ(line.substr(line.size() - 2), " \n");  // kernel prints " " + empty field
  auto with_space = parse_ima_ascii(line);
  ASSERT_TRUE(with_space.has_value());
  std::string trimmed = line.substr(0, line.size() - 2) + "\n";
  auto without = parse_ima_ascii(trimmed);
  ASSERT_TRUE(without.has_value()) << without.error().to_string();
  EXPECT_EQ(with_space->entries[0].template_data, without->entries[0].template_data);
  auto r = replay_ima(*without);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verified, 1u);
}

TEST(ImaSynthetic, TolerantAsciiDetails) {
  Model m{10, "ima-ng", "sha256", Bytes(32, 0xab), "/x", {}, false};
  auto upper = [](std::string s) {
    for (char& c : s) {
      if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
  };
  // Upper-case hex, CRLF, blank lines and a missing final newline.
  const std::string line = "10 " + upper(hex_encode(m.template_hash(HashAlg::kSha1))) +
                           " ima-ng sha256:" + upper(hex_encode(m.file_digest)) + " /x";
  const std::string text = "\n" + line + "\r\n\n   \n" + line;
  auto log = parse_ima_ascii(text);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_EQ(log->entries.size(), 2u);
  EXPECT_EQ(log->entries[0].line, 2u);
  EXPECT_EQ(log->entries[1].line, 5u);
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verified, 2u);
}

TEST(ImaSynthetic, UnknownTemplateInBinaryIsSkippedByLengthAndStillVerified) {
  const Bytes tdata = cat({field(d_ng("sha256", Bytes(32, 5))), field(n_ng("/m")), field({}),
                           field(str("evm")), field({1, 2})});
  const Bytes entry =
      cat({le32(10), hash(HashAlg::kSha1, tdata), field(str("evm-sig")), field(tdata)});
  Model after{10, "ima-ng", "sha1", Bytes(20, 3), "/after", {}, false};
  const Bytes bin = cat({entry, after.binary()});
  auto log = parse_ima_log(bin);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_EQ(log->entries.size(), 2u);
  EXPECT_FALSE(log->entries[0].template_known);
  EXPECT_TRUE(log->entries[0].has_template_data);
  EXPECT_EQ(log->entries[0].template_data, tdata);
  ASSERT_EQ(log->warnings.size(), 1u);
  EXPECT_NE(log->warnings[0].message.find("evm-sig"), std::string::npos);
  EXPECT_EQ(log->entries[1].file_name, "/after");
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verified, 2u);
  EXPECT_EQ(r->banks.size(), 4u);
  auto out = write_ima_binary(*log);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, bin);
  EXPECT_FALSE(write_ima_ascii(*log).has_value());  // fields unknown
}

TEST(ImaSynthetic, ImaModsigIsInterpreted) {
  const Bytes tdata = cat({field(d_ng("sha256", Bytes(32, 5))), field(n_ng("/lib/mod.ko")),
                           field({}), field(d_ng("sha256", Bytes(32, 6))), field({0x30, 0x82})});
  const Bytes bin =
      cat({le32(10), hash(HashAlg::kSha1, tdata), field(str("ima-modsig")), field(tdata)});
  auto log = parse_ima_binary(bin);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_TRUE(log->entries[0].template_known);
  EXPECT_EQ(log->entries[0].file_name, "/lib/mod.ko");
  EXPECT_TRUE(log->warnings.empty());
  auto text = write_ima_ascii(*log);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "10 " + hex_encode(hash(HashAlg::kSha1, tdata)) +
                       " ima-modsig sha256:" + hex_encode(Bytes(32, 5)) +
                       " /lib/mod.ko  sha256:" + hex_encode(Bytes(32, 6)) + " 3082\n");
  auto back = parse_ima_ascii(*text);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->entries[0].template_data, tdata);
}

TEST(ImaSynthetic, UnknownTemplateInAsciiIsUnverifiableAndOmitsOtherBanks) {
  Model m{10, "ima-ng", "sha1", Bytes(20, 3), "/known", {}, false};
  const Bytes recorded(20, 0x42);
  const std::string text =
      m.ascii(HashAlg::kSha1) + "10 " + hex_encode(recorded) + " evm-sig sha1:00 /x 0 0\n";
  auto log = parse_ima_ascii(text);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_EQ(log->entries.size(), 2u);
  EXPECT_FALSE(log->entries[1].has_template_data);
  auto r = replay_ima(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status[1], ImaStatus::kUnverifiable);
  EXPECT_EQ(r->unverifiable, 1u);
  // Only the column's bank can be computed: it extends the recorded hash.
  ASSERT_EQ(r->banks.size(), 1u);
  EXPECT_EQ(r->banks[0].alg(), HashAlg::kSha1);
  EXPECT_EQ(r->omitted_banks.size(), 3u);
  const Bytes first =
      hash(HashAlg::kSha1, cat({Bytes(20, 0), hash(HashAlg::kSha1, m.template_data())}));
  EXPECT_EQ(Bytes(r->banks[0].value(10).begin(), r->banks[0].value(10).end()),
            hash(HashAlg::kSha1, cat({first, recorded})));
  EXPECT_FALSE(write_ima_binary(*log).has_value());
}

// ---------------------------------------------------------------------------
// Hostile input.

TEST(ImaBinary, TruncationAtEveryOffsetFailsOrEndsAtAnEntryBoundary) {
  const auto models = synthetic_models();
  const Bytes bin = binary_log(models);
  std::vector<std::size_t> boundaries = {0};
  for (const auto& m : models) boundaries.push_back(boundaries.back() + m.binary().size());
  for (std::size_t n = 0; n < bin.size(); ++n) {
    auto log = parse_ima_binary(ByteView(bin).first(n));
    auto b = std::find(boundaries.begin(), boundaries.end(), n);
    if (b != boundaries.end()) {
      ASSERT_TRUE(log.has_value()) << n;
      EXPECT_EQ(log->entries.size(), static_cast<std::size_t>(b - boundaries.begin()));
    } else {
      ASSERT_FALSE(log.has_value()) << "truncated at " << n;
      EXPECT_EQ(log.error().code, Errc::kTruncated) << log.error().to_string();
      EXPECT_FALSE(log.error().field.empty());
      ASSERT_TRUE(log.error().offset.has_value());
      EXPECT_LE(*log.error().offset, n);
    }
  }
  EXPECT_FALSE(parse_ima_log({}).has_value());
}

TEST(ImaBinary, OversizedLengthsAreRejected) {
  Model m{10, "ima-ng", "sha256", Bytes(32, 1), "/bin/true", {}, false};
  const Bytes good = m.binary();
  auto with_u32 = [&](std::size_t at, std::uint32_t v) {
    Bytes b = good;
    Bytes le = le32(v);
    std::copy(le.begin(), le.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
    return b;
  };
  struct Case {
    std::size_t at;
    const char* field;
  };
  // pcr | hash(20) | name_len @24 | "ima-ng" | data_len @34 | d-ng len @38
  for (Case c : {Case{24, "template_name_len"}, Case{34, "template_data"}, Case{38, "d-ng"}}) {
    for (std::uint32_t v : {0xffffffffu, 0x7fffffffu, 0x10000u}) {
      auto log = parse_ima_binary(with_u32(c.at, v));
      ASSERT_FALSE(log.has_value()) << c.field << " " << v;
      EXPECT_EQ(log.error().field, c.field) << log.error().to_string();
    }
  }
  auto bad_pcr = parse_ima_binary(with_u32(0, 24));
  ASSERT_FALSE(bad_pcr.has_value());
  EXPECT_EQ(bad_pcr.error().field, "pcr");
  auto big_endian = parse_ima_binary(with_u32(0, 0x0a000000u));
  ASSERT_FALSE(big_endian.has_value());
  EXPECT_NE(big_endian.error().message.find("big-endian"), std::string::npos);

  // The "ima" template: the file name is at most 255 bytes.
  Model old{10, "ima", "", Bytes(20, 1), "/x", {}, false};
  Bytes b = old.binary();
  Bytes le = le32(300);
  std::copy(le.begin(), le.end(), b.begin() + 24 + 4 + 3 + 20);
  auto log = parse_ima_binary(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().field, "n_len");
}

TEST(ImaBinary, FieldsMustFillTheTemplateData) {
  Model m{10, "ima-ng", "sha256", Bytes(32, 1), "/bin/true", {}, false};
  Bytes tdata = cat({m.template_data(), {0}});  // one byte too many
  Bytes bin = cat({le32(10), hash(HashAlg::kSha1, tdata), field(str("ima-ng")), field(tdata)});
  auto log = parse_ima_binary(bin);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, Errc::kTrailingData);

  // n-ng must be NUL-terminated; d-ng must have the "<algo>:" NUL prefix.
  Bytes no_nul = cat({field(d_ng("sha1", Bytes(20, 0))), field(str("/x"))});
  auto l2 = parse_ima_binary(cat({le32(10), Bytes(20, 1), field(str("ima-ng")), field(no_nul)}));
  ASSERT_FALSE(l2.has_value());
  EXPECT_EQ(l2.error().field, "n-ng");
  Bytes no_colon = cat({field(str("sha1")), field(n_ng("/x"))});
  auto l3 = parse_ima_binary(cat({le32(10), Bytes(20, 1), field(str("ima-ng")), field(no_colon)}));
  ASSERT_FALSE(l3.has_value());
  EXPECT_EQ(l3.error().field, "d-ng");
}

TEST(ImaAscii, ErrorsNameTheLineAndField) {
  Model m{10, "ima-ng", "sha256", Bytes(32, 1), "/bin/true", {}, false};
  const std::string good = m.ascii(HashAlg::kSha1);
  struct Case {
    std::string second_line;
    const char* field;
  };
  const std::string h = hex_encode(m.template_hash(HashAlg::kSha1));
  const std::vector<Case> cases = {
      {"xx " + h + " ima-ng sha1:00 /a\n", "pcr"},
      {"24 " + h + " ima-ng sha1:00 /a\n", "pcr"},
      {"10 abc ima-ng sha1:00 /a\n", "template_hash"},
      {"10 " + std::string(40, 'g') + " ima-ng sha1:00 /a\n", "template_hash"},
      {"10 " + std::string(64, '1') + " ima-ng sha1:00 /a\n", "template_hash"},  // length differs
      {"10 " + h + "\n", "template_name"},
      {"10 " + h + " ima-ng sha1:0 /a\n", "d-ng"},
      {"10 " + h + " ima-ng 00 /a\n", "d-ng"},
      {"10 " + h + " ima-ng sha1:00\n", "n-ng"},
      {"10 " + h + " ima-ng sha1:00 /a extra\n", "template_data"},
      {"10 " + h + " ima-sig sha1:00 /a zz\n", "sig"},
      {"10 " + h + " ima " + std::string(38, '0') + " /a\n", "d"},
      {"10 " + h + " ima " + std::string(40, '0') + " " + std::string(256, 'n') + "\n", "n"},
  };
  for (const auto& c : cases) {
    auto log = parse_ima_ascii(good + c.second_line);
    ASSERT_FALSE(log.has_value()) << c.second_line;
    EXPECT_EQ(log.error().field, c.field) << log.error().to_string();
    EXPECT_NE(log.error().message.find("line 2"), std::string::npos) << log.error().to_string();
    ASSERT_TRUE(log.error().offset.has_value());
    EXPECT_GE(*log.error().offset, good.size());
  }
  EXPECT_FALSE(parse_ima_ascii(std::string("10 \0", 4)).has_value());
}

TEST(ImaAscii, FileDigestLengthAndAlgorithmWarnings) {
  const std::string h(40, '1');
  auto log = parse_ima_ascii("10 " + h + " ima-ng sha256:" + std::string(40, '2') + " /a\n" +
                             "10 " + h + " ima-ng md5:" + std::string(32, '3') + " /b\n" + "10 " +
                             h + " ima-ng blake9:" + std::string(8, '4') + " /c\n");
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_EQ(log->warnings.size(), 2u);
  EXPECT_EQ(log->warnings[0].entry_index, 0u);
  EXPECT_NE(log->warnings[0].message.find("20 bytes"), std::string::npos);
  EXPECT_EQ(log->warnings[1].entry_index, 2u);
  EXPECT_NE(log->warnings[1].message.find("'blake9'"), std::string::npos);
  EXPECT_TRUE(log->entries[1].file_digest_alg_known);
  EXPECT_FALSE(log->entries[2].file_digest_alg_known);
  EXPECT_EQ(log->entries[2].file_digest_alg, "blake9");
}

TEST(ImaReplay, BanksAreValidated) {
  auto log = parse_ima_ascii(synthetic_models()[1].ascii(HashAlg::kSha1));
  ASSERT_TRUE(log.has_value());
  EXPECT_FALSE(replay_ima(*log, {HashAlg::kSha1, HashAlg::kSha1}).has_value());
  auto r = replay_ima(*log, {HashAlg::kSha384});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->banks.size(), 1u);
  EXPECT_EQ(r->banks[0].alg(), HashAlg::kSha384);
  EXPECT_EQ(r->bank(HashAlg::kSha1), nullptr);
}

}  // namespace
}  // namespace concierge::measure
