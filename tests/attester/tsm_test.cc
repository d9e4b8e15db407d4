// configfs-tsm report entries against a stand-in folder: a TempDir whose
// files the test hook makes, counts and removes as the kernel would.
#include "concierge/attester/tsm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/vectors.h"

namespace concierge::attester {
namespace {

namespace fs = std::filesystem;
using concierge::testing::TempDir;
using concierge::testing::write_file;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// What the kernel does to a report entry, done by the test hook on a plain
// folder: attribute files appear on mkdir, each accepted write increments
// generation, the files vanish before rmdir. `races` extra writes by
// "another process" land after our inblob write, one per attempt.
class FakeTsm {
 public:
  explicit FakeTsm(std::string provider) : provider_(std::move(provider)) {}

  fs::path root() const { return dir_.path(); }
  TsmHook hook() {
    return [this](TsmEvent e, std::string_view attr, const fs::path& entry) { on(e, attr, entry); };
  }
  TsmOptions options() {
    TsmOptions o;
    o.root = root();
    o.test_hook = hook();
    return o;
  }

  Bytes outblob = Bytes(1184, 0xA5);
  std::optional<Bytes> auxblob;
  bool has_privlevel = true;
  unsigned privlevel_floor = 0;
  int races = 0;

  std::vector<fs::path> created;
  std::vector<Bytes> inblobs;
  std::vector<std::string> privlevels;
  int removing = 0;

 private:
  void set_generation(const fs::path& entry) {
    write_file(entry / "generation", as_bytes(std::to_string(generation_) + "\n"));
  }
  void on(TsmEvent e, std::string_view attr, const fs::path& entry) {
    switch (e) {
      case TsmEvent::kCreated:
        created.push_back(entry);
        generation_ = 0;
        set_generation(entry);
        write_file(entry / "provider", as_bytes(provider_ + "\n"));
        write_file(entry / "inblob", {});
        write_file(entry / "outblob", outblob);
        if (auxblob) write_file(entry / "auxblob", *auxblob);
        if (has_privlevel) {
          write_file(entry / "privlevel", {});
          write_file(entry / "privlevel_floor", as_bytes(std::to_string(privlevel_floor) + "\n"));
        }
        break;
      case TsmEvent::kWrote:
        ++generation_;
        if (attr == "inblob") {
          inblobs.push_back(concierge::testing::read_file(entry / "inblob"));
          if (races > 0) {
            --races;
            ++generation_;
          }
        } else if (attr == "privlevel") {
          privlevels.push_back(slurp(entry / "privlevel"));
        }
        set_generation(entry);
        break;
      case TsmEvent::kRead:
        break;
      case TsmEvent::kRemoving:
        ++removing;
        for (const auto& f : fs::directory_iterator(entry)) fs::remove(f.path());
        break;
    }
  }

