// libFuzzer target: the key broker's request handling (Broker::handle) on
// arbitrary bodies for auth, attest (in a live session) and the admin API
// without credentials. Every response must be a well-formed status with a
// JSON body, and nothing may be released: no input reaches a 200 resource
// response, since no guest attested.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "concierge/broker/broker.h"
#include "concierge/core/private_key.h"

namespace {

using namespace concierge;

std::filesystem::path& fuzz_dir() {
  // In memory when there is /dev/shm: every auth writes a session.
  static std::filesystem::path dir =
      (std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                 : std::filesystem::temp_directory_path()) /
      ("concierge-kbs-fuzz-" + std::to_string(getpid()));
  return dir;
}

void remove_fuzz_dir() {
  std::error_code ec;
  std::filesystem::remove_all(fuzz_dir(), ec);
}

broker::Broker& the_broker() {
  static std::unique_ptr<broker::Broker> b = [] {
    const auto dir = fuzz_dir();
    std::filesystem::create_directories(dir);
    std::atexit(remove_fuzz_dir);
    auto store = store::open_store("sqlite:" + (dir / "fuzz.db").string(),
                                   store::SecretBox::generate().value())
                     .value();
    (void)store->put_resource({"default", "fuzz", "secret"}, as_bytes("do not release"));
    broker::BrokerOptions o;
    auto admin = PrivateKey::generate_ec(EcCurve::kP256).value();
    (void)o.admin_keys.add(admin.public_key().value());
    auto signer =
        verifier::EarSigner::create(PrivateKey::generate_ec(EcCurve::kP256).value()).value();
    return broker::Broker::create(std::move(store), std::move(signer), std::move(o)).value();
  }();
  return *b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  broker::Broker& b = the_broker();
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto check = [](const broker::HttpResponse& r) {
    if (r.status < 200 || r.status > 599) __builtin_trap();
    if (nlohmann::json::parse(r.body, nullptr, false).is_discarded()) __builtin_trap();
  };

  broker::HttpRequest auth{"POST", "/kbs/v0/auth", "", body, "", "", "fuzz"};
  check(b.handle(auth));

  auth.body = R"({"version":"0.4.0","tee":"snp","extra-params":{}})";
  const auto challenge = b.handle(auth);
  std::string cookie;
  for (const auto& [name, value] : challenge.headers) {
    if (name == "Set-Cookie") cookie = value.substr(0, value.find(';'));
  }
  broker::HttpRequest attest{"POST", "/kbs/v0/attest", "", body, cookie, "", "fuzz"};
  check(b.handle(attest));

  broker::HttpRequest resource{"GET",  "/kbs/v0/resource/default/fuzz/secret", "",    "",
                               cookie, "Bearer " + body.substr(0, 4096),       "fuzz"};
  const auto r = b.handle(resource);
  check(r);
  if (r.status == 200) __builtin_trap();

  broker::HttpRequest admin{"PUT", "/admin/v0/resources/default/fuzz/secret", "",    body,
                            "",    "Bearer " + body.substr(0, 4096),          "fuzz"};
  if (b.handle(admin).status == 200) __builtin_trap();
  return 0;
}
