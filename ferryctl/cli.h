#pragma once
// ferryctl's command line (docs/ferryctl.md): parses arguments, runs one
// command, returns the exit code (0 ok, 1 failure / not ready, 2 usage).
// Everything with side effects comes in through CliEnv, so tests run the
// real command code against temp files and a fake kubectl.

#include <iosfwd>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_watcher.h"
#include "ferryctl/kubectl.h"

namespace ferry::ferryctl {

struct CliEnv {
  std::ostream& out;
  std::ostream& err;
  CommandRunner& runner;  // kubectl
  FileWatcher* watcher;   // probe --wait; may be null (then it re-checks every 250 ms)
  Clock& clock;
  std::string stdin_text;  // for `validate -`
};

// `args` excludes the program name.
int RunCli(const std::vector<std::string>& args, CliEnv& env);

std::string Usage();

}  // namespace ferry::ferryctl
