#include "concierge/measure/boot_chain.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string_view>

#include "concierge/core/json.h"
#include "concierge/measure/event_types.h"

namespace concierge::measure {
namespace {

using nlohmann::json;

// A misspelt key would silently change what is measured ("contnet" leaves
// the stage without its content): every key must be a known one.
Result<void> known_keys(const json& j, std::initializer_list<std::string_view> keys,
                        const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return fail(Errc::kMalformed, where + ": unknown key \"" + key + "\"");
    }
  }
  return {};
}

Result<BootStage> parse_stage(const json& j, const std::filesystem::path& base_dir,
                              const std::string& where) {
  if (!j.is_object()) return fail(Errc::kMalformed, where + ": a stage must be an object");
  CONCIERGE_RETURN_IF_ERROR(
      known_keys(j, {"name", "pcr", "event_type", "file", "content", "path"}, where));
  BootStage s;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return fail(Errc::kMalformed, where + ": \"name\" (a non-empty string) is required");
  }
  s.name = name->get<std::string>();
  std::string at = where + " (" + s.name + ")";

  auto pcr = j.find("pcr");
  if (pcr == j.end() || !pcr->is_number_unsigned() || pcr->get<std::uint64_t>() >= kPcrCount) {
    return fail(Errc::kMalformed, at + ": \"pcr\" must be an integer 0-23");
  }
  s.pcr = pcr->get<std::uint32_t>();

  auto type = j.find("event_type");
  if (type == j.end() || !type->is_string() ||
      !event_type::from_name(type->get<std::string>(), s.event_type)) {
    return fail(Errc::kMalformed, at + ": \"event_type\" must name a TCG event type (EV_...)");
  }
  if (s.event_type == event_type::kNoAction) {
    return fail(Errc::kMalformed, at + ": EV_NO_ACTION is never measured");
  }

  auto file = j.find("file");
  auto content = j.find("content");
  if (file != j.end() && content != j.end()) {
    return fail(Errc::kMalformed, at + ": give \"file\" or \"content\", not both");
  }
  if (file != j.end()) {
    if (!file->is_string()) return fail(Errc::kMalformed, at + ": \"file\" must be a string");
    std::filesystem::path p = base_dir / file->get<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      return fail(Errc::kIo, at + ": " + p.string() + " is not a regular file");
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail(Errc::kIo, at + ": cannot read " + p.string());
    s.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else if (content != j.end()) {
    if (!content->is_string()) return fail(Errc::kMalformed, at + ": \"content\" must be a string");
    const std::string text = content->get<std::string>();
    s.content.assign(text.begin(), text.end());
  } else if (s.event_type == event_type::kSeparator) {
    s.content = Bytes(4, 0);
  } else {
    return fail(Errc::kMalformed, at + ": \"file\" or \"content\" is required");
  }

  if (auto path = j.find("path"); path != j.end()) {
    if (!path->is_string()) return fail(Errc::kMalformed, at + ": \"path\" must be a string");
    s.path = path->get<std::string>();
  }
  return s;
}

void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A media file-path device path node (UEFI 2.10 section 10.3.5.4) followed
// by End Entire Device Path. ASCII only: manifests name files in ASCII.
Bytes file_path_device_path(const std::string& path) {
  Bytes node;
  std::size_t chars = path.size() + 1;  // with the UTF-16 NUL
  node.push_back(0x04);                 // MEDIA_DEVICE_PATH
  node.push_back(0x04);                 // MEDIA_FILEPATH_DP
  put_u16(node, static_cast<std::uint16_t>(4 + 2 * chars));
  for (char c : path) put_u16(node, static_cast<std::uint8_t>(c));
  put_u16(node, 0);
  node.insert(node.end(), {0x7f, 0xff, 0x04, 0x00});  // End Entire Device Path
  return node;
}

}  // namespace

Bytes stage_event_data(const BootStage& stage) {
  switch (stage.event_type) {
    case event_type::kEfiBootServicesApplication:
    case event_type::kEfiBootServicesDriver:
    case event_type::kEfiRuntimeServicesDriver: {
      // UEFI_IMAGE_LOAD_EVENT (PFP 10.4.3).
      Bytes path = file_path_device_path(stage.path.empty() ? stage.name : stage.path);
      Bytes data;
      put_u64(data, 0);                     // ImageLocationInMemory
      put_u64(data, stage.content.size());  // ImageLengthInMemory
      put_u64(data, 0);                     // ImageLinkTimeAddress
      put_u64(data, path.size());           // LengthOfDevicePath
      data.insert(data.end(), path.begin(), path.end());
      return data;
    }
    case event_type::kEfiPlatformFirmwareBlob2: {
      // UEFI_PLATFORM_FIRMWARE_BLOB2 (PFP 10.4.2): description, base, length.
      std::string desc = stage.name.substr(0, 255);
      Bytes data;
      data.push_back(static_cast<std::uint8_t>(desc.size()));
      data.insert(data.end(), desc.begin(), desc.end());
      put_u64(data, 0);                     // BlobBase
      put_u64(data, stage.content.size());  // BlobLength
      return data;
    }
    case event_type::kIpl:
      // GRUB measures a loaded file with its path as the event data.
      if (!stage.path.empty()) return Bytes(stage.path.begin(), stage.path.end());
      return stage.content;
    default:
      // Separators, actions, versions, tags: the measured bytes themselves,
      // so the digest is the hash of the event data.
      return stage.content;
  }
}

