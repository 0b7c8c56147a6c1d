#include "sidecar/source/data_source.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace ferry::sidecar {

std::string Entry::VersionKey() const {
  std::string key = etag;
  key += '|';
  key += std::to_string(size);
  key += '|';
  key += std::to_string(mtime_ns);
  return key;
}

std::vector<std::span<std::byte>> ClampSinks(std::span<const std::span<std::byte>> outs,
                                             uint64_t offset, uint64_t size) {
  std::vector<std::span<std::byte>> out;
  uint64_t left = offset >= size ? 0 : size - offset;
  for (const std::span<std::byte>& o : outs) {
    if (left == 0) break;
    size_t k = static_cast<size_t>(std::min<uint64_t>(o.size(), left));
    if (k > 0) out.push_back(o.first(k));
    left -= k;
  }
  return out;
}

StatusOr<size_t> DataSource::ReadScatter(std::string_view path, const Entry& version,
                                         uint64_t offset,
                                         std::span<const std::span<std::byte>> outs) {
  if (outs.size() == 1) return Read(path, version, offset, outs[0]);
  size_t total = 0;
  for (const std::span<std::byte>& out : outs) total += out.size();
  std::unique_ptr<std::byte[]> buf(new std::byte[total]);  // uninitialized
  FERRY_ASSIGN_OR_RETURN(size_t n, Read(path, version, offset, {buf.get(), total}));
  size_t done = 0;
  for (const std::span<std::byte>& out : outs) {
    size_t k = std::min(out.size(), n - done);
    std::memcpy(out.data(), buf.get() + done, k);
    done += k;
    if (done == n) break;
  }
  return n;
}

}  // namespace ferry::sidecar
