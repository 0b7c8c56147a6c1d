#pragma once
// Capability confinement for a process about to exec an untrusted or
// unprivileged program (the data plane). Raw syscalls only, no allocation:
// safe to call between fork() and exec().
//
// DropAllCapabilitiesRaw() empties the bounding set, the ambient set and the
// effective/permitted/inheritable sets (uids are kept: root without
// capabilities), locks the securebits that would give root its capabilities
// back on exec (best effort: needs CAP_SETPCAP), and sets PR_SET_NO_NEW_PRIVS.
// Returns 0 or the errno of the first essential step that failed.

#include <string_view>

namespace ferry {

int DropAllCapabilitiesRaw();

// The five capability masks and NoNewPrivs of a process, read from
// /proc/<pid>/status text (use "self"). Used by tests and diagnostics.
struct CapabilityState {
  unsigned long long inheritable = 0, permitted = 0, effective = 0, bounding = 0, ambient = 0;
  int no_new_privs = -1;  // -1: line absent
  bool parsed = false;    // at least CapEff was found
};
CapabilityState ParseCapabilityState(std::string_view status_text);

}  // namespace ferry
