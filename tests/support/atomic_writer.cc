#include "tests/support/atomic_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kDataDir[] = "..data";
constexpr char kDataTmp[] = "..data_tmp";

std::string TopComponent(const std::string& key) { return key.substr(0, key.find('/')); }

Status WriteFileWithMode(const fs::path& path, const AtomicWriter::File& file) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Internal("mkdir " + path.parent_path().string() + ": " + ec.message());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file.content;
    if (!out) return Internal("write " + path.string());
  }
  if (chmod(path.c_str(), file.mode) != 0) return StatusFromErrno(errno, "chmod " + path.string());
  return Status::Ok();
}

}  // namespace

AtomicWriter::AtomicWriter(std::string target_dir) : dir_(std::move(target_dir)) {}

StatusOr<bool> AtomicWriter::WriteOne(const std::string& key, const std::string& content) {
  return Write(Payload{{key, File{content, 0644}}});
}

StatusOr<std::string> AtomicWriter::NewTimestampDir() {
  // Go's time format "..2006_01_02_15_04_05." plus os.MkdirTemp's random digits.
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = stamp + std::to_string(rd() % 10'000'000'000ULL);
    std::string path = dir_ + "/" + name;
    if (mkdir(path.c_str(), 0755) == 0) return name;
    if (errno != EEXIST) return StatusFromErrno(errno, "mkdir " + path);
  }
  return Internal("could not create a timestamped dir in " + dir_);
}

StatusOr<AtomicWriter::Payload> AtomicWriter::ReadCurrent(const std::string& ts_dir) const {
  Payload out;
  std::error_code ec;
  fs::path root = fs::path(dir_) / ts_dir;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    struct stat st {};
    if (stat(it->path().c_str(), &st) != 0) return StatusFromErrno(errno, "stat");
    out[fs::relative(it->path(), root).string()] = File{ss.str(), st.st_mode & 07777};
  }
  if (ec) return Internal("read " + root.string() + ": " + ec.message());
  return out;
}

StatusOr<bool> AtomicWriter::Write(const Payload& payload) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Internal("mkdir " + dir_ + ": " + ec.message());

  // 1. The current payload, through ..data.
  std::string old_ts;
  fs::path data_link = fs::path(dir_) / kDataDir;
  if (fs::is_symlink(fs::symlink_status(data_link, ec))) {
    old_ts = fs::read_symlink(data_link, ec).string();
    if (ec) return Internal("readlink " + data_link.string() + ": " + ec.message());
  }
  std::set<std::string> old_keys;
  if (!old_ts.empty()) {
    FERRY_ASSIGN_OR_RETURN(Payload current, ReadCurrent(old_ts));
    for (const auto& [key, file] : current) old_keys.insert(TopComponent(key));
    bool links_ok = true;
    for (const auto& [key, file] : payload) {
      links_ok =
          links_ok && fs::is_symlink(fs::symlink_status(fs::path(dir_) / TopComponent(key), ec));
    }
    if (current == payload && links_ok) return false;
  }

  // 2. A new timestamped dir holding the payload.
  FERRY_ASSIGN_OR_RETURN(std::string ts, NewTimestampDir());
  for (const auto& [key, file] : payload) {
    FERRY_RETURN_IF_ERROR(WriteFileWithMode(fs::path(dir_) / ts / key, file));
  }

  // 3. ..data_tmp -> ts, renamed over ..data: the atomic swap.
  fs::path tmp_link = fs::path(dir_) / kDataTmp;
  fs::remove(tmp_link, ec);
  if (symlink(ts.c_str(), tmp_link.c_str()) != 0) {
    return StatusFromErrno(errno, "symlink " + tmp_link.string());
  }
  if (rename(tmp_link.c_str(), data_link.c_str()) != 0) {
    return StatusFromErrno(errno, "rename " + tmp_link.string());
  }

  // 4. User-visible key symlinks: key -> ..data/key.
  std::set<std::string> new_keys;
  for (const auto& [key, file] : payload) new_keys.insert(TopComponent(key));
  for (const std::string& top : new_keys) {
    fs::path link = fs::path(dir_) / top;
    if (fs::is_symlink(fs::symlink_status(link, ec))) continue;
    std::string target = std::string(kDataDir) + "/" + top;
    if (symlink(target.c_str(), link.c_str()) != 0) {
      return StatusFromErrno(errno, "symlink " + link.string());
    }
  }

  // 5. Keys gone from the payload, then the old timestamped dir.
  for (const std::string& top : old_keys) {
    if (new_keys.count(top) == 0) fs::remove(fs::path(dir_) / top, ec);
  }
  if (!old_ts.empty()) fs::remove_all(fs::path(dir_) / old_ts, ec);
  return true;
}

}  // namespace ferry::testing
