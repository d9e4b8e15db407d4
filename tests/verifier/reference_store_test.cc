#include "concierge/verifier/reference_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "concierge/core/time.h"
#include "support/vectors.h"

namespace concierge::verifier {
namespace {

TimePoint at(const char* text) { return parse_rfc3339(text).value(); }

ReferenceValue ref(std::string name, std::string value) {
  ReferenceValue v;
  v.name = std::move(name);
  v.value = std::move(value);
  return v;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ReferenceStore, AddListRemove) {
  MemoryReferenceStore store;
  ASSERT_TRUE(store.add(ref("snp.measurement", "bb")));
  ASSERT_TRUE(store.add(ref("snp.measurement", "aa")));
  ASSERT_TRUE(store.add(ref("tdx.mrtd", "cc")));
  EXPECT_EQ(store.size(), 3u);

  auto all = store.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].value, "aa");  // sorted by name, then value
  EXPECT_EQ((*all)[1].value, "bb");
  EXPECT_EQ((*all)[2].name, "tdx.mrtd");

  auto snp = store.list("snp.measurement");
  ASSERT_TRUE(snp);
  EXPECT_EQ(snp->size(), 2u);
  auto none = store.list("sgx.mrenclave");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto removed = store.remove("snp.measurement", "AA");  // hex compares without case
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);
  removed = store.remove("snp.measurement", "aa");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 0u);
  removed = store.remove("tdx.mrtd");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(store.size(), 1u);
}

TEST(ReferenceStore, AddingAgainReplacesTheEntry) {
  MemoryReferenceStore store;
  ReferenceValue v = ref("snp.measurement", "ABCD");
  v.provenance = "first";
  ASSERT_TRUE(store.add(v));
  v.value = "abcd";
  v.provenance = "second";
  v.expires = at("2030-01-01T00:00:00Z");
  ASSERT_TRUE(store.add(v));
  auto all = store.list().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].provenance, "second");
  EXPECT_EQ(all[0].value, "abcd");
  ASSERT_TRUE(all[0].expires);
}

TEST(ReferenceStore, MatchingIsExactExceptHexCase) {
  EXPECT_TRUE(reference_value_matches("abcd", "abcd"));
  EXPECT_TRUE(reference_value_matches("ABcd", "abCD"));
  EXPECT_FALSE(reference_value_matches("abcd", "abce"));
  EXPECT_FALSE(reference_value_matches("abcd", "abcd0"));
  EXPECT_FALSE(reference_value_matches("Signer", "signer"));  // text is case-sensitive
  EXPECT_FALSE(reference_value_matches("", "a"));
}

TEST(ReferenceStore, ValuesSplitsExpiredOnes) {
  MemoryReferenceStore store;
  ReferenceValue old = ref("snp.measurement", "aa");
  old.expires = at("2025-01-01T00:00:00Z");
  ReferenceValue fresh = ref("snp.measurement", "bb");
  fresh.expires = at("2027-01-01T00:00:00Z");
  ReferenceValue forever = ref("snp.measurement", "cc");
  ASSERT_TRUE(store.add_all({old, fresh, forever}));

  auto l = store.values("snp.measurement", at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(l);
  ASSERT_EQ(l->current.size(), 2u);
  EXPECT_EQ(l->current[0].value, "bb");
  EXPECT_EQ(l->current[1].value, "cc");
  ASSERT_EQ(l->expired.size(), 1u);
  EXPECT_EQ(l->expired[0].value, "aa");

  // Expiry is inclusive: at the instant itself the value no longer counts.
  l = store.values("snp.measurement", at("2027-01-01T00:00:00Z"));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->current.size(), 1u);
  EXPECT_EQ(l->expired.size(), 2u);

  l = store.values("unknown.set", at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->current.empty());
  EXPECT_TRUE(l->expired.empty());
}

TEST(ReferenceStore, InvalidValuesAreRejectedAllOrNothing) {
  MemoryReferenceStore store;
  auto r = store.add(ref("", "aa"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "name");
  EXPECT_FALSE(store.add(ref("snp measurement", "aa")));
  EXPECT_FALSE(store.add(ref(std::string(129, 'a'), "aa")));
  r = store.add(ref("snp.measurement", ""));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "value");
  EXPECT_FALSE(store.add(ref("snp.measurement", "a\nb")));
  ReferenceValue bad_note = ref("snp.measurement", "aa");
  bad_note.note = "x\ty";
  EXPECT_FALSE(store.add(bad_note));

  EXPECT_FALSE(store.add_all({ref("snp.measurement", "aa"), ref("", "bb")}));
  EXPECT_EQ(store.size(), 0u);
}

TEST(ReferenceStore, DocumentRoundTrips) {
  MemoryReferenceStore store;
  ReferenceValue v = ref("snp.measurement", "aa");
  v.expires = at("2027-01-01T00:00:00Z");
  v.added = at("2025-06-01T12:00:00Z");
  v.provenance = "build pipeline run 42";
  v.note = "release 1.2";
  ASSERT_TRUE(store.add_all({v, ref("tdx.mrtd", "bb")}));

  auto doc = store.export_json();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["version"], 1);
  ASSERT_EQ((*doc)["reference_values"].size(), 2u);
  const auto& first = (*doc)["reference_values"][0];
  EXPECT_EQ(first["name"], "snp.measurement");
  EXPECT_EQ(first["expires"], "2027-01-01T00:00:00Z");
  EXPECT_EQ(first["added"], "2025-06-01T12:00:00Z");
  EXPECT_EQ(first["provenance"], "build pipeline run 42");
  EXPECT_EQ(first["note"], "release 1.2");
  // Unset members are left out.
  EXPECT_FALSE((*doc)["reference_values"][1].contains("expires"));
  EXPECT_FALSE((*doc)["reference_values"][1].contains("provenance"));

  MemoryReferenceStore other;
  auto n = other.import_json(doc->dump());
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(other.list().value(), store.list().value());
}