Result<BootManifest> parse_boot_manifest(std::string_view json_text,
                                         const std::filesystem::path& base_dir) {
  auto parsed = parse_json_with_offset(json_text, "boot manifest", "boot manifest: ");
  if (!parsed) return Unexpected(parsed.error());
  json j = std::move(*parsed);
  if (!j.is_object()) {
    return fail(Errc::kMalformed, "boot manifest: not a JSON object");
  }
  CONCIERGE_RETURN_IF_ERROR(known_keys(
      j, {"name", "banks", "startup_locality", "root_of_trust", "stages"}, "boot manifest"));
  BootManifest m;
  m.name = "boot chain";
  if (auto name = j.find("name"); name != j.end()) {
    if (!name->is_string())
      return fail(Errc::kMalformed, "boot manifest: \"name\" must be a string");
    m.name = name->get<std::string>();
  }
  if (auto banks = j.find("banks"); banks != j.end()) {
    if (!banks->is_array() || banks->empty()) {
      return fail(Errc::kMalformed, "boot manifest: \"banks\" must be a non-empty array");
    }
    for (const auto& b : *banks) {
      auto alg = b.is_string() ? hash_from_name(b.get<std::string>()) : std::nullopt;
      if (!alg) return fail(Errc::kMalformed, "boot manifest: unknown bank " + b.dump());
      m.banks.push_back(*alg);
    }
  } else {
    m.banks = {HashAlg::kSha256, HashAlg::kSha384};
  }
  if (auto loc = j.find("startup_locality"); loc != j.end()) {
    if (!loc->is_number_unsigned() ||
        (loc->get<std::uint64_t>() != 0 && loc->get<std::uint64_t>() != 3 &&
         loc->get<std::uint64_t>() != 4)) {
      return fail(Errc::kMalformed, "boot manifest: \"startup_locality\" must be 0, 3 or 4");
    }
    m.startup_locality = loc->get<std::uint8_t>();
  }
  auto root = j.find("root_of_trust");
  if (root == j.end())
    return fail(Errc::kMalformed, "boot manifest: \"root_of_trust\" is required");
  CONCIERGE_ASSIGN_OR_RETURN(m.root_of_trust, parse_stage(*root, base_dir, "root_of_trust"));
  auto stages = j.find("stages");
  if (stages == j.end() || !stages->is_array()) {
    return fail(Errc::kMalformed, "boot manifest: \"stages\" must be an array");
  }
  for (std::size_t i = 0; i < stages->size(); ++i) {
    CONCIERGE_ASSIGN_OR_RETURN(
        BootStage s, parse_stage((*stages)[i], base_dir, "stages[" + std::to_string(i) + "]"));
    m.stages.push_back(std::move(s));
  }
  return m;
}

Result<void> replace_stage(BootManifest& manifest, const std::string& stage, Bytes content) {
  if (manifest.root_of_trust.name == stage) {
    manifest.root_of_trust.content = std::move(content);
    return {};
  }
  for (auto& s : manifest.stages) {
    if (s.name == stage) {
      s.content = std::move(content);
      return {};
    }
  }
  return fail(Errc::kNotFound, "no stage named \"" + stage + "\" in the manifest");
}

SoftwarePcrSink::SoftwarePcrSink(const std::vector<HashAlg>& algs) {
  for (HashAlg a : algs) banks_.emplace_back(a);
}

Result<void> SoftwarePcrSink::set_startup_locality(std::uint8_t locality) {
  for (auto& b : banks_) CONCIERGE_RETURN_IF_ERROR(b.set_startup_locality(locality));
  return {};
}

Result<void> SoftwarePcrSink::extend(std::uint32_t pcr, const std::vector<OwnedDigest>& digests) {
  for (auto& b : banks_) {
    bool done = false;
    for (const auto& d : digests) {
      if (d.alg_id == static_cast<std::uint16_t>(b.alg())) {
        CONCIERGE_RETURN_IF_ERROR(b.extend(pcr, d.value));
        done = true;
      }
    }
    if (!done)
      return fail(Errc::kInternal, "no digest for bank " + std::string(hash_name(b.alg())));
  }
  return {};
}

Result<BootRecord> run_boot_chain(const BootManifest& manifest, MeasurementSink& sink) {
  EventLogWriter log(manifest.banks);
  BootRecord record;
  log.add_startup_locality(manifest.startup_locality);
  CONCIERGE_RETURN_IF_ERROR(sink.set_startup_locality(manifest.startup_locality));

  auto measure_stage = [&](const BootStage& stage, const std::string& by) -> Result<void> {
    Bytes data = stage_event_data(stage);
    CONCIERGE_ASSIGN_OR_RETURN(auto digests,
                               log.add_measured(stage.pcr, stage.event_type, stage.content, data));
    CONCIERGE_RETURN_IF_ERROR(sink.extend(stage.pcr, digests));
    record.stages.push_back(MeasuredStage{stage.name, by, stage.pcr, stage.event_type, digests});
    return {};
  };

  // The root of trust measures itself; each later stage is measured by the
  // one before it, before it runs.
  CONCIERGE_RETURN_IF_ERROR(measure_stage(manifest.root_of_trust, manifest.root_of_trust.name));
  std::string previous = manifest.root_of_trust.name;
  for (const auto& stage : manifest.stages) {
    CONCIERGE_RETURN_IF_ERROR(measure_stage(stage, previous));
    previous = stage.name;
  }
  record.event_log = log.bytes();
  return record;
}

}  // namespace concierge::measure