  TempDir dir_;
  std::string provider_;
  unsigned generation_ = 0;
};

Bytes nonce(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return b;
}

TEST(TsmReport, WritesInblobAndPrivlevelAndReadsBlobs) {
  FakeTsm fake("sev_guest");
  fake.auxblob = Bytes{1, 2, 3, 4};
  auto o = fake.options();
  o.privlevel = 2;
  const Bytes data = nonce(64);
  auto r = tsm_report(data, o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->provider, "sev_guest");
  EXPECT_EQ(r->outblob, fake.outblob);
  ASSERT_TRUE(r->auxblob.has_value());
  EXPECT_EQ(*r->auxblob, *fake.auxblob);
  EXPECT_EQ(r->generation, 2u);
  EXPECT_EQ(r->attempts, 1u);
  ASSERT_EQ(fake.inblobs.size(), 1u);
  EXPECT_EQ(fake.inblobs[0], data);
  EXPECT_EQ(fake.privlevels, std::vector<std::string>{"2"});
  // One uniquely named entry, removed afterwards.
  ASSERT_EQ(fake.created.size(), 1u);
  EXPECT_EQ(fake.created[0].parent_path(), fake.root());
  EXPECT_EQ(
      fake.created[0].filename().string().rfind("concierge-" + std::to_string(::getpid()) + "-"),
      0u);
  EXPECT_EQ(fake.removing, 1);
  EXPECT_FALSE(fs::exists(fake.created[0]));
  EXPECT_TRUE(fs::is_empty(fake.root()));
}

TEST(TsmReport, NoPrivlevelUnlessAskedAndNoAuxblobIsAbsent) {
  FakeTsm fake("tdx_guest");
  fake.has_privlevel = false;
  auto r = tsm_report(nonce(20), fake.options());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(fake.privlevels.empty());
  EXPECT_EQ(fake.inblobs.at(0), nonce(20));  // written as given, not padded
  EXPECT_FALSE(r->auxblob.has_value());
  EXPECT_EQ(r->generation, 1u);
  EXPECT_TRUE(fs::is_empty(fake.root()));
}

TEST(TsmReport, EmptyAuxblobIsAbsent) {
  FakeTsm fake("sev_guest");
  fake.auxblob = Bytes{};
  auto r = tsm_report(nonce(64), fake.options());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->auxblob.has_value());
}

TEST(TsmReport, RetriesWhenAnotherWriterRaces) {
  FakeTsm fake("sev_guest");
  fake.races = 2;
  auto o = fake.options();
  o.privlevel = 0;
  auto r = tsm_report(nonce(64), o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->attempts, 3u);
  EXPECT_EQ(fake.inblobs.size(), 3u);
  EXPECT_EQ(fake.privlevels.size(), 3u);
  EXPECT_EQ(fake.created.size(), 1u);  // the same entry throughout
  EXPECT_TRUE(fs::is_empty(fake.root()));
}

TEST(TsmReport, GivesUpWithDeviceErrorWhenTheRaceGoesOn) {
  FakeTsm fake("sev_guest");
  fake.races = 1000;
  auto r = tsm_report(nonce(64), fake.options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice) << r.error().to_string();
  EXPECT_NE(r.error().message.find("another process"), std::string::npos);
  EXPECT_EQ(fake.inblobs.size(), 3u);  // max_attempts
  EXPECT_EQ(fake.removing, 1);
  EXPECT_TRUE(fs::is_empty(fake.root()));
}

TEST(TsmReport, RejectsUnusableOptionsBeforeTouchingConfigfs) {
  FakeTsm fake("sev_guest");
  EXPECT_EQ(tsm_report(Bytes{}, fake.options()).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(tsm_report(nonce(65), fake.options()).error().code, Errc::kInvalidArgument);
  auto o = fake.options();
  o.privlevel = 4;
  EXPECT_EQ(tsm_report(nonce(64), o).error().code, Errc::kInvalidArgument);
  o.privlevel.reset();
  o.max_attempts = 0;
  EXPECT_EQ(tsm_report(nonce(64), o).error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(fake.created.empty());
}

TEST(TsmReport, PrivlevelBelowFloorOrWithoutAttribute) {
  FakeTsm fake("sev_guest");
  fake.privlevel_floor = 1;
  auto o = fake.options();
  o.privlevel = 0;
  auto r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << r.error().to_string();
  EXPECT_TRUE(fake.inblobs.empty());
  EXPECT_TRUE(fs::is_empty(fake.root()));

  FakeTsm tdx("tdx_guest");
  tdx.has_privlevel = false;
  auto t = tdx.options();
  t.privlevel = 0;
  r = tsm_report(nonce(64), t);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported) << r.error().to_string();
  EXPECT_TRUE(fs::is_empty(tdx.root()));
}

TEST(TsmReport, ExpectedProviderIsCheckedBeforeWriting) {
  FakeTsm fake("tdx_guest");
  auto o = fake.options();
  o.expected_provider = "sev_guest";
  auto r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("tdx_guest"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fake.inblobs.empty());
  EXPECT_TRUE(fs::is_empty(fake.root()));
}

TEST(TsmReport, MissingRootIsNotFound) {
  TempDir dir;
  TsmOptions o;
  o.root = dir / "no-such-folder";
  auto r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("no-such-folder"), std::string::npos);
}

TEST(TsmReport, ExplicitEntryNameMustBeFree) {
  FakeTsm fake("sev_guest");
  auto o = fake.options();
  o.entry_name = "mine";
  ASSERT_TRUE(tsm_report(nonce(64), o).has_value());
  EXPECT_EQ(fake.created.at(0), fake.root() / "mine");
  EXPECT_FALSE(fs::exists(fake.root() / "mine"));

  fs::create_directory(fake.root() / "mine");
  auto r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kIo) << r.error().to_string();
  EXPECT_TRUE(fs::exists(fake.root() / "mine"));  // not ours: left alone
}

