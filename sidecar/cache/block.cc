#include "sidecar/cache/block.h"

namespace ferry::sidecar {

std::string ObjectId(std::string_view path, const Entry& version) {
  std::string id(path);
  id.push_back('\0');
  id += version.VersionKey();
  return id;
}

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : data) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t BlockKey::Hash() const {
  // splitmix64 finalizer over (object hash, index).
  uint64_t z = Fnv1a64(object) ^ (index * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

}  // namespace ferry::sidecar