TEST(ReferenceStore, ImportGivesADefaultProvenance) {
  MemoryReferenceStore store;
  auto n = store.import_json(
      R"({"reference_values": [{"name": "a", "value": "1"},
                               {"name": "b", "value": "2", "provenance": "vendor"}]})",
      "imported from x.json");
  ASSERT_TRUE(n);
  auto all = store.list().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].provenance, "imported from x.json");
  EXPECT_EQ(all[1].provenance, "vendor");
}

TEST(ReferenceStore, StrictDocumentParsing) {
  struct Case {
    const char* text;
    const char* field;
  };
  const std::vector<Case> cases = {
      {R"([])", "document"},
      {R"({})", "reference_values"},
      {R"({"reference_values": {}})", "reference_values"},
      {R"({"reference_values": [], "extra": 1})", "extra"},
      {R"({"version": 2, "reference_values": []})", "version"},
      {R"({"reference_values": [1]})", "reference_values[0]"},
      {R"({"reference_values": [{"value": "aa"}]})", "reference_values[0].name"},
      {R"({"reference_values": [{"name": "a"}]})", "reference_values[0].value"},
      {R"({"reference_values": [{"name": "a", "value": 5}]})", "reference_values[0].value"},
      {R"({"reference_values": [{"name": "a", "value": "b", "colour": "red"}]})",
       "reference_values[0].colour"},
      {R"({"reference_values": [{"name": "a", "value": "b", "expires": "tomorrow"}]})",
       "reference_values[0].expires"},
      {R"({"reference_values": [{"name": "a", "value": "b", "added": 12}]})",
       "reference_values[0].added"},
      {R"({"reference_values": [{"name": "a", "value": "b"}, {"name": "a b", "value": "c"}]})",
       "reference_values[1].name"},
  };
  for (const auto& c : cases) {
    auto r = parse_reference_document(std::string_view(c.text));
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, Errc::kMalformed) << c.text;
    EXPECT_EQ(r.error().field, c.field) << c.text << ": " << r.error().to_string();
  }
  auto syntax = parse_reference_document(std::string_view(R"({"reference_values": [})"));
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, Errc::kMalformed);
  ASSERT_TRUE(syntax.error().offset.has_value());
  EXPECT_EQ(*syntax.error().offset, 22u);  // the "}"

  auto ok = parse_reference_document(std::string_view(R"({"version": 1, "reference_values": []})"));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->empty());
}

TEST(ReferenceStore, FileBackendSavesAtomicallyAndLoads) {
  testing::TempDir dir;
  const auto path = dir / "refs.json";

  auto missing = load_reference_file(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto empty = load_reference_file(path, /*missing_ok=*/true);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 0u);

  MemoryReferenceStore store;
  ReferenceValue v = ref("snp.measurement", "aa");
  v.expires = at("2027-01-01T00:00:00Z");
  ASSERT_TRUE(store.add_all({v, ref("tpm.pcr7", "bb")}));
  ASSERT_TRUE(save_reference_file(store, path));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);

  auto loaded = load_reference_file(path);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->list().value(), store.list().value());

  // Overwrite: no temporary file is left behind, the mode is kept.
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_TRUE(store.remove("tpm.pcr7"));
  ASSERT_TRUE(save_reference_file(store, path));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(load_reference_file(path)->size(), 1u);
  EXPECT_NE(read_text(path).find("\"reference_values\""), std::string::npos);

  // A bad file names itself and where in it.
  {
    std::ofstream out(path, std::ios::trunc);
    out << R"({"reference_values": [{"name": "x"}]})";
  }
  auto bad = load_reference_file(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kMalformed);
  EXPECT_EQ(bad.error().field, "reference_values[0].value");
  EXPECT_NE(bad.error().message.find(path.string()), std::string::npos);

  // A folder that does not exist cannot be written.
  auto nowhere = save_reference_file(store, dir / "no" / "such" / "refs.json");
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().code, Errc::kIo);
}

TEST(ReferenceStore, CopiesAreIndependentAndReadsAreConcurrent) {
  MemoryReferenceStore store;
  ASSERT_TRUE(store.add(ref("a", "1")));
  MemoryReferenceStore copy = store;
  ASSERT_TRUE(copy.add(ref("a", "2")));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(copy.size(), 2u);
  MemoryReferenceStore moved = std::move(copy);
  EXPECT_EQ(moved.size(), 2u);

  const TimePoint now = at("2026-01-01T00:00:00Z");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&moved, now, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0) {
          (void)moved.add(ref("b", std::to_string(i)));
        } else {
          auto l = moved.values("a", now);
          ASSERT_TRUE(l);
          EXPECT_EQ(l->current.size(), 2u);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(moved.size(), 202u);
}

}  // namespace
}  // namespace concierge::verifier
