#include "common/caps.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace ferry {

int DropAllCapabilitiesRaw() {
  // Lock root out of its automatic capabilities on exec. Best effort: needs
  // CAP_SETPCAP, and the empty bounding set below already has that effect.
  (void)prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
              0, 0, 0);
  // Bounding set: drop until the kernel says the capability number is past the last one.
  for (int cap = 0; cap < 64; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return errno;
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return errno;
  }
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

namespace {

bool ParseHexField(std::string_view text, std::string_view key, unsigned long long& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key &&
        line[key.size()] == ':') {
      std::string value(line.substr(key.size() + 1));
      char* end = nullptr;
      out = std::strtoull(value.c_str(), &end, 16);
      return end != value.c_str();
    }
  }
  return false;
}

}  // namespace

CapabilityState ParseCapabilityState(std::string_view status_text) {
  CapabilityState s;
  s.parsed = ParseHexField(status_text, "CapEff", s.effective);
  ParseHexField(status_text, "CapInh", s.inheritable);
  ParseHexField(status_text, "CapPrm", s.permitted);
  ParseHexField(status_text, "CapBnd", s.bounding);
  ParseHexField(status_text, "CapAmb", s.ambient);
  unsigned long long nnp = 0;
  // NoNewPrivs is decimal, but 0 and 1 read the same in hex.
  if (ParseHexField(status_text, "NoNewPrivs", nnp)) s.no_new_privs = static_cast<int>(nnp);
  return s;
}

}  // namespace ferry
