// Discovery of a host tree, in process. Usage: discovery_bench --tree DIR [benchmark flags]
// The tree is made by tests/tools/mkhost.py --big (2 sockets, 256 CPUs, 4 PFs, 256 VFs).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "discovery/discover.h"

namespace {

std::string g_tree = "/";

void BM_Discover(benchmark::State& state) {
  std::size_t cpus = 0, nics = 0;
  for (auto _ : state) {
    // A new HostFs per run: no cache carries over, as in one vnfctl invocation.
    auto fs = vnf::HostFs::open(g_tree);
    auto host = vnf::discoverHost(*fs);
    if (!host) {
      state.SkipWithError(host.error().message.c_str());
      return;
    }
    cpus = host->cpus.size();
    nics = host->nics.size();
    benchmark::DoNotOptimize(host);
  }
  state.counters["cpus"] = static_cast<double>(cpus);
  state.counters["nics"] = static_cast<double>(nics);
}
BENCHMARK(BM_Discover)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--tree") == 0) {
      g_tree = argv[i + 1];
      for (int j = i; j + 2 <= argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
