#include "sidecar/source/http_date.h"

#include <cstdio>
#include <ctime>

namespace ferry::sidecar {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t frac_ns = 0;
};

std::optional<int64_t> ToNs(const Fields& f) {
  if (f.year < 1970 || f.year > 2261 ||  // int64 nanoseconds end in 2262
       f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 ||
      f.hour < 0 || f.hour > 23 || f.minute < 0 || f.minute > 59 || f.second < 0 ||
      f.second > 60) {
    return std::nullopt;
  }
  int64_t days = DaysFromCivil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  return ((days * 24 + f.hour) * 60 + f.minute) * 60 * kNsPerSec + f.second * kNsPerSec + f.frac_ns;
}

// Reads exactly `n` digits at s[*pos].
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Lit(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

int MonthFromName(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return 0;
}

// "HH:MM" with optional ":SS".
bool Clock(std::string_view s, size_t* pos, Fields* f, bool seconds_required) {
  if (!Digits(s, pos, 2, &f->hour) || !Lit(s, pos, ':') || !Digits(s, pos, 2, &f->minute)) {
    return false;
  }
  if (*pos < s.size() && s[*pos] == ':') {
    ++*pos;
    return Digits(s, pos, 2, &f->second);
  }
  return !seconds_required;
}

std::string Format(std::chrono::system_clock::time_point t, const char* fmt) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

std::optional<int64_t> ParseIso8601Ns(std::string_view s) {
  Fields f;
  size_t p = 0;
  if (!Digits(s, &p, 4, &f.year) || !Lit(s, &p, '-') || !Digits(s, &p, 2, &f.month) ||
      !Lit(s, &p, '-') || !Digits(s, &p, 2, &f.day) || !Lit(s, &p, 'T') ||
      !Clock(s, &p, &f, true)) {
    return std::nullopt;
  }
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = kNsPerSec / 10;
    size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      f.frac_ns += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  if (!Lit(s, &p, 'Z') || p != s.size()) return std::nullopt;
  return ToNs(f);
}

std::optional<int64_t> ParseHttpDateNs(std::string_view s) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  Fields f;
  size_t p = 0;
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  p = comma + 2;
  if (!Digits(s, &p, 2, &f.day) || !Lit(s, &p, ' ') || p + 3 > s.size()) return std::nullopt;
  f.month = MonthFromName(s.substr(p, 3));
  p += 3;
  if (f.month == 0 || !Lit(s, &p, ' ') || !Digits(s, &p, 4, &f.year) || !Lit(s, &p, ' ') ||
      !Clock(s, &p, &f, true) || s.substr(p) != " GMT") {
    return std::nullopt;
  }
  return ToNs(f);
}

std::optional<int64_t> ParseIndexDateNs(std::string_view s) {
  Fields f;
  size_t p = 0;
  if (s.size() >= 11 && s[2] == '-' && s[6] == '-') {  // nginx: 23-Nov-2026 14:10
    if (!Digits(s, &p, 2, &f.day) || !Lit(s, &p, '-')) return std::nullopt;
    f.month = MonthFromName(s.substr(p, 3));
    p += 3;
    if (f.month == 0 || !Lit(s, &p, '-') || !Digits(s, &p, 4, &f.year)) return std::nullopt;
  } else {  // Apache: 2026-11-23 14:10
    if (!Digits(s, &p, 4, &f.year) || !Lit(s, &p, '-') || !Digits(s, &p, 2, &f.month) ||
        !Lit(s, &p, '-') || !Digits(s, &p, 2, &f.day)) {
      return std::nullopt;
    }
  }
  if (!Lit(s, &p, ' ') || !Clock(s, &p, &f, false) || p != s.size()) return std::nullopt;
  return ToNs(f);
}

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  return Format(t, "%Y%m%dT%H%M%SZ");
}

std::string FormatAmzDay(std::chrono::system_clock::time_point t) { return Format(t, "%Y%m%d"); }

}  // namespace ferry::sidecar
