#include "tests/support/fake_data_source.h"

#include <algorithm>
#include <cstring>

namespace ferry::testing {

using sidecar::Entry;
using sidecar::EntryType;

namespace {
std::string Parent(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? "" : path.substr(0, pos);
}
std::string Base(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}
}  // namespace

void FakeDataSource::EnsureParents(const std::string& path) {
  if (!nodes_.count("")) {
    Node root;
    root.entry.type = EntryType::kDirectory;
    nodes_[""] = root;
  }
  if (path.empty()) return;
  std::string parent = Parent(path);
  while (!nodes_.count(parent)) {
    Node n;
    n.entry.name = Base(parent);
    n.entry.type = EntryType::kDirectory;
    nodes_[parent] = n;
    parent = Parent(parent);
  }
}

void FakeDataSource::PutFile(const std::string& path, std::string content, int64_t mtime_ns) {
  MutexLock lock(mu_);
  EnsureParents(path);
  Node n;
  n.entry.name = Base(path);
  n.entry.type = EntryType::kFile;
  n.entry.size = content.size();
  n.entry.mtime_ns = mtime_ns;
  n.entry.etag = "etag-" + std::to_string(next_etag_++);
  n.content = std::move(content);
  nodes_[path] = std::move(n);
}

void FakeDataSource::PutDir(const std::string& path) {
  MutexLock lock(mu_);
  EnsureParents(path);
  Node n;
  n.entry.name = Base(path);
  n.entry.type = EntryType::kDirectory;
  nodes_[path] = n;
}

void FakeDataSource::PutSymlink(const std::string& path, std::string target) {
  MutexLock lock(mu_);
  EnsureParents(path);
  Node n;
  n.entry.name = Base(path);
  n.entry.type = EntryType::kSymlink;
  n.entry.size = target.size();
  n.entry.symlink_target = std::move(target);
  nodes_[path] = n;
}

void FakeDataSource::Remove(const std::string& path) {
  MutexLock lock(mu_);
  std::string prefix = path + "/";
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first == path || it->first.rfind(prefix, 0) == 0) {
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
}

void FakeDataSource::FailPath(const std::string& path, Status s) {
  MutexLock lock(mu_);
  if (s.ok()) {
    failures_.erase(path);
  } else {
    failures_[path] = std::move(s);
  }
}

std::vector<std::string> FakeDataSource::Log() const {
  MutexLock lock(mu_);
  return log_;
}

void FakeDataSource::ClearLog() {
  MutexLock lock(mu_);
  log_.clear();
}

uint64_t FakeDataSource::CountOps(const std::string& prefix) const {
  MutexLock lock(mu_);
  return std::count_if(log_.begin(), log_.end(),
                       [&](const std::string& op) { return op.rfind(prefix, 0) == 0; });
}

Status FakeDataSource::CheckFail(const std::string& path) const {
  auto it = failures_.find(path);
  return it == failures_.end() ? Status() : it->second;
}

void FakeDataSource::Record(std::string op) {
  stats_.requests++;
  log_.push_back(std::move(op));
}

StatusOr<Entry> FakeDataSource::Stat(std::string_view path_view) {
  MutexLock lock(mu_);
  std::string path(path_view);
  Record("stat:" + path);
  FERRY_RETURN_IF_ERROR(CheckFail(path));
  if (path.empty() && !nodes_.count("")) EnsureParents("");
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return NotFound("fake: no such path: " + path);
  return it->second.entry;
}

StatusOr<std::vector<Entry>> FakeDataSource::List(std::string_view dir_view) {
  MutexLock lock(mu_);
  std::string dir(dir_view);
  Record("list:" + dir);
  FERRY_RETURN_IF_ERROR(CheckFail(dir));
  if (dir.empty() && !nodes_.count("")) EnsureParents("");
  auto it = nodes_.find(dir);
  if (it == nodes_.end()) return NotFound("fake: no such directory: " + dir);
  if (it->second.entry.type != EntryType::kDirectory) {
    return FailedPrecondition("fake: not a directory: " + dir);
  }
  std::vector<Entry> out;
  for (const auto& [p, n] : nodes_) {
    if (!p.empty() && p != dir && Parent(p) == dir) out.push_back(n.entry);
  }
  return out;
}

StatusOr<size_t> FakeDataSource::Read(std::string_view path_view, const Entry& version,
                                      uint64_t offset, std::span<std::byte> out) {
  MutexLock lock(mu_);
  std::string path(path_view);
  Record("read:" + path + ":" + std::to_string(offset) + ":" + std::to_string(out.size()));
  FERRY_RETURN_IF_ERROR(CheckFail(path));
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return NotFound("fake: no such file: " + path);
  const Node& n = it->second;
  if (n.entry.type != EntryType::kFile) return FailedPrecondition("fake: not a file: " + path);
  if (!version.etag.empty() && version.etag != n.entry.etag) {
    return FailedPrecondition("fake: object changed: " + path);
  }
  if (offset >= n.content.size()) return size_t{0};
  size_t len = std::min<size_t>(out.size(), n.content.size() - offset);
  std::memcpy(out.data(), n.content.data() + offset, len);
  stats_.bytes_read += len;
  return len;
}

sidecar::SourceStats FakeDataSource::Stats() const {
  MutexLock lock(mu_);
  return stats_;
}

}  // namespace ferry::testing
