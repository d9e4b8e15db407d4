// libFuzzer target: the whole HTTP request path on raw bytes. The input is
// what one client sends on one connection (any number of requests); it goes
// through HttpServer::serve_bytes, the path a socket's bytes take (the
// limits of server/connection.h and server/request_guard.h, cpp-httplib's
// request parser, the body reader, Broker::handle), without a socket.
//
// The literal "@SESSION@" in the input is replaced by the id of a live
// session (made by an auth before each input), so that attest and
// resource are reached with a cookie the broker knows.
//
// The broker holds a secret and no guest can attest (no trusted platform,
// no admin key the fuzzer could sign with). Whatever the input:
//   - nothing is released: the release counter stays 0, and no answer
//     holds the secret or a JWE;
//   - the admin API changes nothing: the secret and the policies are as
//     they were;
//   - the server answers with HTTP/1.1 status lines, or not at all.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "concierge/broker/broker.h"
#include "concierge/core/private_key.h"
#include "concierge/server/http_server.h"

namespace {

using namespace concierge;

constexpr std::string_view kSecret = "do not release";

std::filesystem::path& fuzz_dir() {
  // In memory when there is /dev/shm: every auth writes a session.
  static std::filesystem::path dir =
      (std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                 : std::filesystem::temp_directory_path()) /
      ("concierge-http-fuzz-" + std::to_string(getpid()));
  return dir;
}

void remove_fuzz_dir() {
  std::error_code ec;
  std::filesystem::remove_all(fuzz_dir(), ec);
}

struct Target {
  std::unique_ptr<broker::Broker> broker;
  std::unique_ptr<server::HttpServer> server;
};

Target& target() {
  static Target t = [] {
    const auto dir = fuzz_dir();
    std::filesystem::create_directories(dir);
    std::atexit(remove_fuzz_dir);
    auto store = store::open_store("sqlite:" + (dir / "fuzz.db").string(),
                                   store::SecretBox::generate().value())
                     .value();
    (void)store->put_resource({"default", "fuzz", "secret"}, as_bytes(kSecret));
    broker::BrokerOptions o;
    auto admin = PrivateKey::generate_ec(EcCurve::kP256).value();
    (void)o.admin_keys.add(admin.public_key().value());
    auto signer =
        verifier::EarSigner::create(PrivateKey::generate_ec(EcCurve::kP256).value()).value();
    Target made;
    made.broker = broker::Broker::create(std::move(store), std::move(signer), std::move(o)).value();
    server::ServerOptions so;
    so.max_body_bytes = 64 * 1024;  // small, so the fuzzer reaches the limit
    made.server = server::HttpServer::create(*made.broker, so).value();
    return made;
  }();
  return t;
}

std::string session_id(broker::Broker& b) {
  broker::HttpRequest auth{
      "POST", "/kbs/v0/auth", "", R"({"version":"0.4.0","tee":"snp","extra-params":{}})", "",
      "",     "fuzz"};
  for (const auto& [name, value] : b.handle(auth).headers) {
    if (name == "Set-Cookie") {
      const auto eq = value.find('=');
      return value.substr(eq + 1, value.find(';') - eq - 1);
    }
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Target& t = target();
  std::string input(reinterpret_cast<const char*>(data), size);
  const std::string id = session_id(*t.broker);
  for (std::size_t at = input.find("@SESSION@"); at != std::string::npos;
       at = input.find("@SESSION@", at + id.size())) {
    input.replace(at, 9, id);
  }

  const std::string output = t.server->serve_bytes(input);

  if (t.broker->metrics().releases() != 0) __builtin_trap();
  // The secret (or a JWE) in the answer is a leak, unless the request
  // itself carried those bytes and the answer only echoes them (a refusal
  // naming the attacker's own member name, say): the fuzzer learns the
  // secret's text from this very comparison.
  const auto leaked = [&](std::string_view needle) {
    return output.find(needle) != std::string::npos && input.find(needle) == std::string::npos;
  };
  if (leaked(kSecret)) __builtin_trap();
  if (leaked("\"ciphertext\"")) __builtin_trap();
  if (!output.empty() && output.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  auto secret = t.broker->store().get_resource({"default", "fuzz", "secret"});
  if (!secret || !*secret || std::string_view(as_chars(**secret)) != kSecret) __builtin_trap();
  for (const char* key : {"release:default", "resource:default/fuzz/secret", "attestation:snp"}) {
    auto policy = t.broker->store().get_policy(key);
    if (!policy || *policy) __builtin_trap();
  }
  return 0;
}
