// configfs-tsm report entries: create, write, read, check generation, remove.
#include "concierge/attester/tsm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>

namespace concierge::attester {
namespace {

namespace fs = std::filesystem;

// Larger than any report or certificate table a provider emits (the kernel
// caps outblob and auxblob at TSM_OUTBLOB_MAX, 32 KiB); a guard against a
// stand-in file that never ends.
constexpr std::size_t kMaxBlob = std::size_t{4} << 20;

std::string errno_text(int e) { return std::strerror(e); }

// The error for an attribute that cannot be opened. A missing attribute is
// kNotFound when the provider may leave it out (auxblob, privlevel_floor),
// else kDevice: the entry is not what configfs-tsm makes.
Error open_error(const fs::path& path, int e, bool optional) {
  if (e == ENOENT) {
    return make_error(optional ? Errc::kNotFound : Errc::kDevice,
                      "the report entry has no " + path.filename().string() + " attribute (" +
                          path.string() + ")");
  }
  return make_error(Errc::kIo, "cannot open " + path.string() + ": " + errno_text(e));
}

// Reads a whole attribute; a failing read is the provider refusing: kDevice.
Result<Bytes> read_attribute(const fs::path& path, bool optional = false) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(open_error(path, errno, optional));
  Bytes data;
  std::uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return fail(Errc::kDevice, "reading " + path.string() + ": " + errno_text(e));
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
    if (data.size() > kMaxBlob) {
      ::close(fd);
      return fail(Errc::kDevice,
                  path.string() + " is larger than " + std::to_string(kMaxBlob) + " bytes");
    }
  }
  ::close(fd);
  return data;
}

// Writes a whole attribute. A binary attribute (inblob) is handed to the
// kernel on close(), so close() is checked as carefully as write().
Result<void> write_attribute(const fs::path& path, ByteView data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Unexpected(open_error(path, errno, false));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return fail(Errc::kDevice, "writing " + path.string() + ": " + errno_text(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    return fail(Errc::kDevice, "writing " + path.string() + ": " + errno_text(errno));
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

Result<std::string> read_text(const fs::path& path, bool optional = false) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_attribute(path, optional));
  return std::string(trim(as_chars(data)));
}

Result<std::uint64_t> read_number(const fs::path& path, bool optional = false) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string text, read_text(path, optional));
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return fail(Errc::kDevice, path.string() + " holds '" + text + "', not a number");
  }
  return value;
}

std::string unique_entry_name() {
  std::random_device rd;
  const std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
  return "concierge-" + std::to_string(::getpid()) + "-" + hex;
}

// Makes the report entry: the kernel creates its attribute files.
Result<fs::path> make_entry(const TsmOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.root, ec)) {
    return fail(Errc::kNotFound, "no configfs-tsm report folder at " + o.root.string() +
                                     " (configfs not mounted, or a kernel without TSM reports)");
  }
  const bool named = !o.entry_name.empty();
  for (int tries = 0; tries < 8; ++tries) {
    fs::path entry = o.root / (named ? o.entry_name : unique_entry_name());
    if (::mkdir(entry.c_str(), 0700) == 0) {
      if (o.test_hook) o.test_hook(TsmEvent::kCreated, "", entry);
      return entry;
    }
    const int e = errno;
    if (e == EEXIST && !named) continue;  // another process drew the same name
    if (e == ENXIO) {
      return fail(Errc::kNotFound, "configfs-tsm at " + o.root.string() +
                                       " has no provider (no confidential-computing guest "
                                       "driver is loaded)");
    }
    if (e == ENOENT) {
      return fail(Errc::kNotFound, "cannot create " + entry.string() + ": " + errno_text(e));
    }
    return fail(Errc::kIo, "cannot create report entry " + entry.string() + ": " + errno_text(e) +
                               (e == EACCES || e == EPERM ? " (configfs-tsm needs root)" : ""));
  }
  return fail(Errc::kIo, "cannot find a free report entry name under " + o.root.string());
}

// Removes the entry on every path out of a call.
class EntryGuard {
 public:
  EntryGuard(fs::path entry, const TsmHook& hook) : entry_(std::move(entry)), hook_(hook) {}
  EntryGuard(const EntryGuard&) = delete;
  EntryGuard& operator=(const EntryGuard&) = delete;
  ~EntryGuard() {
    if (hook_) hook_(TsmEvent::kRemoving, "", entry_);
    // Nothing useful to do when it fails: the report, if any, is still valid,
    // and the kernel frees the entry with the configfs mount.
    ::rmdir(entry_.c_str());
  }
  const fs::path& path() const { return entry_; }

 private:
  fs::path entry_;
  const TsmHook& hook_;
};

Result<void> write_step(const TsmOptions& o, const fs::path& entry, const char* attribute,
                        ByteView data) {
  CONCIERGE_RETURN_IF_ERROR(write_attribute(entry / attribute, data));
  if (o.test_hook) o.test_hook(TsmEvent::kWrote, attribute, entry);
  return {};
}

// Checks privlevel against the provider before writing it.
Result<void> check_privlevel(const fs::path& entry, unsigned privlevel) {
  std::error_code ec;
  if (!fs::exists(entry / "privlevel", ec)) {
    return fail(Errc::kUnsupported,
                "this configfs-tsm provider takes no privilege level (no privlevel attribute)");
  }
  auto floor = read_number(entry / "privlevel_floor", /*optional=*/true);
  if (!floor && floor.error().code != Errc::kNotFound) return Unexpected(floor.error());
  if (floor && privlevel < *floor) {
    return fail(Errc::kInvalidArgument,
                "privilege level " + std::to_string(privlevel) + " is below this guest's floor " +
                    std::to_string(*floor) + " (privlevel_floor: the VMPL it runs at)");
  }
  return {};
}

}  // namespace

