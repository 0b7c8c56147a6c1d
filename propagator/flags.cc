#include "propagator/flags.h"

#include <charconv>

namespace ferry::propagator {

StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p == text.data()) {
    return InvalidArgument("duration \"" + std::string(text) +
                           "\" must be a number with a unit (ms, s, m, h), e.g. 20s");
  }
  std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  uint64_t ms_per_unit = 0;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s" || unit.empty()) {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    return InvalidArgument("duration \"" + std::string(text) + "\" has unknown unit \"" +
                           std::string(unit) + "\"; use ms, s, m or h");
  }
  if (value > (uint64_t{1} << 40) / ms_per_unit) {
    return InvalidArgument("duration \"" + std::string(text) + "\" is too long");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * ms_per_unit));
}

StatusOr<PropagatorOptions> ParseFlags(const std::vector<std::string>& args) {
  PropagatorOptions o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
      if (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=') {
        return std::string(a.substr(flag.size() + 1));
      }
      return std::nullopt;
    };
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--help" || a == "-h") return NotFound("help requested");
    if (a == "--keep-mounts-on-crash") {
      o.keep_mounts_on_crash = true;
    } else if (auto v = value_of("--mnt-dir")) {
      if (v->empty() || (*v)[0] != '/') {
        return InvalidArgument("--mnt-dir must be an absolute path, got \"" + *v + "\"");
      }
      o.mnt_dir = *v;
    } else if (auto g = value_of("--grace")) {
      FERRY_ASSIGN_OR_RETURN(o.grace, ParseDuration(*g));
    } else if (auto t = value_of("--termination-log")) {
      o.termination_log = *t;
    } else {
      return InvalidArgument("unknown flag \"" + std::string(a) +
                             "\"; put the data plane command after \"--\"");
    }
  }
  o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (o.command.empty()) {
    return InvalidArgument("no data plane command: ferry-propagator [flags] -- COMMAND ARGS...");
  }
  return o;
}

}  // namespace ferry::propagator
