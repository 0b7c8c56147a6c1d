#pragma once
// DataSourceContractTest: one typed test body every DataSource must pass
// (STYLE §4). Included by the unit test (FakeDataSource) and by
// tests/integration/sidecar_source (s3rver, nginx over HTTP and TLS, nginx
// JSON autoindex). A Backend type provides:
//   static StatusOr<std::unique_ptr<Backend>> Create();  // kUnavailable -> skip
//   Status Put(const std::string& path, const std::string& content);  // at the origin
//   sidecar::DataSource& source();
// The tree below is written through Put() before each test.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "sidecar/source/data_source.h"
#include "sidecar/source/sigv4.h"

namespace ferry::testing {

inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// path -> content. "only" holds nothing but a subdirectory (s3rver quirk).
inline const std::map<std::string, std::string>& ContractTree() {
  static const auto* tree = new std::map<std::string, std::string>{
      {"a.txt", "hello\n"},
      {"big.bin", RandomBytes(3 * 1024 * 1024 + 17, 1)},
      {"dir/b.bin", RandomBytes(300 * 1024, 2)},
      {"dir/sub/c.txt", "c"},
      {"only/deeper/z.txt", "zzz"},
      {"sp ace & amp+plus.txt", "special"},
      {"unicode-\xe6\x97\xa5\xe6\x9c\xac.txt", "utf8"},
      {"empty.txt", ""},
  };
  return *tree;
}

template <typename Backend>
class DataSourceContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<Backend>> b = Backend::Create();
    if (b.status().Is(StatusCode::kUnavailable)) GTEST_SKIP() << b.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
    for (const auto& [path, content] : ContractTree()) {
      ASSERT_TRUE(backend_->Put(path, content).ok()) << path;
    }
  }
  sidecar::DataSource& src() { return backend_->source(); }

  // Reads the whole file in `chunk`-sized pieces.
  std::string ReadAll(const std::string& path, const sidecar::Entry& e, size_t chunk) {
    std::string out;
    std::string buf(chunk, '\0');
    for (uint64_t off = 0;; off += chunk) {
      StatusOr<size_t> n = src().Read(path, e, off, std::as_writable_bytes(std::span(buf)));
      EXPECT_TRUE(n.ok()) << path << " @" << off << ": " << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      out.append(buf.data(), *n);
      if (*n < chunk) break;
    }
    return out;
  }

  std::map<std::string, sidecar::Entry> ListMap(const std::string& dir) {
    std::map<std::string, sidecar::Entry> m;
    StatusOr<std::vector<sidecar::Entry>> l = src().List(dir);
    EXPECT_TRUE(l.ok()) << dir << ": " << l.status().ToString();
    if (l.ok()) {
      for (auto& e : *l) m[e.name] = e;
    }
    return m;
  }

  std::unique_ptr<Backend> backend_;
};

TYPED_TEST_SUITE_P(DataSourceContractTest);

TYPED_TEST_P(DataSourceContractTest, RootIsADirectoryListingEveryChild) {
  using sidecar::EntryType;
  StatusOr<sidecar::Entry> root = this->src().Stat("");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(root->type, EntryType::kDirectory);
  auto m = this->ListMap("");
  std::vector<std::string> names;
  for (const auto& [n, e] : m) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "big.bin", "dir", "empty.txt", "only",
                                             "sp ace & amp+plus.txt",
                                             "unicode-\xe6\x97\xa5\xe6\x9c\xac.txt"}));
  EXPECT_EQ(m["a.txt"].type, EntryType::kFile);
  EXPECT_EQ(m["a.txt"].size, 6u);
  EXPECT_GT(m["a.txt"].mtime_ns, 0);
  EXPECT_EQ(m["big.bin"].size, ContractTree().at("big.bin").size());
  EXPECT_EQ(m["empty.txt"].size, 0u);
  EXPECT_EQ(m["dir"].type, EntryType::kDirectory);
  EXPECT_EQ(m["only"].type, EntryType::kDirectory) << "a prefix holding only subdirectories";
}

TYPED_TEST_P(DataSourceContractTest, NestedDirectories) {
  auto dir = this->ListMap("dir");
  ASSERT_EQ(dir.size(), 2u);
  EXPECT_EQ(dir["b.bin"].size, 300u * 1024);
  EXPECT_EQ(dir["sub"].type, sidecar::EntryType::kDirectory);
  auto only = this->ListMap("only");
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only["deeper"].type, sidecar::EntryType::kDirectory);
  auto deeper = this->ListMap("only/deeper");
  ASSERT_EQ(deeper.size(), 1u);
  EXPECT_EQ(deeper["z.txt"].size, 3u);
}

TYPED_TEST_P(DataSourceContractTest, StatAgreesWithListOnTypeAndSize) {
  for (const auto& [path, content] : ContractTree()) {
    StatusOr<sidecar::Entry> e = this->src().Stat(path);
    ASSERT_TRUE(e.ok()) << path << ": " << e.status().ToString();
    EXPECT_EQ(e->type, sidecar::EntryType::kFile) << path;
    EXPECT_EQ(e->size, content.size()) << path;
    EXPECT_EQ(e->name, path.substr(path.rfind('/') + 1));
  }
  for (const char* d : {"dir", "dir/sub", "only", "only/deeper"}) {
    StatusOr<sidecar::Entry> e = this->src().Stat(d);
    ASSERT_TRUE(e.ok()) << d << ": " << e.status().ToString();
    EXPECT_EQ(e->type, sidecar::EntryType::kDirectory) << d;
  }
}

