// ferry-bench-mount mount SOURCE DIR [-o ...] [-f]: `ferry-sidecar mount`
// for benchmarks and manual tests (see sidecar/standalone_mount.h).
#include "common/logging.h"
#include "sidecar/standalone_mount.h"

int main(int argc, char** argv) {
  ferry::InitLogging("ferry-bench-mount");
  return ferry::sidecar::RunStandaloneMount(argc, argv);
}
