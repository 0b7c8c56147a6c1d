#include "sidecar/status_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"
#include "sidecar/status_json.h"

namespace ferry::sidecar {

StatusFileWriter::StatusFileWriter(std::string mnt_dir) : dir_(std::move(mnt_dir) + "/.ferry") {}

Status StatusFileWriter::Write(const StatusSnapshot& snapshot) {
  MutexLock lock(mu_);
  if (written_ && snapshot.version < last_version_) return Status::Ok();
  if (mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    return StatusFromErrno(errno, "mkdir " + dir_);
  }
  std::string text = StatusToJson(snapshot);
  std::string tmp = dir_ + "/.status.json.tmp";
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return StatusFromErrno(errno, "open " + tmp);
    (void)fchmod(fd.get(), 0644);  // whatever the umask
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = write(fd.get(), text.data() + off, text.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return StatusFromErrno(errno, "write " + tmp);
      }
      off += static_cast<size_t>(n);
    }
  }
  if (rename(tmp.c_str(), path().c_str()) != 0) return StatusFromErrno(errno, "rename " + tmp);
  last_version_ = snapshot.version;
  written_ = true;
  return Status::Ok();
}

}  // namespace ferry::sidecar
