#include "prep/steps.h"

#include <fmt/format.h>

namespace vnf::prep {
namespace {

constexpr std::pair<StepKind, const char*> kNames[] = {
    {StepKind::kNumVfs, "numvfs"},
    {StepKind::kVfMac, "vf-mac"},
    {StepKind::kVfVlan, "vf-vlan"},
    {StepKind::kVfTrust, "vf-trust"},
    {StepKind::kVfSpoofchk, "vf-spoofchk"},
    {StepKind::kDriver, "driver"},
    {StepKind::kHugepages, "hugepages"},
    {StepKind::kMount, "mount"},
    {StepKind::kFile, "file"},
};

std::string shown(const std::string& v) { return v.empty() ? "(none)" : v; }

std::string nicNames(const HostTopology& host) {
  std::string out;
  for (const auto& n : host.nics) {
    if (n.isVf()) continue;
    out += (out.empty() ? "" : ", ") + n.address.str();
    if (!n.netdevs.empty()) out += " (" + n.netdevs[0].name + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

const char* stepKindName(StepKind kind) {
  for (const auto& [k, n] : kNames) {
    if (k == kind) return n;
  }
  return "?";
}

std::optional<StepKind> stepKindFromName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (name == n) return k;
  }
  return std::nullopt;
}

std::string describe(const Step& s) {
  const auto vf = fmt::format("{} VF {}", s.target, s.vf);
  switch (s.kind) {
    case StepKind::kNumVfs: return fmt::format("{} sriov_numvfs: {} -> {}", s.target, shown(s.from), s.to);
    case StepKind::kVfMac: return fmt::format("{} mac: {} -> {}", vf, shown(s.from), s.to);
    case StepKind::kVfVlan: return fmt::format("{} vlan: {} -> {}", vf, shown(s.from), s.to);
    case StepKind::kVfTrust: return fmt::format("{} trust: {} -> {}", vf, shown(s.from), s.to);
    case StepKind::kVfSpoofchk: return fmt::format("{} spoofchk: {} -> {}", vf, shown(s.from), s.to);
    case StepKind::kDriver: return fmt::format("{} driver: {} -> {}", vf, shown(s.from), shown(s.to));
    case StepKind::kHugepages: return fmt::format("{}: {} -> {}", s.target, shown(s.from), s.to);
    case StepKind::kMount:
      return s.to.empty() ? fmt::format("unmount hugetlbfs {}", s.target)
                          : fmt::format("mount hugetlbfs pagesize={} at {}", s.to, s.target);
    case StepKind::kFile:
      return fmt::format("write {}{}", s.target, s.from.empty() && s.note == "absent" ? " (new)" : "");
  }
  return "?";
}

int defaultHugepageNode(const HostTopology& host, const PrepareSpec& spec) {
  for (const auto& pf : spec.pfs) {
    if (const auto* nic = host.findNic(pf.pf); nic && nic->numa_node >= 0) return nic->numa_node;
  }
  return host.nodes.empty() ? 0 : host.nodes.front().id;
}

Result<std::vector<Step>> desiredSteps(const HostTopology& host, const PrepareSpec& spec) {
  std::vector<std::string> problems;
  std::vector<Step> numvfs, settings, drivers, pages, mounts;
  bool vfio_needed = false;
  for (const auto& pf : spec.pfs) {
    const PciNic* nic = host.findNic(pf.pf);
    if (!nic) {
      problems.push_back(fmt::format("PF '{}' not found (NICs on this host: {})", pf.pf, nicNames(host)));
      continue;
    }
    const auto addr = nic->address.str();
    if (nic->isVf()) {
      problems.push_back(
          fmt::format("'{}' ({}) is a VF of {}, not a PF: VFs cannot have VFs", pf.pf, addr, nic->physfn->str()));
      continue;
    }
    if (!nic->sriov) {
      problems.push_back(fmt::format(
          "PF '{}' ({}, driver {}) is not SR-IOV capable: it has no sriov_totalvfs; "
          "use a NIC that lists /sys/bus/pci/devices/<pf>/sriov_totalvfs, or enable SR-IOV in the BIOS/firmware",
          pf.pf, addr, nic->driver.empty() ? "none" : nic->driver));
      continue;
    }
    if (pf.num_vfs > nic->sriov->total_vfs) {
      problems.push_back(
          fmt::format("PF '{}' ({}) can have at most {} VFs (sriov_totalvfs), asked {}: ask for {} or fewer", pf.pf,
                      addr, nic->sriov->total_vfs, pf.num_vfs, nic->sriov->total_vfs));
      continue;
    }
    if (!pf.vfs.empty() && nic->netdevs.empty()) {
      problems.push_back(
          fmt::format("PF '{}' ({}) has no netdev (driver '{}'): VF settings need the PF bound to its "
                      "kernel driver",
                      pf.pf, addr, nic->driver.empty() ? "none" : nic->driver));
    }
    numvfs.push_back({StepKind::kNumVfs, addr, -1, "", std::to_string(pf.num_vfs), ""});
    for (const auto& vf : pf.vfs) {
      if (vf.index >= pf.num_vfs) {
        problems.push_back(fmt::format("PF '{}': settings for VF {} but only {} VFs asked (indexes 0..{})", pf.pf,
                                       vf.index, pf.num_vfs, pf.num_vfs - 1));
        continue;
      }
      if (vf.mac) settings.push_back({StepKind::kVfMac, addr, vf.index, "", formatMac(*vf.mac), ""});
      if (vf.vlan) settings.push_back({StepKind::kVfVlan, addr, vf.index, "", std::to_string(*vf.vlan), ""});
      if (vf.trust) settings.push_back({StepKind::kVfTrust, addr, vf.index, "", *vf.trust ? "on" : "off", ""});
      if (vf.spoofchk) settings.push_back({StepKind::kVfSpoofchk, addr, vf.index, "", *vf.spoofchk ? "on" : "off", ""});
    }
    if (pf.vfio) {
      vfio_needed = vfio_needed || pf.num_vfs > 0;
      for (int i = 0; i < pf.num_vfs; ++i) drivers.push_back({StepKind::kDriver, addr, i, "", "vfio-pci", ""});
    }
  }
  if (vfio_needed && !host.platform.vfio_pci_loaded) {
    problems.push_back(
        "vfio-pci is not loaded (no /sys/bus/pci/drivers/vfio-pci): load it with `modprobe vfio-pci` "
        "(and list it in /etc/modules-load.d/ to keep it across reboots)");
  }
  if (vfio_needed && host.platform.iommu_groups == 0) {
    problems.push_back(
        "the IOMMU is off (no /sys/kernel/iommu_groups entries): vfio-pci needs it; add "
        "`intel_iommu=on iommu=pt` (AMD: `amd_iommu=on iommu=pt`) to the kernel command line "
        "(`vnfctl prepare --persist` writes it), run update-grub and reboot");
  }
  const int default_node = defaultHugepageNode(host, spec);
  for (const auto& h : spec.hugepages) {
    const int node_id = h.node >= 0 ? h.node : default_node;
    const NumaNode* node = host.node(node_id);
    const auto size = pageSizeName(h.page_size_kib);
    if (!node) {
      problems.push_back(
          fmt::format("hugepages: NUMA node {} does not exist on this host ({} node(s))", node_id, host.nodes.size()));
      continue;
    }
    if (!node->pool(h.page_size_kib)) {
      problems.push_back(fmt::format(
          "hugepages: node {} has no {} pool (no hugepages-{}kB directory): {}", node_id, size, h.page_size_kib,
          h.page_size_kib == 1048576 ? "the CPU lacks pdpe1gb or the kernel lacks gigantic pages; use 2M"
                                     : "the kernel lacks hugetlb support"));
      continue;
    }
    pages.push_back(
        {StepKind::kHugepages,
         fmt::format("/sys/devices/system/node/node{}/hugepages/hugepages-{}kB/nr_hugepages", node_id, h.page_size_kib),
         -1, "", std::to_string(h.count), std::to_string(node_id)});
    bool mounted = false;
    for (const auto& m : host.hugetlbfs) {
      const auto kib = m.page_size_kib ? m.page_size_kib : host.default_hugepage_kib;
      if (kib == h.page_size_kib && (h.mount.empty() || h.mount == m.path)) mounted = true;
    }
    if (!mounted && h.count > 0) {
      const auto dir = h.mount.empty() ? "/dev/hugepages-" + size : h.mount;
      bool dup = false;
      for (const auto& m : mounts) dup = dup || m.target == dir;
      if (!dup) mounts.push_back({StepKind::kMount, dir, -1, "", size, ""});
    }
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  - " + p;
    return fail(problems.size() == 1 && problems[0].starts_with("vfio-pci") ? Errc::kNotFound : Errc::kInvalidArgument,
                fmt::format("cannot prepare the host, nothing was changed ({} problem(s)):{}", problems.size(), all),
                problems.size() == 1 && problems[0].starts_with("vfio-pci") ? "modprobe vfio-pci" : "");
  }
  std::vector<Step> out;
  for (auto* group : {&numvfs, &settings, &drivers, &pages, &mounts})
    out.insert(out.end(), group->begin(), group->end());
  return out;
}

}  // namespace vnf::prep
