// `vnfctl plan SPEC...`: where each VNF would go, why, and what stays free. Changes nothing.
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/spec_args.h"
#include "planning/plan.h"

namespace vnf::cli {
namespace {

using Json = nlohmann::ordered_json;

Json placementJson(const Placement& p) {
  Json vfs = Json::array();
  for (const auto& v : p.vfs) {
    vfs.push_back({{"nic", v.nic_index},
                   {"pf", v.pf.str()},
                   {"vf", v.vf.str()},
                   {"vf_index", v.vf_index},
                   {"driver", v.vf_driver},
                   {"numa_node", v.numa_node}});
  }
  return Json{{"name", p.name},
              {"node", p.node},
              {"vcpu_pins", p.vcpu_pins},
              {"shared_cpus", formatCpuList(p.shared_cpus)},
              {"emulator_cpus", formatCpuList(p.emulator_cpus)},
              {"memory_kib", p.memory_kib},
              {"page_size_kib", p.page_size_kib},
              {"hugepages", p.hugepages},
              {"guest_topology", {{"cores", p.guest_cores}, {"threads", p.guest_threads}}},
              {"vfs", vfs},
              {"reasons", p.reasons}};
}

// The NUMA map after placement: each core with the VNF that has it; h = housekeeping.
void printMap(const HostTopology& host, const std::vector<Placement>& plan) {
  std::map<int, std::string> owner;
  for (const auto& p : plan) {
    for (int c : p.vcpu_pins) owner[c] = p.name;
  }
  std::printf("\nNUMA map after placement (h: housekeeping, *: isolated, .: free):\n");
  for (const auto& node : host.nodes) {
    auto hk = housekeepingCpus(host, node.id);
    std::set<int> seen;
    std::string line;
    for (int id : node.cpus) {
      if (seen.contains(id)) continue;
      const Cpu* c = host.cpu(id);
      auto group = c && !c->siblings.empty() ? c->siblings : std::vector<int>{id};
      std::string cell, who;
      for (int t : group) {
        seen.insert(t);
        const Cpu* tc = host.cpu(t);
        cell += fmt::format("{}{}{}", cell.empty() ? "" : ",", t, tc && tc->isolated ? "*" : "");
        if (auto it = owner.find(t); it != owner.end()) who = it->second;
      }
      bool is_hk = std::binary_search(hk.begin(), hk.end(), group.front());
      line += fmt::format(" [{}]{}", cell, !who.empty() ? who : is_hk ? "h" : ".");
    }
    std::printf("  node %d:%s\n", node.id, line.c_str());
    std::string pages;
    for (const auto& pool : node.hugepages) {
      std::uint64_t taken = 0;
      for (const auto& p : plan) {
        if (p.node == node.id && p.page_size_kib == pool.page_size_kib) taken += p.hugepages;
      }
      if (pool.total || taken) {
        pages += fmt::format("{}{}: {} free, {} planned", pages.empty() ? "" : "; ", pageSizeName(pool.page_size_kib),
                             pool.free, taken);
      }
    }
    if (!pages.empty()) std::printf("          hugepages %s\n", pages.c_str());
  }
}

void printHuman(const HostTopology& host, const std::vector<Placement>& plan) {
  for (const auto& p : plan) {
    std::printf("%s -> node %d\n", p.name.c_str(), p.node);
    if (!p.vcpu_pins.empty()) {
      std::string pins;
      for (std::size_t i = 0; i < p.vcpu_pins.size(); ++i)
        pins += fmt::format("{}{}->{}", i ? " " : "", i, p.vcpu_pins[i]);
      std::printf("  vCPUs     %s (guest topology %d cores x %d threads)\n", pins.c_str(), p.guest_cores,
                  p.guest_threads);
    } else {
      std::printf("  vCPUs     shared on CPUs %s\n", formatCpuList(p.shared_cpus).c_str());
    }
    std::printf("  emulator  CPUs %s\n", formatCpuList(p.emulator_cpus).c_str());
    if (p.page_size_kib) {
      std::printf("  memory    %llu MiB as %llu x %s hugepages on node %d\n",
                  static_cast<unsigned long long>(p.memory_kib / 1024), static_cast<unsigned long long>(p.hugepages),
                  pageSizeName(p.page_size_kib).c_str(), p.node);
    } else {
      std::printf("  memory    %llu MiB (normal pages, strict on node %d)\n",
                  static_cast<unsigned long long>(p.memory_kib / 1024), p.node);
    }
    for (const auto& v : p.vfs) {
      std::printf("  nic%d      VF %s (vf%d of %s, %s, node %d)\n", v.nic_index, v.vf.str().c_str(), v.vf_index,
                  v.pf.str().c_str(), v.vf_driver.empty() ? "no driver" : v.vf_driver.c_str(), v.numa_node);
    }
    std::printf("  why:\n");
    for (const auto& r : p.reasons) std::printf("    - %s\n", r.c_str());
  }
  printMap(host, plan);
}

}  // namespace

void addPlanCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand(
      "plan", "Plan where VNFs go (CPUs, memory, VFs per NUMA node) and explain why; changes nothing");
  auto args = std::make_shared<SpecArgs>();
  auto json = std::make_shared<bool>(false);
  addSpecOptions(cmd, *args);
  cmd->add_flag("--json", *json, "Print JSON (schema vnfctl.plan/v1)");
  cmd->callback([&global, &run, args, json] {
    run = [&global, args, json]() -> int {
      auto specs = gatherSpecs(*args);
      if (!specs) {
        printError(specs.error());
        return exitCodeFor(specs.error());
      }
      auto host = loadHostFor(global);
      if (!host) {
        printError(host.error());
        return exitCodeFor(host.error());
      }
      auto plan = planAll(*host, existingAllocations(global), *specs);
      if (!plan) {
        printError(plan.error());
        return exitCodeFor(plan.error());
      }
      if (*json) {
        Json j{{"schema", "vnfctl.plan/v1"}, {"placements", Json::array()}};
        for (const auto& p : *plan) j["placements"].push_back(placementJson(p));
        return printOutput(j.dump(2) + "\n");
      }
      printHuman(*host, *plan);
      return kExitOk;
    };
  });
}

}  // namespace vnf::cli
