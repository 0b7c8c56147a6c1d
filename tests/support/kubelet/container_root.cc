// Builds a container's root filesystem and volume binds (see launcher.h).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/unique_fd.h"
#include "tests/support/kubelet/launcher.h"

namespace ferry::kubelet {
namespace {

Status Errno(std::string_view what) { return StatusFromErrno(errno, what); }

Status Mount(const std::string& src, const std::string& dst, const char* type, unsigned long flags,
             const char* data = nullptr) {
  if (::mount(src.empty() ? nullptr : src.c_str(), dst.c_str(), type, flags, data) != 0) {
    return Errno("mount " + (src.empty() ? std::string("(none)") : src) + " on " + dst);
  }
  return Status::Ok();
}

Status MkdirAll(const std::string& path, mode_t mode = 0755) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return Errno("mkdir " + cur);
  }
  return Status::Ok();
}

// Creates what a bind of `source` needs at `target`: a directory, or an empty
// file when the source is not a directory (the runtime does the same).
Status MakeMountPoint(const std::string& source, const std::string& target) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return Errno("stat volume source " + source);
  if (S_ISDIR(st.st_mode)) return MkdirAll(target);
  FERRY_RETURN_IF_ERROR(MkdirAll(target.substr(0, target.rfind('/'))));
  UniqueFd fd(::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd) return Errno("create mount point " + target);
  return Status::Ok();
}

Status ReadOnlyRemount(const std::string& target) {
  return Mount("", target, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY);
}

// The container runtime refuses Bidirectional (HostToContainer) volumes whose
// source is not on a shared (shared or slave) mount; mirror containerd's check.
Status CheckSourcePropagation(const VolumeBind& b) {
  if (b.propagation == Propagation::kPrivate) return Status::Ok();
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_mp, best_opt;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, dev, root, mp, opts, field, optional;
    ls >> id >> parent >> dev >> root >> mp >> opts;
    while (ls >> field && field != "-") optional += field + " ";
    bool under = b.source == mp || mp == "/" ||
                 (b.source.size() > mp.size() && b.source.compare(0, mp.size(), mp) == 0 &&
                  b.source[mp.size()] == '/');
    if (under && mp.size() >= best_mp.size()) {
      best_mp = mp;
      best_opt = optional;
    }
  }
  bool shared = best_opt.find("shared:") != std::string::npos;
  bool slave = best_opt.find("master:") != std::string::npos;
  if (b.propagation == Propagation::kShared && !shared) {
    return FailedPrecondition("path \"" + b.source + "\" is mounted on \"" + best_mp +
                              "\" but it is not a shared mount");
  }
  if (b.propagation == Propagation::kSlave && !shared && !slave) {
    return FailedPrecondition("path \"" + b.source + "\" is mounted on \"" + best_mp +
                              "\" but it is not a shared or slave mount");
  }
  return Status::Ok();
}

unsigned long PropagationFlag(Propagation p) {
  switch (p) {
    case Propagation::kShared:
      return MS_SHARED;
    case Propagation::kSlave:
      return MS_SLAVE;
    case Propagation::kPrivate:
      break;
  }
  return MS_PRIVATE;
}

Status BindVolume(const std::string& root, const VolumeBind& b) {
  FERRY_RETURN_IF_ERROR(CheckSourcePropagation(b));
  std::string target = root + b.target;
  FERRY_RETURN_IF_ERROR(MakeMountPoint(b.source, target));
  // A bind of a shared mount joins its peer group; the flag below then keeps
  // it (rshared), turns it into a slave of that group (rslave) or cuts it off.
  FERRY_RETURN_IF_ERROR(Mount(b.source, target, nullptr, MS_BIND | MS_REC));
  FERRY_RETURN_IF_ERROR(Mount("", target, nullptr, PropagationFlag(b.propagation) | MS_REC));
  if (b.read_only) FERRY_RETURN_IF_ERROR(ReadOnlyRemount(target));
  return Status::Ok();
}

// Host top-level entries every container sees as its "image". On merged-/usr
// systems /bin, /lib ... are symlinks: copy the link. Directories become an
// overlay (host dir as the lower layer, a tmpfs upper layer), so mountPaths such
// as /etc/ferry can be created in them as in a real image's writable layer.
constexpr const char* kHostDirs[] = {"/usr", "/etc",   "/bin",   "/sbin",
                                     "/lib", "/lib64", "/lib32", "/libx32"};

