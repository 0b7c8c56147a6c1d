// Fuzzes the directory index page parser (sidecar/source/http_index.h) in all
// three modes, and the date and entity helpers it uses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sidecar/source/http_date.h"
#include "sidecar/source/http_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using ferry::sidecar::IndexFormat;
  for (IndexFormat f : {IndexFormat::kAuto, IndexFormat::kHtml, IndexFormat::kJson}) {
    auto entries = ferry::sidecar::ParseIndexPage(text, f);
    if (!entries.ok()) continue;
    for (const auto& e : *entries) {
      // Every name is one safe path component.
      if (e.name.empty() || e.name == "." || e.name == ".." ||
          e.name.find('/') != std::string::npos || e.name.find('\0') != std::string::npos) {
        __builtin_trap();
      }
    }
  }
  (void)ferry::sidecar::DecodeHtmlEntities(text);
  (void)ferry::sidecar::ParseHttpDateNs(text);
  (void)ferry::sidecar::ParseIso8601Ns(text);
  (void)ferry::sidecar::ParseIndexDateNs(text);
  return 0;
}
