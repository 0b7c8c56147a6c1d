// ferryctl: inspect and edit a pod's datasets (docs/ferryctl.md).

#include <unistd.h>

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/inotify_file_watcher.h"
#include "ferryctl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ferry::RealClock clock;
  ferry::ferryctl::SubprocessRunner runner;
  auto watcher = ferry::InotifyFileWatcher::Create();
  std::string stdin_text;
  if (args.size() >= 2 && args[0] == "validate" && args[1] == "-") {
    stdin_text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  ferry::ferryctl::CliEnv env{std::cout, std::cerr,
                              runner,    watcher.ok() ? watcher->get() : nullptr,
                              clock,     std::move(stdin_text)};
  int code = ferry::ferryctl::RunCli(args, env);
  std::cout.flush();
  return code;
}
