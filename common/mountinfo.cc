#include "common/mountinfo.h"

#include <charconv>

namespace ferry {
namespace {

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos >= line.size()) break;
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

template <typename T>
bool ParseUnsigned(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

uint64_t PeerGroup(const std::vector<std::string>& fields, std::string_view tag) {
  for (const std::string& f : fields) {
    if (f.size() > tag.size() && f.compare(0, tag.size(), tag) == 0) {
      uint64_t id = 0;
      if (ParseUnsigned(std::string_view(f).substr(tag.size()), id)) return id;
    }
  }
  return 0;
}

bool HasOption(std::string_view options, std::string_view option) {
  size_t pos = 0;
  while (pos <= options.size()) {
    size_t end = options.find(',', pos);
    if (end == std::string_view::npos) end = options.size();
    std::string_view item = options.substr(pos, end - pos);
    if (item == option) return true;
    pos = end + 1;
  }
  return false;
}

Status LineError(size_t line_no, std::string_view what) {
  return InvalidArgument("mountinfo line " + std::to_string(line_no) + ": " + std::string(what));
}

StatusOr<MountInfo> ParseLine(std::string_view line, size_t line_no) {
  std::vector<std::string_view> f = SplitSpaces(line);
  // 6 fixed fields, optional fields, "-", then fstype and source (super options may be missing
  // on very old kernels; accept it).
  size_t sep = 0;
  for (size_t i = 6; i < f.size(); ++i) {
    if (f[i] == "-") {
      sep = i;
      break;
    }
  }
  if (f.size() < 7 || sep == 0) return LineError(line_no, "missing the \" - \" separator");
  if (f.size() < sep + 3) return LineError(line_no, "missing fstype or source after \" - \"");
  MountInfo m;
  if (!ParseUnsigned(f[0], m.mount_id)) return LineError(line_no, "bad mount id");
  if (!ParseUnsigned(f[1], m.parent_id)) return LineError(line_no, "bad parent id");
  size_t colon = f[2].find(':');
  if (colon == std::string_view::npos || !ParseUnsigned(f[2].substr(0, colon), m.major) ||
      !ParseUnsigned(f[2].substr(colon + 1), m.minor)) {
    return LineError(line_no, "bad major:minor \"" + std::string(f[2]) + "\"");
  }
  m.root = UnescapeMountPath(f[3]);
  m.mount_point = UnescapeMountPath(f[4]);
  m.mount_options = std::string(f[5]);
  for (size_t i = 6; i < sep; ++i) m.optional_fields.emplace_back(f[i]);
  m.fstype = UnescapeMountPath(f[sep + 1]);
  m.source = UnescapeMountPath(f[sep + 2]);
  if (f.size() > sep + 3) m.super_options = UnescapeMountPath(f[sep + 3]);
  return m;
}

}  // namespace

uint64_t MountInfo::SharedPeerGroup() const { return PeerGroup(optional_fields, "shared:"); }
uint64_t MountInfo::MasterPeerGroup() const { return PeerGroup(optional_fields, "master:"); }
bool MountInfo::HasMountOption(std::string_view option) const {
  return HasOption(mount_options, option);
}
bool MountInfo::HasSuperOption(std::string_view option) const {
  return HasOption(super_options, option);
}

std::string UnescapeMountPath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      bool octal = true;
      int value = 0;
      for (size_t k = 1; k <= 3; ++k) {
        if (i + k >= s.size() || s[i + k] < '0' || s[i + k] > '7') {
          octal = false;
          break;
        }
        value = value * 8 + (s[i + k] - '0');
      }
      if (octal && value <= 0xff) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

StatusOr<std::vector<MountInfo>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfo> out;
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    FERRY_ASSIGN_OR_RETURN(MountInfo m, ParseLine(line, line_no));
    out.push_back(std::move(m));
  }
  return out;
}

bool PathIsWithin(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

std::optional<MountInfo> FindContainingMount(const std::vector<MountInfo>& mounts,
                                             std::string_view path) {
  const MountInfo* best = nullptr;
  for (const MountInfo& m : mounts) {
    if (!PathIsWithin(path, m.mount_point)) continue;
    if (best == nullptr || m.mount_point.size() >= best->mount_point.size()) best = &m;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace ferry