TYPED_TEST_P(DataSourceContractTest, MissingNamesAndFilesAsDirectories) {
  EXPECT_EQ(this->src().Stat("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->src().Stat("dir/missing.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->src().Stat("a.tx").status().code(), StatusCode::kNotFound) << "a prefix of a name";
  EXPECT_EQ(this->src().List("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->src().List("a.txt").status().code(), StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(DataSourceContractTest, EveryFileReadsBackIdentical) {
  std::map<std::string, sidecar::Entry> entries;
  for (const char* d : {"", "dir", "dir/sub", "only/deeper"}) {
    for (auto& [n, e] : this->ListMap(d)) {
      if (e.type == sidecar::EntryType::kFile) entries[std::string(d) + (*d ? "/" : "") + n] = e;
    }
  }
  ASSERT_EQ(entries.size(), ContractTree().size());
  for (const auto& [path, content] : ContractTree()) {
    std::string got = this->ReadAll(path, entries[path], 1 << 20);
    EXPECT_EQ(sidecar::Sha256Hex(got), sidecar::Sha256Hex(content)) << path;
  }
  // Through Stat's entry, in odd-sized pieces.
  StatusOr<sidecar::Entry> big = this->src().Stat("big.bin");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(sidecar::Sha256Hex(this->ReadAll("big.bin", *big, 777'777)),
            sidecar::Sha256Hex(ContractTree().at("big.bin")));
}

TYPED_TEST_P(DataSourceContractTest, RangesAndEndOfFile) {
  StatusOr<sidecar::Entry> e = this->src().Stat("big.bin");
  ASSERT_TRUE(e.ok());
  const std::string& want = ContractTree().at("big.bin");
  std::string buf(4096, '\0');
  auto bytes = std::as_writable_bytes(std::span(buf));
  StatusOr<size_t> n = this->src().Read("big.bin", *e, 1'000'003, bytes);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4096u);
  EXPECT_EQ(buf, want.substr(1'000'003, 4096));
  n = this->src().Read("big.bin", *e, want.size() - 10, bytes);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u) << "short only at end of file";
  EXPECT_EQ(buf.substr(0, 10), want.substr(want.size() - 10));
  n = this->src().Read("big.bin", *e, want.size(), bytes);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = this->src().Read("big.bin", *e, want.size() + 100, bytes);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  StatusOr<sidecar::Entry> empty = this->src().Stat("empty.txt");
  ASSERT_TRUE(empty.ok());
  n = this->src().Read("empty.txt", *empty, 0, bytes);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TYPED_TEST_P(DataSourceContractTest, ScatterReadFillsBuffersInOrderUpToEndOfFile) {
  StatusOr<sidecar::Entry> e = this->src().Stat("big.bin");
  ASSERT_TRUE(e.ok());
  const std::string& want = ContractTree().at("big.bin");
  // Three uneven buffers across the end of the file: the last is cut short.
  std::string a(1 << 20, '\0'), b(4097, '\0'), c(1 << 20, '\0');
  const uint64_t offset = want.size() - (1 << 20) - 5000;
  std::span<std::byte> outs[3] = {std::as_writable_bytes(std::span(a)),
                                  std::as_writable_bytes(std::span(b)),
                                  std::as_writable_bytes(std::span(c))};
  StatusOr<size_t> n = this->src().ReadScatter("big.bin", *e, offset, outs);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, (1u << 20) + 5000);
  EXPECT_TRUE(a == want.substr(offset, a.size()));
  EXPECT_TRUE(b == want.substr(offset + a.size(), b.size()));
  EXPECT_EQ(c.substr(0, 903), want.substr(offset + a.size() + b.size()));
  n = this->src().ReadScatter("big.bin", *e, want.size(), outs);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TYPED_TEST_P(DataSourceContractTest, ChangedObjectIsNeverReadWithAnOldVersion) {
  auto listed = this->ListMap("");
  StatusOr<sidecar::Entry> stat = this->src().Stat("a.txt");
  ASSERT_TRUE(stat.ok());
  ASSERT_TRUE(this->backend_->Put("a.txt", "changed content, other size\n").ok());
  std::string buf(64, '\0');
  auto bytes = std::as_writable_bytes(std::span(buf));
  EXPECT_EQ(this->src().Read("a.txt", listed["a.txt"], 0, bytes).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->src().Read("a.txt", *stat, 0, bytes).status().code(),
            StatusCode::kFailedPrecondition);
  StatusOr<sidecar::Entry> fresh = this->src().Stat("a.txt");
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->VersionKey(), stat->VersionKey());
  StatusOr<size_t> n = this->src().Read("a.txt", *fresh, 0, bytes);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(buf.substr(0, *n), "changed content, other size\n");
}

TYPED_TEST_P(DataSourceContractTest, DescribeNamesTheOriginWithoutSecrets) {
  std::string d = this->src().Describe();
  EXPECT_FALSE(d.empty());
  EXPECT_EQ(d.find("S3RVER"), std::string::npos);
}

REGISTER_TYPED_TEST_SUITE_P(DataSourceContractTest, RootIsADirectoryListingEveryChild,
                            NestedDirectories, StatAgreesWithListOnTypeAndSize,
                            MissingNamesAndFilesAsDirectories, EveryFileReadsBackIdentical,
                            RangesAndEndOfFile, ScatterReadFillsBuffersInOrderUpToEndOfFile,
                            ChangedObjectIsNeverReadWithAnOldVersion,
                            DescribeNamesTheOriginWithoutSecrets);

}  // namespace ferry::testing
