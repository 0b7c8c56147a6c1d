#include "sidecar/cache/prefetcher.h"

#include <algorithm>

namespace ferry::sidecar {

std::vector<PrefetchRange> Prefetcher::OnRead(uint64_t offset, uint64_t len, uint64_t size) {
  const uint64_t bs = options_.block_size;
  uint64_t end = std::min(offset + len, size);
  auto near = [&](uint64_t ahead, uint64_t behind) {
    return has_history_ && ((offset >= last_end_ && offset - last_end_ <= ahead) ||
                            (offset < last_end_ && last_end_ - offset <= behind));
  };
  if (sequential_ && near(options_.forward_seek, options_.backward_seek)) {
    window_ = std::min(window_ * 2, options_.max_window);
  } else if (near(options_.start_slack, options_.start_slack) || (!has_history_ && offset == 0)) {
    sequential_ = true;
    window_ = std::min(options_.initial_window, options_.max_window);
    issued_until_block_ = 0;
  } else {
    sequential_ = false;
    window_ = 0;
  }
  has_history_ = true;
  last_end_ = end;
  std::vector<PrefetchRange> out;
  if (!sequential_ || window_ == 0) return out;
  uint64_t total_blocks = (size + bs - 1) / bs;
  uint64_t from = std::max(issued_until_block_, (end + bs - 1) / bs);
  uint64_t to = std::min(total_blocks, (end + window_ + bs - 1) / bs);
  uint64_t range_blocks = std::max<uint64_t>(1, options_.range_bytes / bs);
  // Hysteresis: wait until the gap is worth a big GET (half the window, at
  // most one range), so a steady reader issues full ranges, not one block
  // per block it consumes. The tail of the object goes out whatever its size.
  uint64_t min_blocks = std::max<uint64_t>(1, std::min(range_blocks, window_ / 2 / bs));
  if (to <= from || (to - from < min_blocks && to < total_blocks)) return out;
  for (uint64_t b = from; b < to; b += range_blocks) {
    out.push_back({b, std::min(range_blocks, to - b)});
  }
  issued_until_block_ = to;
  return out;
}

void Prefetcher::Unissue(uint64_t first_block) {
  issued_until_block_ = std::min(issued_until_block_, first_block);
}

}  // namespace ferry::sidecar
