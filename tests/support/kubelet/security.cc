// Container identity and capabilities (see launcher.h): privileged containers
// keep every capability; others get the container runtime's default set plus
// securityContext.capabilities.add minus .drop ("ALL" allowed in both).
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <set>

#include "tests/support/kubelet/launcher.h"

namespace ferry::kubelet {
namespace {

constexpr const char* kCapNames[] = {"CHOWN",
                                     "DAC_OVERRIDE",
                                     "DAC_READ_SEARCH",
                                     "FOWNER",
                                     "FSETID",
                                     "KILL",
                                     "SETGID",
                                     "SETUID",
                                     "SETPCAP",
                                     "LINUX_IMMUTABLE",
                                     "NET_BIND_SERVICE",
                                     "NET_BROADCAST",
                                     "NET_ADMIN",
                                     "NET_RAW",
                                     "IPC_LOCK",
                                     "IPC_OWNER",
                                     "SYS_MODULE",
                                     "SYS_RAWIO",
                                     "SYS_CHROOT",
                                     "SYS_PTRACE",
                                     "SYS_PACCT",
                                     "SYS_ADMIN",
                                     "SYS_BOOT",
                                     "SYS_NICE",
                                     "SYS_RESOURCE",
                                     "SYS_TIME",
                                     "SYS_TTY_CONFIG",
                                     "MKNOD",
                                     "LEASE",
                                     "AUDIT_WRITE",
                                     "AUDIT_CONTROL",
                                     "SETFCAP",
                                     "MAC_OVERRIDE",
                                     "MAC_ADMIN",
                                     "SYSLOG",
                                     "WAKE_ALARM",
                                     "BLOCK_SUSPEND",
                                     "AUDIT_READ",
                                     "PERFMON",
                                     "BPF",
                                     "CHECKPOINT_RESTORE"};

// containerd / docker default capability set.
constexpr const char* kDefaultCaps[] = {"CHOWN",   "DAC_OVERRIDE", "FSETID",           "FOWNER",
                                        "MKNOD",   "NET_RAW",      "SETGID",           "SETUID",
                                        "SETFCAP", "SETPCAP",      "NET_BIND_SERVICE", "SYS_CHROOT",
                                        "KILL",    "AUDIT_WRITE"};

int LastCap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  in >> last;
  return last;
}

StatusOr<int> CapNumber(std::string name) {
  if (name.rfind("CAP_", 0) == 0) name = name.substr(4);
  for (int i = 0; i < static_cast<int>(std::size(kCapNames)); ++i) {
    if (name == kCapNames[i]) return i;
  }
  return InvalidArgument("unknown capability \"" + name + "\"");
}

Status ApplyNames(const std::vector<std::string>& names, bool add, int last, std::set<int>& caps) {
  for (const std::string& n : names) {
    if (n == "ALL") {
      for (int i = 0; i <= last; ++i) add ? (void)caps.insert(i) : (void)caps.erase(i);
      continue;
    }
    FERRY_ASSIGN_OR_RETURN(int c, CapNumber(n));
    add ? (void)caps.insert(c) : (void)caps.erase(c);
  }
  return Status::Ok();
}

// Needs CAP_SETPCAP: call before giving up root.
Status DropBounding(const std::set<int>& keep, int last) {
  for (int i = 0; i <= last; ++i) {
    if (keep.count(i) == 0 && ::prctl(PR_CAPBSET_DROP, i, 0, 0, 0) != 0 && errno != EINVAL) {
      return StatusFromErrno(errno, "drop bounding capability " + std::to_string(i));
    }
  }
  return Status::Ok();
}

// Sets effective = permitted = inheritable = `keep`, limited to what this
// process holds (a sandboxed "host" may lack some capabilities itself).
Status SetCaps(const std::set<int>& keep) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct have[2]{};
  if (::syscall(SYS_capget, &header, have) != 0) return StatusFromErrno(errno, "capget");
  __user_cap_data_struct data[2]{};
  for (int c : keep) {
    if ((have[c / 32].permitted & (1u << (c % 32))) == 0) continue;
    uint32_t bit = 1u << (c % 32);
    data[c / 32].effective |= bit;
    data[c / 32].permitted |= bit;
    data[c / 32].inheritable |= bit;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return StatusFromErrno(errno, "capset");
  return Status::Ok();
}

}  // namespace

Status ApplySecurity(const ContainerSpec& spec) {
  int last = LastCap();
  std::set<int> caps;
  if (spec.privileged) {
    for (int i = 0; i <= last; ++i) caps.insert(i);
  } else {
    for (const char* n : kDefaultCaps) caps.insert(*CapNumber(n));
    FERRY_RETURN_IF_ERROR(ApplyNames(spec.cap_add, true, last, caps));
    FERRY_RETURN_IF_ERROR(ApplyNames(spec.cap_drop, false, last, caps));
  }
  FERRY_RETURN_IF_ERROR(DropBounding(caps, last));
  if (::setgroups(0, nullptr) != 0) return StatusFromErrno(errno, "setgroups");
  if (::setresgid(spec.gid, spec.gid, spec.gid) != 0) return StatusFromErrno(errno, "setgid");
  // A non-root uid loses its effective and permitted sets here, as with runc
  // for a non-root user; the bounding set below still limits any setuid binary.
  if (::setresuid(spec.uid, spec.uid, spec.uid) != 0) return StatusFromErrno(errno, "setuid");
  if (spec.uid != 0) caps.clear();
  FERRY_RETURN_IF_ERROR(SetCaps(caps));
  if (spec.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return StatusFromErrno(errno, "no_new_privs");
  }
  return Status::Ok();
}

}  // namespace ferry::kubelet
