#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

std::string Entry::VersionKey() const {
  std::string key = etag;
  key += '|';
  key += std::to_string(size);
  key += '|';
  key += std::to_string(mtime_ns);
  return key;
}

}  // namespace ferry::sidecar
