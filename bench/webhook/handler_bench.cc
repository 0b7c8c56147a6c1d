// In-process cost of the admission handler, bytes in to bytes out: the realistic
// ~8 KB Deployment pod and the 100-container pod, plus the reference cost of only
// parsing and re-serializing the same review with nlohmann, and the reference
// implementation of the handler (MutateReference), so results read as ratios.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "webhook/admission.h"

namespace {

using ferry::webhook::AdmissionHandler;
using ferry::webhook::Json;

std::string Review(const char* pod_name) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/testdata/pods/" + pod_name + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  Json review = {{"apiVersion", "admission.k8s.io/v1"},
                 {"kind", "AdmissionReview"},
                 {"request",
                  {{"uid", "bench"},
                   {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                   {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                   {"namespace", "ml-team"},
                   {"operation", "CREATE"},
                   {"object", Json::parse(ss.str())},
                   {"dryRun", false}}}};
  return review.dump();
}

const AdmissionHandler& Handler() {
  static auto* h = AdmissionHandler::Create(ferry::webhook::WebhookConfig{})->release();
  return *h;
}

void BM_Mutate(benchmark::State& state, const char* pod) {
  std::string body = Review(pod);
  for (auto _ : state) {
    auto reply = Handler().Mutate(body);
    benchmark::DoNotOptimize(reply.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["request_bytes"] = static_cast<double>(body.size());
}

// The reference implementation of /mutate (nlohmann parse, nlohmann-built answer), as
// it was before the simdjson fast path: the same answer, byte for byte.
void BM_MutateReference(benchmark::State& state, const char* pod) {
  std::string body = Review(pod);
  for (auto _ : state) {
    auto reply = Handler().MutateReference(body);
    benchmark::DoNotOptimize(reply.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_ParseDumpReference(benchmark::State& state, const char* pod) {
  std::string body = Review(pod);
  for (auto _ : state) {
    std::string out = Json::parse(body).dump();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

BENCHMARK_CAPTURE(BM_Mutate, deployment_8k, "deployment")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MutateReference, deployment_8k, "deployment")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ParseDumpReference, deployment_8k, "deployment")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Mutate, containers_100, "100-containers")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MutateReference, containers_100, "100-containers")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ParseDumpReference, containers_100, "100-containers")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
