// The DataSource contract on real servers: s3rver, nginx autoindex (HTML and
// JSON) over HTTP, and over TLS (HTTP/2) with a fresh CA.
#include "tests/integration/sidecar_source/backends.h"
#include "tests/unit/sidecar/source/data_source_contract.h"

namespace ferry::testing {
namespace {

using Backends = ::testing::Types<S3rverBackend, NginxBackend<false, false>,
                                  NginxBackend<false, true>, NginxBackend<true, false>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Real, DataSourceContractTest, Backends);

}  // namespace
}  // namespace ferry::testing
