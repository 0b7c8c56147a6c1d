#pragma once
// Command line of ferry-propagator:
//   ferry-propagator [--mnt-dir=DIR] [--grace=DURATION] [--keep-mounts-on-crash]
//                    [--termination-log=PATH] -- COMMAND ARGS...
// Pure parsing; main.cc maps errors to the exit code.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "propagator/propagator.h"

namespace ferry::propagator {

inline constexpr char kUsage[] =
    "usage: ferry-propagator [--mnt-dir=DIR] [--grace=DURATION] [--keep-mounts-on-crash]\n"
    "                        [--termination-log=PATH] -- COMMAND ARGS...\n"
    "  --mnt-dir=DIR          where dataset mounts go (default /run/ferry/mnt); must be on a\n"
    "                         shared mount (mountPropagation: Bidirectional)\n"
    "  --grace=DURATION       SIGTERM-to-SIGKILL time for the data plane (default 20s);\n"
    "                         e.g. 500ms, 20s, 1m\n"
    "  --keep-mounts-on-crash keep a crashed data plane's mounts for the next one to adopt\n"
    "  --termination-log=PATH where a fatal start-up error is also written\n"
    "                         (default /dev/termination-log; empty: nowhere)\n"
    "  COMMAND ARGS...        the data plane, run without capabilities\n";

// "500ms", "20s", "1m", "1h"; a bare number is seconds. kInvalidArgument otherwise.
StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

// argv without the program name. kInvalidArgument naming the bad flag;
// kNotFound when --help was asked for (print kUsage, exit 0).
StatusOr<PropagatorOptions> ParseFlags(const std::vector<std::string>& args);

}  // namespace ferry::propagator
