#include "engine/units.hpp"

#include <array>
#include <cctype>

namespace agentos::engine {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

bool add_mul(std::int64_t& acc, std::int64_t v, std::int64_t unit) {
  std::int64_t part = 0;
  return !__builtin_mul_overflow(v, unit, &part) && !__builtin_add_overflow(acc, part, &acc);
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::string two(unsigned v) {
  std::string s = std::to_string(v);
  return v < 10 ? "0" + s : s;
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view t) {
  if (t.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < t.size()) {
    if (!digit(t[i])) return std::nullopt;
    std::int64_t n = 0;
    while (i < t.size() && digit(t[i])) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, t[i] - '0', &n)) return std::nullopt;
      ++i;
    }
    std::int64_t unit = 0;
    if (t.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < t.size()) {
      switch (t[i]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60'000; break;
        case 'h': unit = 3'600'000; break;
        case 'd': unit = 86'400'000; break;
        default: return std::nullopt;
      }
      ++i;
    } else {
      return std::nullopt;
    }
    if (!add_mul(total, n, unit)) return std::nullopt;
  }
  return total;
}

std::string format_duration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  std::uint64_t v = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  if (ms < 0) out += '-';
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 5> units{
      {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}}};
  for (const auto& [size, name] : units) {
    if (v >= size) {
      out += std::to_string(v / size);
      out += name;
      v %= size;
    }
  }
  return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS
  if (t.size() < 20) return std::nullopt;
  auto num = [&](std::size_t at, std::size_t len) -> std::optional<unsigned> {
    unsigned v = 0;
    for (std::size_t k = at; k < at + len; ++k) {
      if (!digit(t[k])) return std::nullopt;
      v = v * 10 + static_cast<unsigned>(t[k] - '0');
    }
    return v;
  };
  const auto year = num(0, 4), month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2),
             second = num(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  static constexpr std::array<unsigned, 12> month_days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1) return std::nullopt;
  const unsigned limit = month_days[*month - 1] + (*month == 2 && leap(*year) ? 1 : 0);
  if (*day > limit || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::int64_t scale = 100;
    if (i >= t.size() || !digit(t[i])) return std::nullopt;
    while (i < t.size() && digit(t[i])) {
      millis += (t[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  std::int64_t offset_minutes = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = static_cast<std::int64_t>(*oh * 60 + *om) * (t[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  const std::int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_minutes * 60;
  return secs * 1000 + millis;
}

std::string format_timestamp(std::int64_t ms) {
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  std::string out = std::to_string(y) + "-" + two(m) + "-" + two(d) + "T" + two(static_cast<unsigned>(rem / 3600)) + ":" +
                    two(static_cast<unsigned>(rem / 60 % 60)) + ":" + two(static_cast<unsigned>(rem % 60));
  if (frac != 0) {
    std::string f = std::to_string(frac);
    out += "." + std::string(3 - f.size(), '0') + f;
  }
  return out + "Z";
}

std::optional<std::int64_t> parse_decimal(std::string_view t) {
  bool negative = false;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) {
    negative = t[i] == '-';
    ++i;
  }
  if (i >= t.size() || !digit(t[i])) return std::nullopt;
  std::int64_t whole = 0;
  while (i < t.size() && digit(t[i])) {
    if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, t[i] - '0', &whole)) {
      return std::nullopt;
    }
    ++i;
  }
  std::int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::int64_t scale = 100'000;
    if (i >= t.size() || !digit(t[i])) return std::nullopt;
    for (; i < t.size() && digit(t[i]); ++i) {
      if (scale == 0) return std::nullopt;  // more than six places
      frac += (t[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i != t.size()) return std::nullopt;
  std::int64_t out = 0;
  if (!add_mul(out, whole, 1'000'000) || __builtin_add_overflow(out, frac, &out)) return std::nullopt;
  return negative ? -out : out;
}

std::string format_decimal(std::int64_t millionths) {
  const bool negative = millionths < 0;
  const std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(millionths) : static_cast<std::uint64_t>(millionths);
  std::string frac = std::to_string(v % 1'000'000);
  frac = std::string(6 - frac.size(), '0') + frac;
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + std::to_string(v / 1'000'000) + "." + frac;
}

}  // namespace agentos::engine