Result<TsmReport> tsm_report(ByteView inblob, const TsmOptions& o) {
  if (inblob.empty() || inblob.size() > kTsmInblobMax) {
    return fail(Errc::kInvalidArgument,
                "inblob must be 1 to 64 bytes, not " + std::to_string(inblob.size()));
  }
  if (o.privlevel && *o.privlevel > kTsmPrivlevelMax) {
    return fail(Errc::kInvalidArgument,
                "privilege level " + std::to_string(*o.privlevel) + " is above 3");
  }
  if (o.max_attempts == 0) return fail(Errc::kInvalidArgument, "max_attempts must be at least 1");

  CONCIERGE_ASSIGN_OR_RETURN(fs::path entry_path, make_entry(o));
  EntryGuard entry(std::move(entry_path), o.test_hook);
  const fs::path& dir = entry.path();

  TsmReport report;
  CONCIERGE_ASSIGN_OR_RETURN(report.provider, read_text(dir / "provider"));
  if (o.expected_provider && report.provider != *o.expected_provider) {
    return fail(Errc::kNotFound, "the configfs-tsm provider is '" + report.provider + "', not '" +
                                     *o.expected_provider + "'");
  }
  std::string privlevel_text;
  if (o.privlevel) {
    CONCIERGE_RETURN_IF_ERROR(check_privlevel(dir, *o.privlevel));
    privlevel_text = std::to_string(*o.privlevel);
  }

  std::uint64_t before = 0, after = 0, writes = 0;
  for (unsigned attempt = 1; attempt <= o.max_attempts; ++attempt) {
    CONCIERGE_ASSIGN_OR_RETURN(before, read_number(dir / "generation"));
    writes = 0;
    if (o.privlevel) {
      CONCIERGE_RETURN_IF_ERROR(write_step(o, dir, "privlevel", as_bytes(privlevel_text)));
      ++writes;
    }
    CONCIERGE_RETURN_IF_ERROR(write_step(o, dir, "inblob", inblob));
    ++writes;

    CONCIERGE_ASSIGN_OR_RETURN(report.outblob, read_attribute(dir / "outblob"));
    if (o.test_hook) o.test_hook(TsmEvent::kRead, "outblob", dir);
    if (report.outblob.empty()) {
      return fail(Errc::kDevice, "the '" + report.provider + "' provider returned an empty report");
    }
    auto aux = read_attribute(dir / "auxblob", /*optional=*/true);
    if (!aux && aux.error().code != Errc::kNotFound) return Unexpected(aux.error());
    report.auxblob.reset();
    if (aux) {
      if (o.test_hook) o.test_hook(TsmEvent::kRead, "auxblob", dir);
      if (!aux->empty()) report.auxblob = std::move(*aux);
    }

    CONCIERGE_ASSIGN_OR_RETURN(after, read_number(dir / "generation"));
    if (after == before + writes) {
      report.generation = after;
      report.attempts = attempt;
      return report;
    }
  }
  return fail(Errc::kDevice, "another process wrote to report entry " + dir.string() +
                                 " during each of " + std::to_string(o.max_attempts) +
                                 " attempts (generation " + std::to_string(after) + ", expected " +
                                 std::to_string(before + writes) +
                                 "); the report cannot be trusted to be ours");
}

Result<std::string> tsm_provider(const TsmOptions& o) {
  CONCIERGE_ASSIGN_OR_RETURN(fs::path entry_path, make_entry(o));
  EntryGuard entry(std::move(entry_path), o.test_hook);
  return read_text(entry.path() / "provider");
}

Result<std::string> tsm_provider(const fs::path& root) {
  TsmOptions o;
  o.root = root;
  return tsm_provider(o);
}

TeeDetection detect_tee(const TeeDetectOptions& o) {
  TeeDetection d;
  std::error_code ec;
  d.tsm_present = fs::is_directory(o.tsm_root, ec);
  if (d.tsm_present) {
    TsmOptions t;
    t.root = o.tsm_root;
    t.test_hook = o.tsm_test_hook;
    auto provider = tsm_provider(t);
    if (provider) {
      d.tsm_provider = std::move(*provider);
    } else {
      d.tsm_detail = provider.error().to_string();
    }
  } else {
    d.tsm_detail = "no " + o.tsm_root.string();
  }
  d.sev_guest_device = fs::exists(o.sev_guest_device, ec);
  d.tdx_guest_device = fs::exists(o.tdx_guest_device, ec);
  d.tpm_device = fs::exists(o.tpm_device, ec);
  return d;
}

nlohmann::json tee_detection_json(const TeeDetection& d, const TeeDetectOptions& o) {
  auto path_or_null = [](bool present, const fs::path& p) {
    return present ? nlohmann::json(p.string()) : nlohmann::json();
  };
  nlohmann::json tsm{
      {"root", o.tsm_root.string()},
      {"present", d.tsm_present},
      {"provider", d.tsm_provider ? nlohmann::json(*d.tsm_provider) : nlohmann::json()}};
  if (!d.tsm_detail.empty()) tsm["detail"] = d.tsm_detail;
  return {{"configfs_tsm", std::move(tsm)},
          {"sev_guest_device", path_or_null(d.sev_guest_device, o.sev_guest_device)},
          {"tdx_guest_device", path_or_null(d.tdx_guest_device, o.tdx_guest_device)},
          {"tpm_device", path_or_null(d.tpm_device, o.tpm_device)},
          {"snp_guest", d.snp_guest()},
          {"tdx_guest", d.tdx_guest()}};
}

}  // namespace concierge::attester
