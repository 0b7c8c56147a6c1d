#pragma once
// Parses directory index pages served by web servers: nginx and Apache
// autoindex HTML, and nginx `autoindex_format json`. Text in, entries out; no
// I/O (STYLE R9). Fuzzed by tests/fuzz/http_index_fuzz.cc. Thread-safe.
//
// Only links to direct children count: "name" and "name/" (directories),
// percent- and entity-decoded. Parent links, sort links ("?C=N;O=D"),
// absolute paths, other hosts, fragments, "." and ".." are skipped. Sizes are
// exact only when the page prints plain byte counts (nginx's default
// `autoindex_exact_size on`); "1.2K"-style sizes are reported as unknown.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::sidecar {

struct IndexEntry {
  std::string name;  // one path component, decoded
  bool is_dir = false;
  std::optional<uint64_t> size;      // exact byte count, when the page gives one
  std::optional<int64_t> mtime_ns;   // UTC
  bool mtime_has_seconds = false;    // false: minute precision (HTML pages)

  bool operator==(const IndexEntry&) const = default;
};

enum class IndexFormat { kAuto, kHtml, kJson };

// Entries of one index page, in page order, names unique (first wins).
// kAuto picks JSON when `body` starts with '[' (after whitespace).
// kInvalidArgument: JSON that is not an nginx autoindex array. HTML never
// fails (a page without child links is an empty directory).
StatusOr<std::vector<IndexEntry>> ParseIndexPage(std::string_view body,
                                                 IndexFormat format = IndexFormat::kAuto);

// Decodes &amp; &lt; &gt; &quot; &#39; &#NN; &#xNN; (others stay as written).
std::string DecodeHtmlEntities(std::string_view s);

}  // namespace ferry::sidecar
