// ferry-propagator: PID 1 of the ferry sidecar container, the only privileged
// code. See docs/propagator.md.

#include <sys/prctl.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/sys.h"
#include "propagator/flags.h"
#include "propagator/linux_mounter.h"
#include "propagator/propagator.h"

int main(int argc, char** argv) {
  ferry::InitLogging("ferry-propagator");
  std::vector<std::string> args(argv + 1, argv + argc);
  ferry::StatusOr<ferry::propagator::PropagatorOptions> options =
      ferry::propagator::ParseFlags(args);
  if (!options.ok()) {
    if (options.status().Is(ferry::StatusCode::kNotFound)) {
      std::fputs(ferry::propagator::kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "ferry-propagator: %s\n%s", std::string(options.status().message()).c_str(),
                 ferry::propagator::kUsage);
    return 2;
  }
  // Orphans of the data plane are re-parented here even when not PID 1, so
  // the waitpid(-1) loop reaps them.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    ferry::GetLogger("propagator")->warn("PR_SET_CHILD_SUBREAPER failed; orphans go to init");
  }
  ferry::LinuxSys sys;
  ferry::propagator::LinuxMounter mounter(sys);
  ferry::RealClock clock;
  ferry::propagator::Propagator propagator(sys, mounter, clock, std::move(options).value());
  ferry::Status s = propagator.Prepare();
  if (!s.ok()) {
    std::fprintf(stderr, "ferry-propagator: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  s = propagator.Run();
  if (!s.ok()) {
    ferry::GetLogger("propagator")->critical("event loop failed: {}", s.ToString());
    return 1;
  }
  return 0;
}
