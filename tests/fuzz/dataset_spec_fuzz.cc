// libFuzzer target for ParseDatasetSpec (native and Fluid forms). Invariants:
// never crash, hang or throw; every error has a message; anything accepted
// serializes to a text that parses back to the same spec and serializes the
// same way again (ferryctl add/remove rely on that round trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/dataset_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::StatusOr<ferry::DatasetSpec> spec = ferry::ParseDatasetSpec(text);
  if (!spec.ok()) {
    if (spec.status().message().empty()) std::abort();
    return 0;
  }
  std::string serialized = ferry::SerializeDatasetSpec(*spec);
  if (serialized.size() > (1u << 20)) return 0;  // bigger than a ConfigMap: refused by design
  ferry::StatusOr<ferry::DatasetSpec> again = ferry::ParseDatasetSpec(serialized);
  if (!again.ok() || !(*again == *spec)) std::abort();
  if (ferry::SerializeDatasetSpec(*again) != serialized) std::abort();
  for (const ferry::MountSpec& m : spec->mounts) {
    if (m.ConfigHash().size() != 16) std::abort();
  }
  return 0;
}