TEST(TsmReport, ProviderFailuresAreDeviceErrors) {
  FakeTsm fake("sev_guest");
  fake.outblob = {};
  auto r = tsm_report(nonce(64), fake.options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice) << r.error().to_string();
  EXPECT_TRUE(fs::is_empty(fake.root()));

  // A read that fails (EISDIR stands in for the provider's EIO).
  FakeTsm broken("sev_guest");
  auto o = broken.options();
  auto inner = o.test_hook;
  o.test_hook = [inner](TsmEvent e, std::string_view attr, const fs::path& entry) {
    inner(e, attr, entry);
    if (e == TsmEvent::kCreated) {
      fs::remove(entry / "outblob");
      fs::create_directory(entry / "outblob");
    }
  };
  r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice) << r.error().to_string();
  EXPECT_NE(r.error().message.find("outblob"), std::string::npos);
}

TEST(TsmReport, MissingMandatoryAttributeIsDeviceError) {
  FakeTsm fake("sev_guest");
  auto o = fake.options();
  auto inner = o.test_hook;
  o.test_hook = [inner](TsmEvent e, std::string_view attr, const fs::path& entry) {
    inner(e, attr, entry);
    if (e == TsmEvent::kCreated) fs::remove(entry / "generation");
  };
  auto r = tsm_report(nonce(64), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice) << r.error().to_string();
  EXPECT_NE(r.error().message.find("generation"), std::string::npos);
}

TEST(TsmProvider, ReadsProviderAndRemovesTheEntry) {
  FakeTsm fake("tdx_guest");
  auto p = tsm_provider(fake.options());
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(*p, "tdx_guest");
  EXPECT_EQ(fake.created.size(), 1u);
  EXPECT_TRUE(fs::is_empty(fake.root()));

  TempDir dir;
  auto none = tsm_provider(dir / "absent");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Errc::kNotFound);
}

TEST(TsmDetectTee, ReportsProviderAndDevices) {
  FakeTsm fake("tdx_guest");
  TempDir dev;
  write_file(dev / "tpmrm0", {});
  TeeDetectOptions o;
  o.tsm_root = fake.root();
  o.tsm_test_hook = fake.hook();
  o.sev_guest_device = dev / "sev-guest";
  o.tdx_guest_device = dev / "tdx_guest";
  o.tpm_device = dev / "tpmrm0";
  TeeDetection d = detect_tee(o);
  EXPECT_TRUE(d.tsm_present);
  EXPECT_EQ(d.tsm_provider, std::optional<std::string>("tdx_guest"));
  EXPECT_TRUE(d.tsm_detail.empty());
  EXPECT_FALSE(d.sev_guest_device);
  EXPECT_FALSE(d.tdx_guest_device);
  EXPECT_TRUE(d.tpm_device);
  EXPECT_TRUE(d.tdx_guest());
  EXPECT_FALSE(d.snp_guest());
  EXPECT_TRUE(fs::is_empty(fake.root()));

  auto j = tee_detection_json(d, o);
  EXPECT_EQ(j["configfs_tsm"]["provider"], "tdx_guest");
  EXPECT_TRUE(j["sev_guest_device"].is_null());
  EXPECT_EQ(j["tpm_device"], (dev / "tpmrm0").string());
  EXPECT_EQ(j["tdx_guest"], true);
  EXPECT_EQ(j["snp_guest"], false);
}

TEST(TsmDetectTee, NothingPresent) {
  TempDir dir;
  TeeDetectOptions o;
  o.tsm_root = dir / "tsm";
  o.sev_guest_device = dir / "sev-guest";
  o.tdx_guest_device = dir / "tdx_guest";
  o.tpm_device = dir / "tpmrm0";
  write_file(dir / "sev-guest", {});
  TeeDetection d = detect_tee(o);
  EXPECT_FALSE(d.tsm_present);
  EXPECT_FALSE(d.tsm_provider.has_value());
  EXPECT_FALSE(d.tsm_detail.empty());
  EXPECT_TRUE(d.sev_guest_device);
  EXPECT_TRUE(d.snp_guest());
  EXPECT_FALSE(d.tdx_guest());
  EXPECT_FALSE(d.tpm_device);
}

}  // namespace
}  // namespace concierge::attester
