#include "discovery/topology_json.h"

#include <fmt/format.h>

namespace vnf {
namespace {

using Json = nlohmann::ordered_json;

std::string hex4(std::uint32_t v) { return fmt::format("0x{:04x}", v); }

Json netdevJson(const NetDev& d) {
  return Json{
      {"name", d.name}, {"mac", d.mac}, {"mtu", d.mtu}, {"operstate", d.operstate}, {"speed_mbps", d.speed_mbps}};
}

Json nicJson(const PciNic& n) {
  Json j{{"address", n.address.str()},
         {"vendor", hex4(n.vendor)},
         {"device", hex4(n.device)},
         {"class", fmt::format("0x{:06x}", n.pci_class)},
         {"driver", n.driver},
         {"numa_node", n.numa_node},
         {"local_cpus", formatCpuList(n.local_cpus)},
         {"iommu_group", n.iommu_group}};
  Json peers = Json::array();
  for (const auto& p : n.iommu_group_peers) peers.push_back(p.str());
  j["iommu_group_peers"] = peers;
  j["kind"] = n.isVf() ? "vf" : n.sriov ? "pf" : "nic";
  if (n.sriov) {
    Json vfs = Json::array();
    for (const auto& vf : n.sriov->vfs) vfs.push_back(Json{{"index", vf.index}, {"address", vf.address.str()}});
    j["sriov"] = Json{{"total_vfs", n.sriov->total_vfs}, {"num_vfs", n.sriov->num_vfs}, {"vfs", vfs}};
  } else {
    j["sriov"] = nullptr;
  }
  j["physfn"] = n.physfn ? Json(n.physfn->str()) : Json(nullptr);
  j["vf_index"] = n.vf_index;
  Json devs = Json::array();
  for (const auto& d : n.netdevs) devs.push_back(netdevJson(d));
  j["netdevs"] = devs;
  return j;
}

}  // namespace

nlohmann::ordered_json toJson(const HostTopology& host) {
  Json params = Json::array();
  for (const auto& [k, v] : host.kernel.params) params.push_back(Json{{"key", k}, {"value", v}});
  Json j;
  j["schema"] = kHostSchema;
  j["kernel"] = Json{{"release", host.kernel.release},
                     {"version", host.kernel.version},
                     {"cmdline", host.kernel.cmdline},
                     {"params", params},
                     {"preempt_rt", host.kernel.preempt_rt}};
  // Only when set, so readers of vnfctl.host/v1 see no new key on hosts where it was read.
  if (!host.kernel.cmdline_error.empty()) j["kernel"]["cmdline_error"] = host.kernel.cmdline_error;
  j["cpu"] = Json{{"vendor", host.cpu_flags.vendor},   {"model_name", host.cpu_flags.model_name},
                  {"vmx", host.cpu_flags.vmx},         {"svm", host.cpu_flags.svm},
                  {"pdpe1gb", host.cpu_flags.pdpe1gb}, {"hypervisor", host.cpu_flags.hypervisor}};
  const auto& p = host.platform;
  j["platform"] = Json{{"dev_kvm", p.dev_kvm},
                       {"dev_vfio", p.dev_vfio},
                       {"vfio_pci_loaded", p.vfio_pci_loaded},
                       {"vfio_pci_available", p.vfio_pci_available},
                       {"iommu_units", p.iommu_units},
                       {"iommu_groups", p.iommu_groups}};
  Json cpus = Json::array();
  for (const auto& c : host.cpus) {
    cpus.push_back(Json{{"id", c.id},
                        {"online", c.online},
                        {"package", c.package},
                        {"die", c.die},
                        {"core", c.core},
                        {"node", c.node},
                        {"siblings", formatCpuList(c.siblings)},
                        {"isolated", c.isolated},
                        {"nohz_full", c.nohz_full}});
  }
  j["cpus"] = cpus;
  Json nodes = Json::array();
  for (const auto& n : host.nodes) {
    Json pools = Json::array();
    for (const auto& hp : n.hugepages) {
      pools.push_back(
          Json{{"page_size_kib", hp.page_size_kib}, {"total", hp.total}, {"free", hp.free}, {"surplus", hp.surplus}});
    }
    nodes.push_back(Json{{"id", n.id},
                         {"cpus", formatCpuList(n.cpus)},
                         {"mem_total_kib", n.mem_total_kib},
                         {"mem_free_kib", n.mem_free_kib},
                         {"distances", n.distances},
                         {"hugepages", pools}});
  }
  j["nodes"] = nodes;
  j["default_hugepage_kib"] = host.default_hugepage_kib;
  Json mounts = Json::array();
  for (const auto& m : host.hugetlbfs) mounts.push_back(Json{{"path", m.path}, {"page_size_kib", m.page_size_kib}});
  j["hugetlbfs"] = mounts;
  Json nics = Json::array();
  for (const auto& n : host.nics) nics.push_back(nicJson(n));
  j["nics"] = nics;
  Json notes = Json::array();
  for (const auto& n : host.notes) notes.push_back(Json{{"path", n.path}, {"message", n.message}});
  j["notes"] = notes;
  return j;
}

}  // namespace vnf
