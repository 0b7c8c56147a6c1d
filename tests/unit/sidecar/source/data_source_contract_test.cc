// The DataSource contract on FakeDataSource (the real sources run the same
// body in tests/integration/sidecar_source/).
#include "tests/unit/sidecar/source/data_source_contract.h"

#include "tests/support/fake_data_source.h"

namespace ferry::testing {
namespace {

class FakeBackend {
 public:
  static StatusOr<std::unique_ptr<FakeBackend>> Create() { return std::make_unique<FakeBackend>(); }
  Status Put(const std::string& path, const std::string& content) {
    fake_.PutFile(path, content, ++mtime_);
    return Status::Ok();
  }
  sidecar::DataSource& source() { return fake_; }

 private:
  FakeDataSource fake_;
  int64_t mtime_ = 1'000'000'000;
};

using Backends = ::testing::Types<FakeBackend>;
INSTANTIATE_TYPED_TEST_SUITE_P(Fake, DataSourceContractTest, Backends);

}  // namespace
}  // namespace ferry::testing
