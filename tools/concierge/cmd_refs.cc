// concierge refs add|list|rm|import|export: the reference value store (a JSON
// file; see cmd_refs.h and verifier/reference_store.h).
#include "cmd_refs.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "concierge/core/time.h"
#include "concierge/verifier/reference_store.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

using verifier::MemoryReferenceStore;
using verifier::ReferenceValue;

struct RefsOptions {
  std::string file;
  std::string name;
  std::string value;
  std::string expires;
  std::string provenance;
  std::string note;
  std::string import_path;
  bool json = false;
  bool value_given = false;  // rm: VALUE was on the command line (even if empty)
};

std::string store_path(const RefsOptions& o) {
  if (!o.file.empty()) return o.file;
  if (const char* env = std::getenv("CONCIERGE_REFS"); env != nullptr && *env != '\0') return env;
  return "concierge-refs.json";
}

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

int add(const RefsOptions& o) {
  const std::string path = store_path(o);
  ReferenceValue v;
  v.name = o.name;
  v.value = o.value;
  v.provenance = o.provenance.empty() ? "concierge refs add" : o.provenance;
  v.note = o.note;
  v.added = now_seconds();
  if (!o.expires.empty()) {
    auto t = parse_rfc3339(o.expires, /*allow_date_only=*/true);
    if (!t) return report("--expires", t.error());
    v.expires = *t;
  }
  auto store = verifier::load_reference_file(path, /*missing_ok=*/true);
  if (!store) return report(path, store.error());
  if (auto ok = store->add(v); !ok) return report("refs add", ok.error());
  if (auto ok = verifier::save_reference_file(*store, path); !ok) return report(path, ok.error());
  std::printf("added %s %s\n", v.name.c_str(), v.value.c_str());
  return kExitOk;
}

int list(const RefsOptions& o) {
  const std::string path = store_path(o);
  auto store = verifier::load_reference_file(path, /*missing_ok=*/true);
  if (!store) return report(path, store.error());
  std::optional<std::string_view> name;
  if (!o.name.empty()) name = o.name;
  auto values = store->list(name);
  if (!values) return report(path, values.error());
  if (o.json) {
    print_json(verifier::reference_document_json(*values));
    return kExitOk;
  }
  const TimePoint now = std::chrono::system_clock::now();
  for (const auto& v : *values) {
    std::string line = v.name + " " + v.value;
    if (v.expires) {
      line += (v.expired_at(now) ? " EXPIRED " : " expires ") + format_rfc3339(*v.expires);
    }
    if (!v.provenance.empty()) line += " provenance: " + v.provenance;
    if (!v.note.empty()) line += " note: " + v.note;
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

int rm(const RefsOptions& o) {
  const std::string path = store_path(o);
  auto store = verifier::load_reference_file(path, /*missing_ok=*/true);
  if (!store) return report(path, store.error());
  std::optional<std::string_view> value;
  if (o.value_given) value = o.value;
  auto removed = store->remove(o.name, value);
  if (!removed) return report(path, removed.error());
  if (*removed == 0) {
    std::fprintf(stderr, "concierge: refs rm: not found: no reference value %s%s%s in %s\n",
                 o.name.c_str(), o.value_given ? " " : "", o.value.c_str(), path.c_str());
    return kExitRejected;
  }
  if (auto ok = verifier::save_reference_file(*store, path); !ok) return report(path, ok.error());
  std::printf("removed %zu reference value%s\n", *removed, *removed == 1 ? "" : "s");
  return kExitOk;
}

int import(const RefsOptions& o) {
  const std::string path = store_path(o);
  auto data = read_file(o.import_path);
  if (!data) return report(o.import_path, data.error());
  auto store = verifier::load_reference_file(path, /*missing_ok=*/true);
  if (!store) return report(path, store.error());
  auto n = store->import_json(as_chars(*data), "imported from " + o.import_path);
  if (!n) return report(o.import_path, n.error());
  if (auto ok = verifier::save_reference_file(*store, path); !ok) return report(path, ok.error());
  std::printf("imported %zu reference value%s into %s\n", *n, *n == 1 ? "" : "s", path.c_str());
  return kExitOk;
}

int export_all(const RefsOptions& o) {
  const std::string path = store_path(o);
  auto store = verifier::load_reference_file(path, /*missing_ok=*/true);
  if (!store) return report(path, store.error());
  auto doc = store->export_json();
  if (!doc) return report(path, doc.error());
  print_json(*doc);
  return kExitOk;
}

}  // namespace

void register_refs(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "refs", "Reference values: named sets of known-good values, with expiry and provenance");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<RefsOptions>();
  const std::string file_help =
      "Reference value file (default: $CONCIERGE_REFS, else ./concierge-refs.json)";

  auto* a = cmd->add_subcommand("add", "Add a value to a set (or update it when already there)");
  a->add_option("name", opts->name, "Set name, e.g. snp.measurement")->required();
  a->add_option("value", opts->value, "The value (hex or text)")->required();
  a->add_option("--expires", opts->expires, "When it stops counting (RFC 3339, or YYYY-MM-DD)");
  a->add_option("--provenance", opts->provenance, "Who or what vouched for it");
  a->add_option("--note", opts->note, "A free-form note");
  a->add_option("--file", opts->file, file_help);
  a->callback([&ctx, opts] { ctx.exit_code = add(*opts); });

  auto* l = cmd->add_subcommand("list", "List the values (of one set when NAME is given)");
  l->add_option("name", opts->name, "Set name");
  l->add_flag("--json", opts->json, "Print the reference value document");
  l->add_option("--file", opts->file, file_help);
  l->callback([&ctx, opts] { ctx.exit_code = list(*opts); });

  auto* r = cmd->add_subcommand("rm", "Remove one value of a set, or the whole set");
  r->add_option("name", opts->name, "Set name")->required();
  auto* rm_value = r->add_option("value", opts->value, "The value (all of the set when left out)");
  r->add_option("--file", opts->file, file_help);
  r->callback([&ctx, opts, rm_value] {
    opts->value_given = rm_value->count() > 0;
    ctx.exit_code = rm(*opts);
  });

  auto* i = cmd->add_subcommand("import", "Add every value of a reference value document");
  i->add_option("document", opts->import_path, "{\"reference_values\": [...]} JSON file")
      ->required();
  i->add_option("--file", opts->file, file_help);
  i->callback([&ctx, opts] { ctx.exit_code = import(*opts); });

  auto* e = cmd->add_subcommand("export", "Print every value as a reference value document");
  e->add_option("--file", opts->file, file_help);
  e->callback([&ctx, opts] { ctx.exit_code = export_all(*opts); });
}

}  // namespace concierge::cli
