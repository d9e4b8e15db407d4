// SnpSimulator::save and ::load: the simulator's keys and certificates as PEM
// files plus a small JSON description, so that a CLI can create a simulated
// chip once and issue reports from it later.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "concierge/core/cert_builder.h"
#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/core/state_files.h"
#include "concierge/evidence/snp/simulator.h"

namespace concierge::evidence::snp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormat = 1;
constexpr const char* kStateFile = "simulator.json";

using state_files::load_certificate;
using state_files::make_dir;
using state_files::read_file;
using state_files::write_file;
Result<void> save_key(const fs::path& path, const PrivateKey& key) {
  return state_files::save_private_key(path, key);
}
Result<PrivateKey> load_key(const fs::path& path) { return state_files::load_private_key(path); }
Result<Certificate> load_cert(const fs::path& path) { return load_certificate(path); }

Result<void> check_pair(const Certificate& cert, const PrivateKey& key, const std::string& what) {
  return state_files::check_key_pair(cert, key, what);
}

Unexpected bad_state(const std::string& what) {
  return fail(Errc::kMalformed, std::string(kStateFile) + ": " + what);
}

const json* string_field(const json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? &*it : nullptr;
}

}  // namespace

Result<void> SnpSimulator::save(const fs::path& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, "cannot create " + dir.string() + ": " + ec.message());

  struct Named {
    const char* name;
    const Identity* id;
  };
  std::vector<Named> all = {{"ark", &ark_}, {"ask", &ask_}, {"asvk", &asvk_}, {"vcek", &vcek_}};
  if (vlek_) all.push_back({"vlek", &*vlek_});
  for (const Named& n : all) {
    CONCIERGE_RETURN_IF_ERROR(save_key(dir / (std::string(n.name) + ".key"), n.id->key));
    CONCIERGE_RETURN_IF_ERROR(
        write_file(dir / (std::string(n.name) + ".pem"), certificate_to_pem(n.id->cert), 0644));
  }
  CONCIERGE_RETURN_IF_ERROR(write_file(dir / "cert_chain.pem", cert_chain_pem(), 0644));
  CONCIERGE_RETURN_IF_ERROR(write_file(dir / "vlek_cert_chain.pem", vlek_cert_chain_pem(), 0644));

  json state = {{"format", kFormat},
                {"product", std::string(product_name(product_))},
                {"chip_id", hex_encode(ByteView(chip_id_.data(), chip_id_.size()))},
                {"tcb", tcb_json(tcb_)}};
  if (vlek_) state["csp_id"] = csp_id_;
  return write_file(dir / kStateFile, state.dump(2) + "\n", 0644);
}

Result<SnpSimulator> SnpSimulator::load(const fs::path& dir) {
  CONCIERGE_ASSIGN_OR_RETURN(const std::string text, read_file(dir / kStateFile));
  auto parsed = parse_json_with_offset(text, "state");
  if (!parsed || !parsed->is_object()) return bad_state("not a JSON object");
  const json state = std::move(*parsed);
  const auto format = state.find("format");
  if (format == state.end() || !format->is_number_integer() || *format != kFormat) {
    return bad_state("unknown format (expected 1)");
  }

  const json* product_text = string_field(state, "product");
  const std::optional<Product> product =
      product_text ? parse_product(product_text->get<std::string>()) : std::nullopt;
  if (!product || *product == Product::kUnknown) return bad_state("bad or missing \"product\"");

  const json* chip_hex = string_field(state, "chip_id");
  Result<Bytes> chip = chip_hex ? hex_decode(chip_hex->get<std::string>())
                                : Result<Bytes>(fail(Errc::kMalformed, "missing"));
  if (!chip || chip->size() != 64) return bad_state("\"chip_id\" must be 64 bytes of hex");
  std::array<std::uint8_t, 64> chip_id{};
  std::copy(chip->begin(), chip->end(), chip_id.begin());

  const auto tcb_it = state.find("tcb");
  const json* raw_hex =
      tcb_it != state.end() && tcb_it->is_object() ? string_field(*tcb_it, "raw") : nullptr;
  Result<Bytes> raw = raw_hex ? hex_decode(raw_hex->get<std::string>())
                              : Result<Bytes>(fail(Errc::kMalformed, "missing"));
  if (!raw || raw->size() != 8) return bad_state("\"tcb.raw\" must be 16 hex digits");
  std::uint64_t tcb_raw = 0;
  for (std::uint8_t b : *raw) tcb_raw = (tcb_raw << 8) | b;

  std::string csp_id;
  const bool has_vlek = state.contains("csp_id");
  if (has_vlek) {
    const json* csp = string_field(state, "csp_id");
    if (csp == nullptr) return bad_state("\"csp_id\" must be a string");
    csp_id = csp->get<std::string>();
  }

  auto identity = [&dir](const char* name) -> Result<Identity> {
    CONCIERGE_ASSIGN_OR_RETURN(Certificate cert, load_cert(dir / (std::string(name) + ".pem")));
    CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, load_key(dir / (std::string(name) + ".key")));
    CONCIERGE_RETURN_IF_ERROR(check_pair(cert, key, name));
    return Identity{std::move(cert), std::move(key)};
  };
  CONCIERGE_ASSIGN_OR_RETURN(Identity ark, identity("ark"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity ask, identity("ask"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity asvk, identity("asvk"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity vcek, identity("vcek"));
  std::optional<Identity> vlek;
  if (has_vlek) {
    CONCIERGE_ASSIGN_OR_RETURN(Identity v, identity("vlek"));
    vlek.emplace(std::move(v));
  }
  return SnpSimulator(*product, chip_id, decode_tcb(tcb_raw, *product), std::move(ark),
                      std::move(ask), std::move(asvk), std::move(vcek), std::move(vlek),
                      std::move(csp_id));
}

}  // namespace concierge::evidence::snp
