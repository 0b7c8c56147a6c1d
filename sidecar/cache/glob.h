#pragma once
// Glob: a `cache.preload` pattern over dataset-relative paths. Components are
// separated by '/'; `**` (a whole component) matches zero or more
// components, `*` any run of characters within a component, `?` one
// character within a component; anything else matches itself. A pattern
// that matches a directory selects everything below it ("train" ==
// "train/**"). Pure, thread-compatible.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::sidecar {

class Glob {
 public:
  // kInvalidArgument: empty pattern, leading '/', or a "." / ".." component.
  static StatusOr<Glob> Parse(std::string_view pattern);

  // Whether `path` (no leading or trailing '/') matches the whole pattern.
  bool Matches(std::string_view path) const;

  // Whether some path strictly below directory `dir` ("" = root) could match:
  // the walk descends only into such directories.
  bool CouldMatchBelow(std::string_view dir) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::vector<std::string> parts_;
};

// Matches one component against one pattern component (`*`, `?`).
bool MatchComponent(std::string_view pattern, std::string_view name);

}  // namespace ferry::sidecar
