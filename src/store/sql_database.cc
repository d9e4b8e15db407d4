#include "store/sql_database.h"

namespace concierge::store::sql {
namespace {

Unexpected bad_column(std::size_t column, const char* wanted) {
  return fail(Errc::kInternal, "database column " + std::to_string(column) + " is not " + wanted);
}

}  // namespace

Result<void> Connection::commit() {
  CONCIERGE_RETURN_IF_ERROR(run("COMMIT"));
  return {};
}

void Connection::rollback() { (void)run("ROLLBACK"); }

Result<std::int64_t> int_at(const Row& row, std::size_t column) {
  if (column >= row.size()) return bad_column(column, "present");
  if (const auto* v = std::get_if<std::int64_t>(&row[column])) return *v;
  return bad_column(column, "an integer");
}

Result<std::optional<std::int64_t>> optional_int_at(const Row& row, std::size_t column) {
  if (column >= row.size()) return bad_column(column, "present");
  if (std::holds_alternative<std::monostate>(row[column])) {
    return std::optional<std::int64_t>();
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t v, int_at(row, column));
  return std::optional<std::int64_t>(v);
}

Result<std::string> text_at(const Row& row, std::size_t column) {
  if (column >= row.size()) return bad_column(column, "present");
  if (std::holds_alternative<std::monostate>(row[column])) return std::string();
  if (const auto* v = std::get_if<std::string>(&row[column])) return *v;
  return bad_column(column, "text");
}

Result<Bytes> bytes_at(const Row& row, std::size_t column) {
  if (column >= row.size()) return bad_column(column, "present");
  if (const auto* v = std::get_if<Bytes>(&row[column])) return *v;
  return bad_column(column, "bytes");
}

}  // namespace concierge::store::sql
