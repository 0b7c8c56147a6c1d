#include "sidecar/cache/glob.h"

namespace ferry::sidecar {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// Full match of parts[pi..] against names[ni..].
bool MatchFrom(const std::vector<std::string>& parts, size_t pi,
               const std::vector<std::string_view>& names, size_t ni) {
  while (pi < parts.size()) {
    if (parts[pi] == "**") {
      for (size_t k = ni; k <= names.size(); ++k) {
        if (MatchFrom(parts, pi + 1, names, k)) return true;
      }
      return false;
    }
    if (ni >= names.size() || !MatchComponent(parts[pi], names[ni])) return false;
    ++pi;
    ++ni;
  }
  return ni == names.size();
}

// Whether names (a directory) is a prefix of some path the pattern matches,
// with at least one component left for the child.
bool PrefixFrom(const std::vector<std::string>& parts, size_t pi,
                const std::vector<std::string_view>& names, size_t ni) {
  if (ni == names.size()) return pi < parts.size();
  if (pi == parts.size()) return false;
  if (parts[pi] == "**") return true;  // ** swallows the rest of the directory path
  if (!MatchComponent(parts[pi], names[ni])) return false;
  return PrefixFrom(parts, pi + 1, names, ni + 1);
}

}  // namespace

bool MatchComponent(std::string_view p, std::string_view n) {
  size_t pi = 0, ni = 0, star = std::string_view::npos, mark = 0;
  while (ni < n.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == n[ni])) {
      ++pi;
      ++ni;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ni;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ni = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

StatusOr<Glob> Glob::Parse(std::string_view pattern) {
  std::string_view p = pattern;
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return InvalidArgument("preload glob \"" + std::string(pattern) + "\": empty");
  if (p.front() == '/') {
    return InvalidArgument("preload glob \"" + std::string(pattern) +
                           "\": must be relative to the dataset root (drop the leading '/')");
  }
  Glob g;
  g.pattern_ = std::string(p);
  for (std::string_view part : Split(p)) {
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgument("preload glob \"" + std::string(pattern) +
                             "\": empty, \".\" or \"..\" component");
    }
    g.parts_.emplace_back(part);
  }
  return g;
}

bool Glob::Matches(std::string_view path) const { return MatchFrom(parts_, 0, Split(path), 0); }

bool Glob::CouldMatchBelow(std::string_view dir) const {
  return PrefixFrom(parts_, 0, Split(dir), 0);
}

}  // namespace ferry::sidecar
