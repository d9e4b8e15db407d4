#include "concierge/core/time.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace concierge {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool digits(std::size_t n, int& out) {
    if (pos_ + n > s_.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    out = v;
    return true;
  }
  bool literal(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool one_of(std::string_view set, char& out) {
    if (pos_ < s_.size() && set.find(s_[pos_]) != std::string_view::npos) {
      out = s_[pos_++];
      return true;
    }
    return false;
  }
  bool at_end() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<TimePoint> parse_rfc3339(std::string_view text, bool allow_date_only) {
  auto bad = [&](const char* why) {
    return fail(Errc::kMalformed, "'" + std::string(text) + "' is not an RFC 3339 time: " + why);
  };
  Scanner s(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!s.digits(4, year) || !s.literal('-') || !s.digits(2, month) || !s.literal('-') ||
      !s.digits(2, day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return bad("day out of range");
  }
  std::int64_t micros = 0;
  std::int64_t offset_seconds = 0;
  if (s.at_end()) {
    if (!allow_date_only) return bad("a time and a time zone are required");
  } else {
    char sep = 0;
    if (!s.one_of("Tt ", sep)) return bad("expected 'T' after the date");
    if (!s.digits(2, hour) || !s.literal(':') || !s.digits(2, minute) || !s.literal(':') ||
        !s.digits(2, second)) {
      return bad("expected HH:MM:SS");
    }
    if (hour > 23 || minute > 59 || second > 60) return bad("time out of range");
    if (s.literal('.')) {
      int digit = 0;
      int count = 0;
      while (s.digits(1, digit)) {
        if (count < 6) micros = micros * 10 + digit;
        ++count;
      }
      if (count == 0) return bad("empty fraction");
      for (int i = count; i < 6; ++i) micros *= 10;
    }
    char zone = 0;
    if (s.one_of("Zz", zone)) {
    } else if (s.one_of("+-", zone)) {
      int oh = 0, om = 0;
      if (!s.digits(2, oh) || !s.literal(':') || !s.digits(2, om) || oh > 23 || om > 59) {
        return bad("bad time zone offset");
      }
      offset_seconds = (oh * 3600 + om * 60) * (zone == '-' ? -1 : 1);
    } else {
      return bad("a time zone (Z or +HH:MM) is required");
    }
    if (!s.at_end()) return bad("trailing characters");
  }
  if (second == 60) second = 59;  // leap second: clamp (system_clock has none)
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // TimePoint counts nanoseconds in 64 bits: about 1678 to 2261. A time
  // outside would wrap around (a "never expires" 9999 would lie in 1816).
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() - 1;
  if (secs > kLimit || secs < -kLimit) return bad("outside the clock's range (1678 to 2261)");
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(secs) + std::chrono::microseconds(micros)));
}

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() -
         (t.time_since_epoch() < TimePoint::duration::zero() &&
                  t.time_since_epoch() % std::chrono::seconds(1) != TimePoint::duration::zero()
              ? 1
              : 0);
}

std::string format_rfc3339(TimePoint t) {
  const std::int64_t secs = unix_seconds(t);
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days (H. Hinnant).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y0 = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = y0 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace concierge
