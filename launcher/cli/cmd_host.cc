// `vnfctl host`: the host's topology as a NUMA map, or JSON (schema vnfctl.host/v1).
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/load.h"
#include "discovery/topology_json.h"

namespace vnf::cli {
namespace {

std::string gib(std::uint64_t kib) { return fmt::format("{:.1f} GiB", static_cast<double>(kib) / (1024.0 * 1024.0)); }

std::string nicLine(const PciNic& n) {
  std::string line = fmt::format("{} {:04x}:{:04x} {}", n.address.str(), n.vendor, n.device,
                                 n.driver.empty() ? "(no driver)" : n.driver);
  for (const auto& d : n.netdevs) {
    line += fmt::format("  {} {} mtu {} {}", d.name, d.mac, d.mtu, d.operstate);
    if (d.speed_mbps > 0) line += fmt::format(" {}Mb/s", d.speed_mbps);
  }
  line += n.iommu_group >= 0 ? fmt::format("  iommu group {}", n.iommu_group) : "  no iommu group";
  if (!n.iommu_group_peers.empty()) line += fmt::format(" (+{} devices)", n.iommu_group_peers.size());
  return line;
}

void printNic(const HostTopology& host, const PciNic& n, const std::string& indent) {
  std::printf("%snic %s\n", indent.c_str(), nicLine(n).c_str());
  if (!n.sriov) return;
  std::printf("%s    SR-IOV: %d of %d VFs\n", indent.c_str(), n.sriov->num_vfs, n.sriov->total_vfs);
  for (const auto& ref : n.sriov->vfs) {
    const PciNic* vf = host.nic(ref.address);
    std::string what = vf ? (vf->driver.empty() ? "(no driver)" : vf->driver) : "(not listed)";
    if (vf && !vf->netdevs.empty()) what += " " + vf->netdevs.front().name + " " + vf->netdevs.front().mac;
    std::printf("%s      vf%-3d %s %s\n", indent.c_str(), ref.index, ref.address.str().c_str(), what.c_str());
  }
}

// Cores as SMT groups: "[0,32] [1,33]*"; * marks isolated CPUs, ! offline ones.
std::string coreMap(const HostTopology& host, const NumaNode& node) {
  std::set<int> seen;
  std::string out;
  for (int id : node.cpus) {
    if (seen.contains(id)) continue;
    const Cpu* c = host.cpu(id);
    std::vector<int> group = c && !c->siblings.empty() ? c->siblings : std::vector<int>{id};
    std::string cell;
    for (int s : group) {
      seen.insert(s);
      const Cpu* sc = host.cpu(s);
      cell += fmt::format("{}{}{}", cell.empty() ? "" : ",", s, sc && sc->isolated ? "*" : "");
    }
    out += (out.empty() ? "" : " ") + (group.size() > 1 ? "[" + cell + "]" : cell);
  }
  return out;
}

void printHuman(const HostTopology& host) {
  const auto& k = host.kernel;
  const auto& f = host.cpu_flags;
  std::size_t online = 0;
  for (const auto& c : host.cpus) online += c.online;
  std::printf("host: Linux %s%s, %s\n", k.release.c_str(), k.preempt_rt ? " (PREEMPT_RT)" : "",
              f.model_name.empty() ? "CPU model unknown" : f.model_name.c_str());
  std::printf("cpus: %zu online of %zu, %zu NUMA node(s); virtualization: %s; /dev/kvm %s\n", online, host.cpus.size(),
              host.nodes.size(),
              f.vmx   ? "vmx"
              : f.svm ? "svm"
                      : "none (TCG only)",
              host.platform.dev_kvm ? "present" : "missing");
  std::printf("iommu: %s, %d groups; vfio-pci %s\n",
              host.platform.iommu_units.empty() ? "no units"
                                                : fmt::format("{} unit(s)", host.platform.iommu_units.size()).c_str(),
              host.platform.iommu_groups,
              host.platform.vfio_pci_loaded      ? "loaded"
              : host.platform.vfio_pci_available ? "available"
                                                 : "missing");
  if (k.cmdline_error.empty()) {
    std::printf("cmdline: %s\n", k.cmdline.c_str());
  } else {
    std::printf("cmdline: unknown (%s)\n", k.cmdline_error.c_str());
  }
  std::set<PciAddress> shown;
  for (const auto& node : host.nodes) {
    std::printf("\nnode %d: %zu CPUs, memory %s (%s free)", node.id, node.cpus.size(), gib(node.mem_total_kib).c_str(),
                gib(node.mem_free_kib).c_str());
    if (node.distances.size() > 1) {
      std::string d;
      for (int x : node.distances) d += fmt::format("{}{}", d.empty() ? "" : " ", x);
      std::printf(", distances %s", d.c_str());
    }
    std::printf("\n  cores: %s\n", coreMap(host, node).c_str());
    std::string pools;
    for (const auto& p : node.hugepages) {
      pools += fmt::format("{}{}: {} reserved, {} free", pools.empty() ? "" : "; ", pageSizeName(p.page_size_kib),
                           p.total, p.free);
    }
    std::printf("  hugepages: %s\n", pools.empty() ? "none" : pools.c_str());
    for (const auto& n : host.nics) {
      if (n.numa_node != node.id || n.isVf()) continue;
      printNic(host, n, "  ");
      shown.insert(n.address);
    }
  }
  bool header = false;
  for (const auto& n : host.nics) {
    if (n.isVf() || shown.contains(n.address)) continue;
    if (!header) std::printf("\nNICs with no NUMA node reported:\n");
    header = true;
    printNic(host, n, "  ");
  }
  std::printf("\nhugetlbfs:");
  if (host.hugetlbfs.empty()) std::printf(" not mounted");
  for (const auto& m : host.hugetlbfs)
    std::printf(" %s (%s pages)", m.path.c_str(), pageSizeName(m.page_size_kib).c_str());
  std::printf("\nlegend: [a,b] SMT siblings of one core, * isolated CPU\n");
  if (!host.notes.empty()) {
    std::printf("\nnotes (host files that could not be read as expected):\n");
    for (const auto& n : host.notes) std::printf("  %s: %s\n", n.path.c_str(), n.message.c_str());
  }
}

}  // namespace

void addHostCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand("host", "Show the host: NUMA nodes, CPUs and SMT siblings, hugepages, NICs and VFs");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON (schema vnfctl.host/v1, docs/host-json.md)");
  cmd->callback([&global, &run, json] {
    run = [&global, json]() -> int {
      auto host = loadHostFor(global);
      if (!host) {
        printError(host.error());
        return exitCodeFor(host.error());
      }
      if (*json) return printOutput(toJson(*host).dump(2) + "\n");
      printHuman(*host);
      return kExitOk;
    };
  });
}

}  // namespace vnf::cli
