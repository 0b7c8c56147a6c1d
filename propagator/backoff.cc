#include "propagator/backoff.h"

#include <algorithm>

namespace ferry::propagator {

std::chrono::milliseconds RestartBackoff::NextDelay(std::chrono::steady_clock::duration uptime) {
  if (uptime >= options_.reset_after || next_.count() == 0) next_ = options_.initial;
  std::chrono::milliseconds delay = std::min(next_, options_.max);
  next_ = std::min(next_ * 2, options_.max);
  return delay;
}

}  // namespace ferry::propagator
