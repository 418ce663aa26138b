// Planning speed. Usage: plan_bench --two-socket DIR --four-socket DIR [benchmark flags]
//   two-socket: tests/data/hosts/2socket-ht-x710-node1 (plan of one VNF; target < 5 ms with render)
//   four-socket: tests/tools/mkhost.py --big4 (448 CPUs, 1024 VFs): 1,000 VNFs planned together
//   (200 dedicated 2-vCPU + 800 shared, each with a VF and 2M hugepages); target < 200 ms.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include <fmt/format.h>

#include "discovery/discover.h"
#include "domain/render.h"
#include "planning/plan.h"
#include "spec/load.h"

namespace {

std::string g_two, g_four;

vnf::HostTopology discover(const std::string& root) {
  auto fs = vnf::HostFs::open(root);
  if (!fs) throw std::runtime_error(fs.error().message);
  auto host = vnf::discoverHost(*fs);
  if (!host) throw std::runtime_error(host.error().message);
  return *host;
}

std::vector<vnf::VnfSpec> specs(const std::string& yaml) {
  auto s = vnf::parseSpecYaml(yaml, "bench.yaml");
  if (!s) throw std::runtime_error(s.error().message);
  return vnf::expandCount(*s);
}

void BM_PlanOne(benchmark::State& state) {
  auto host = discover(g_two);
  auto one = specs("name: fw1\nvcpus: 4\nmemory: 4G\nnics:\n  - pf: ens2f0\n    vlan: 100\n");
  for (auto _ : state) {
    auto plan = vnf::planAll(host, {}, one);
    if (!plan) state.SkipWithError(plan.error().message.c_str());
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanOne)->Unit(benchmark::kMicrosecond);

// Plan + render of one VNF (template parsed each time, as one `vnfctl render` does; schema check
// excluded: it is libvirt's RelaxNG, measured by the whole-process comparison).
void BM_PlanRenderOne(benchmark::State& state) {
  auto host = discover(g_two);
  auto one = specs(
      "name: fw1\nvcpus: 4\nmemory: 4G\nnics:\n  - pf: ens2f0\n    vlan: 100\n"
      "guest:\n  kernel: /var/lib/vnfctl/image/vmlinuz\n  initrd: /var/lib/vnfctl/image/initrd.img\n");
  for (auto _ : state) {
    auto plan = vnf::planAll(host, {}, one);
    auto tmpl = vnf::loadTemplate("default", VNF_TEMPLATES);
    if (!plan || !tmpl) {
      state.SkipWithError("plan or template failed");
      break;
    }
    vnf::RenderInput in{&one[0],
                        &plan->front(),
                        vnf::DomainType::kKvm,
                        "4bd13213-a0eb-5d48-9a80-29ea63ee5df6",
                        {"hash", "0.1.0", "", 1, {}},
                        "/var/log/vnfctl/fw1.serial.log",
                        "console=ttyS0"};
    auto xml = vnf::renderDomainXml(*tmpl, in);
    if (!xml) state.SkipWithError(xml.error().message.c_str());
    benchmark::DoNotOptimize(xml);
  }
}
BENCHMARK(BM_PlanRenderOne)->Unit(benchmark::kMicrosecond);

void BM_Plan1000(benchmark::State& state) {
  auto host = discover(g_four);
  std::vector<vnf::VnfSpec> all;
  for (int node = 0; node < 4; ++node) {
    auto d =
        specs(fmt::format("name: d{0}\nvcpus: 2\nmemory: 256M\nhugepages: 2M\ncount: 50\nnics:\n  - pf: p{0}\n", node));
    auto s =
        specs(fmt::format("name: s{0}\nvcpus: 1\ncpu_policy: shared\nmemory: 256M\nhugepages: 2M\ncount: 200\n"
                          "nics:\n  - pf: p{0}\n",
                          node));
    all.insert(all.end(), d.begin(), d.end());
    all.insert(all.end(), s.begin(), s.end());
  }
  for (auto _ : state) {
    auto plan = vnf::planAll(host, {}, all);
    if (!plan) {
      state.SkipWithError(plan.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(plan);
  }
  state.counters["vnfs"] = static_cast<double>(all.size());
}
BENCHMARK(BM_Plan1000)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (i + 1 < argc && std::strcmp(argv[i], "--two-socket") == 0) {
      g_two = argv[++i];
    } else if (i + 1 < argc && std::strcmp(argv[i], "--four-socket") == 0) {
      g_four = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
