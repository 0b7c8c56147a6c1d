#include "sidecar/cache/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ferry::sidecar {
namespace {

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xe3069283u);
  EXPECT_EQ(Crc32cPortableForTest(Bytes("123456789")), 0xe3069283u);
  EXPECT_EQ(Crc32c(Bytes("")), 0u);
  EXPECT_EQ(Crc32c(Bytes(std::string(32, '\0'))), 0x8a9136aau);
}

TEST(Crc32cTest, HardwareMatchesPortableAndExtends) {
  std::mt19937 rng(7);
  std::vector<std::byte> data(10007);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 4096u, 10007u}) {
    std::span<const std::byte> s(data.data(), n);
    EXPECT_EQ(Crc32c(s), Crc32cPortableForTest(s)) << n;
  }
  std::span<const std::byte> all(data);
  EXPECT_EQ(Crc32c(all.subspan(100), Crc32c(all.first(100))), Crc32c(all));
}

}  // namespace
}  // namespace ferry::sidecar
