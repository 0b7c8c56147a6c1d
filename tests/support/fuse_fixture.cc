#include "tests/support/fuse_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ferry::testing {
namespace {

int CountDirEntries(const char* dir) {
  int n = 0;
  DIR* d = ::opendir(dir);
  if (d == nullptr) return -1;
  while (dirent* de = ::readdir(d)) {
    if (de->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// Mount points in /proc/self/mountinfo escape ' ', '\t', '\n' and '\\' as \ooo.
std::string UnescapeMountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string FuseUnavailableReason() {
  if (::geteuid() != 0) return "needs root to mount FUSE filesystems";
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::string("cannot open /dev/fuse: ") + std::strerror(errno);
  ::close(fd);
  return "";
}

StatusOr<UniqueFd> MountDevFuse(const std::string& dir, DevFuseMountOptions options) {
  UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return StatusFromErrno(errno, "open /dev/fuse");
  std::string data = "fd=" + std::to_string(fd.get()) +
                     ",rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
  unsigned long flags = MS_NOSUID | MS_NODEV | (options.read_only ? MS_RDONLY : 0);
  if (::mount("ferry-test", dir.c_str(), options.fstype.c_str(), flags, data.c_str()) != 0) {
    return StatusFromErrno(errno, "mount fuse at " + dir);
  }
  return fd;
}

bool IsMountPoint(const std::string& dir) {
  // Never stat `dir` itself: a FUSE mount without a server would block us.
  std::filesystem::path p(dir);
  if (!p.has_filename()) p = p.parent_path();
  std::error_code ec;
  std::string want = (std::filesystem::weakly_canonical(p.parent_path(), ec) / p.filename()).string();
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (UnescapeMountinfo(mount_point) == want) return true;
  }
  return false;
}

bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

int CountOpenFds() { return CountDirEntries("/proc/self/fd") - 1; }  // minus opendir's own fd
int CountThreads() { return CountDirEntries("/proc/self/task"); }

FuseMountGuard::~FuseMountGuard() {
  while (IsMountPoint(dir_)) {
    if (::umount2(dir_.c_str(), MNT_DETACH) != 0) break;
  }
}

ScopedTempDir::ScopedTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ScopedTempDir::~ScopedTempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  if (IsMountPoint(path_)) ::umount2(path_.c_str(), MNT_DETACH);
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ferry::testing
