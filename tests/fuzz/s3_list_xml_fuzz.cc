// Fuzzes the S3 ListObjectsV2 and error-document parsers (sidecar/source/s3_xml.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sidecar/source/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::StatusOr<ferry::sidecar::S3ListPage> page = ferry::sidecar::ParseListObjectsV2(text);
  if (page.ok()) {
    for (const auto& o : page->objects) {
      if (o.key.empty()) __builtin_trap();  // the parser promises non-empty keys
    }
    if (page->truncated && page->next_continuation_token.empty()) __builtin_trap();
  }
  (void)ferry::sidecar::ParseS3Error(text);
  return 0;
}