Status ShareHostDir(const std::string& root, const std::string& layers, const char* dir) {
  struct stat st {};
  if (::lstat(dir, &st) != 0) return Status::Ok();  // absent on this host
  std::string target = root + dir;
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(dir, buf, sizeof(buf) - 1);
    if (n < 0) return Errno(std::string("readlink ") + dir);
    buf[n] = '\0';
    if (::symlink(buf, target.c_str()) != 0) return Errno("symlink " + target);
    return Status::Ok();
  }
  std::string upper = layers + dir + "/upper", work = layers + dir + "/work";
  FERRY_RETURN_IF_ERROR(MkdirAll(target));
  FERRY_RETURN_IF_ERROR(MkdirAll(upper));
  FERRY_RETURN_IF_ERROR(MkdirAll(work));
  std::string opts = std::string("lowerdir=") + dir + ",upperdir=" + upper + ",workdir=" + work;
  return Mount("overlay", target, "overlay", 0, opts.c_str());
}

// A fresh /dev as runtimes make it: tmpfs, the default device nodes bound from
// the host, a private devpts and shm. Privileged containers also get /dev/fuse
// (a real runtime gives them every host device).
Status MakeDev(const std::string& root, bool privileged) {
  std::string dev = root + "/dev";
  FERRY_RETURN_IF_ERROR(MkdirAll(dev));
  FERRY_RETURN_IF_ERROR(Mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755"));
  std::vector<std::string> nodes = {"null", "zero", "full", "random", "urandom", "tty"};
  if (privileged) nodes.push_back("fuse");
  for (const std::string& n : nodes) {
    std::string host = "/dev/" + n;
    if (::access(host.c_str(), F_OK) != 0) continue;
    FERRY_RETURN_IF_ERROR(MakeMountPoint(host, dev + "/" + n));
    FERRY_RETURN_IF_ERROR(Mount(host, dev + "/" + n, nullptr, MS_BIND));
  }
  FERRY_RETURN_IF_ERROR(MkdirAll(dev + "/pts"));
  FERRY_RETURN_IF_ERROR(Mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=0620"));
  FERRY_RETURN_IF_ERROR(MkdirAll(dev + "/shm"));
  FERRY_RETURN_IF_ERROR(Mount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
  for (auto [name, target] : {std::pair{"ptmx", "pts/ptmx"},
                              {"fd", "/proc/self/fd"},
                              {"stdin", "/proc/self/fd/0"},
                              {"stdout", "/proc/self/fd/1"},
                              {"stderr", "/proc/self/fd/2"}}) {
    if (::symlink(target, (dev + "/" + name).c_str()) != 0)
      return Errno("symlink /dev/" + std::string(name));
  }
  return Status::Ok();
}

// runc's pivot_root dance: the old root is made rslave before it is detached so
// that its unmount never propagates back to the node.
Status PivotInto(const std::string& root) {
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  UniqueFd new_root(::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root || !new_root) return Errno("open old/new root");
  if (::fchdir(new_root.get()) != 0) return Errno("fchdir new root");
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Errno("pivot_root " + root);
  if (::fchdir(old_root.get()) != 0) return Errno("fchdir old root");
  FERRY_RETURN_IF_ERROR(Mount("", ".", nullptr, MS_SLAVE | MS_REC));
  if (::umount2(".", MNT_DETACH) != 0) return Errno("detach old root");
  if (::chdir("/") != 0) return Errno("chdir /");
  return Status::Ok();
}

}  // namespace

StatusOr<ContainerSpec> ParseContainerSpec(const nlohmann::json& j) {
  ContainerSpec s;
  try {
    s.node_mntns = j.at("node_mntns").get<std::string>();
    s.sandbox_pid = j.value("sandbox_pid", 0);
    s.rootfs = j.at("rootfs").get<std::string>();
    s.bin_dir = j.value("bin_dir", "");
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.env = j.value("env", std::vector<std::string>{});
    s.cwd = j.value("cwd", "/");
    s.uid = j.value("uid", 0u);
    s.gid = j.value("gid", 0u);
    s.privileged = j.value("privileged", false);
    s.cap_add = j.value("cap_add", std::vector<std::string>{});
    s.cap_drop = j.value("cap_drop", std::vector<std::string>{});
    s.no_new_privs = j.value("no_new_privs", false);
    s.read_only_rootfs = j.value("read_only_rootfs", false);
    for (const auto& m : j.value("mounts", nlohmann::json::array())) {
      VolumeBind b;
      b.source = m.at("source").get<std::string>();
      b.target = m.at("target").get<std::string>();
      std::string p = m.value("propagation", "rprivate");
      if (p == "rshared") {
        b.propagation = Propagation::kShared;
      } else if (p == "rslave") {
        b.propagation = Propagation::kSlave;
      } else if (p == "rprivate") {
        b.propagation = Propagation::kPrivate;
      } else {
        return InvalidArgument("mount " + b.target + ": propagation \"" + p +
                               "\" is not rshared, rslave or rprivate");
      }
      b.read_only = m.value("readonly", false);
      if (b.target.empty() || b.target[0] != '/') {
        return InvalidArgument("mountPath \"" + b.target + "\" must be absolute");
      }
      s.mounts.push_back(std::move(b));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("container spec: ") + e.what());
  }
  if (s.argv.empty()) return InvalidArgument("container spec: empty argv");
  if (s.rootfs.empty() || s.rootfs[0] != '/') return InvalidArgument("rootfs must be absolute");
  return s;
}

Status BuildContainerRoot(const ContainerSpec& spec) {
  const std::string& root = spec.rootfs;
  // `root` lies on the node's private `/`, so neither the root tmpfs nor the
  // binds below it propagate anywhere; only the volumes' own peer groups do.
  // (Making `/` rslave first, as a shortcut, would turn the shared volume
  // sources into slaves and silently break Bidirectional.)
  FERRY_RETURN_IF_ERROR(MkdirAll(root));
  FERRY_RETURN_IF_ERROR(Mount("ferry-rootfs", root, "tmpfs", MS_NOSUID, "mode=0755"));
  FERRY_RETURN_IF_ERROR(Mount("", root, nullptr, MS_PRIVATE));
  std::string layers = root + "-layers";
  FERRY_RETURN_IF_ERROR(MkdirAll(layers));
  FERRY_RETURN_IF_ERROR(Mount("ferry-layers", layers, "tmpfs", 0, "mode=0700"));
  for (const char* dir : kHostDirs) FERRY_RETURN_IF_ERROR(ShareHostDir(root, layers, dir));
  for (const char* dir : {"/proc", "/sys", "/tmp", "/run", "/var", "/root", "/home"}) {
    FERRY_RETURN_IF_ERROR(MkdirAll(root + dir));
  }
  FERRY_RETURN_IF_ERROR(Mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  FERRY_RETURN_IF_ERROR(MakeDev(root, spec.privileged));
  FERRY_RETURN_IF_ERROR(Mount("/sys", root + "/sys", nullptr, MS_BIND | MS_REC));
  FERRY_RETURN_IF_ERROR(Mount("", root + "/sys", nullptr, MS_PRIVATE | MS_REC));
  if (!spec.privileged) FERRY_RETURN_IF_ERROR(ReadOnlyRemount(root + "/sys"));
  if (!spec.read_only_rootfs) {
    FERRY_RETURN_IF_ERROR(
        Mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
  }
  if (!spec.bin_dir.empty()) {  // the image's /usr/local/bin: ferry's binaries
    FERRY_RETURN_IF_ERROR(MkdirAll(root + "/usr/local/bin"));
    FERRY_RETURN_IF_ERROR(Mount(spec.bin_dir, root + "/usr/local/bin", nullptr, MS_BIND));
    FERRY_RETURN_IF_ERROR(ReadOnlyRemount(root + "/usr/local/bin"));
  }
  // Parents before children, as runc sorts mounts by path depth.
  std::vector<VolumeBind> mounts = spec.mounts;
  std::stable_sort(mounts.begin(), mounts.end(), [](const VolumeBind& a, const VolumeBind& b) {
    return std::count(a.target.begin(), a.target.end(), '/') <
           std::count(b.target.begin(), b.target.end(), '/');
  });
  for (const VolumeBind& b : mounts) {
    FERRY_RETURN_IF_ERROR(BindVolume(root, b).WithContext("volumeMount " + b.target));
  }
  if (spec.read_only_rootfs) {
    FERRY_RETURN_IF_ERROR(ReadOnlyRemount(root));
    for (const char* dir : kHostDirs) {
      struct stat st {};
      if (::lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        FERRY_RETURN_IF_ERROR(ReadOnlyRemount(root + dir));
      }
    }
  }
  return PivotInto(root);
}

}  // namespace ferry::kubelet
