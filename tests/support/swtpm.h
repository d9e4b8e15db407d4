// A swtpm (TPM 2.0 emulator on libtpms) process for tests.
//
// Each Swtpm listens on a free loopback port pair (server N, control N+1, as
// the "swtpm" TCTI expects) with its own temporary state folder, and is killed
// by the destructor.
//
// A manufactured TPM starts from a copy of a template made once per build
// folder (under CONCIERGE_TEST_STATE_DIR, guarded by a file lock so parallel
// test processes share it) by `swtpm_setup --create-ek-cert` with a local CA
// of its own: it has EK certificates issued by that CA and sha256 + sha384
// PCR banks. Copies of one template share its endorsement seed, hence its EK;
// an unmanufactured TPM (Kind::kBlank) gets fresh random seeds and no EK
// certificate: "another TPM".
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "support/vectors.h"

namespace concierge::testing {

class Swtpm {
 public:
  enum class Kind { kManufactured, kBlank };

  // nullptr, with the reason in *why_not, when swtpm cannot be started here.
  static std::unique_ptr<Swtpm> start(Kind kind, std::string* why_not);
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  std::string tcti() const;  // "swtpm:host=127.0.0.1,port=N"
  int port() const { return port_; }
  // The local CA that issued the manufactured EK certificates (PEM files).
  static std::filesystem::path ca_root_pem();
  static std::filesystem::path ca_intermediate_pem();

 private:
  Swtpm() = default;
  TempDir state_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace concierge::testing

// Starts a swtpm into `var`, or skips the test with the reason.
#define CONCIERGE_REQUIRE_SWTPM(var, kind)                                                    \
  std::string var##_why;                                                                      \
  auto var = ::concierge::testing::Swtpm::start((kind), &var##_why);                          \
  if (!var) {                                                                                 \
    GTEST_SKIP() << "swtpm unavailable (scripts/install-deps.sh installs it): " << var##_why; \
  }
