// PCI network functions: identity, driver, NUMA locality, IOMMU group, SR-IOV, netdevs.
#include <algorithm>
#include <limits>

#include "discovery/reader.h"

namespace vnf::detail {
namespace {

constexpr const char* kPciDevices = "/sys/bus/pci/devices";
constexpr std::uint32_t kNetworkClass = 0x02;  // PCI base class "network controller"

std::string baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// A link whose last component names a PCI function (physfn, virtfnN).
std::optional<PciAddress> linkedAddress(Reader& r, const std::string& link) {
  auto target = r.fs().readLinkTarget(link);
  if (!target) return std::nullopt;
  auto address = parsePciAddress(baseName(*target));
  if (!address) r.note(link, fmt::format("expected a link to a PCI function, found '{}'", *target));
  return address;
}

// Netdevs live in <dev>/net/, or for virtio in <dev>/virtioN/net/.
void readNetdevsIn(Reader& r, const std::string& net_dir, std::vector<NetDev>& out) {
  auto names = r.fs().listDir(net_dir);
  if (!names) return;
  for (const auto& name : *names) {
    const auto base = net_dir + "/" + name + "/";
    NetDev nd;
    nd.name = name;
    nd.mac = r.optionalText(base + "address");
    nd.mtu = static_cast<int>(r.optionalInt(base + "mtu", 0, -1, true));
    nd.operstate = r.optionalText(base + "operstate");
    // The kernel answers EINVAL for the speed of a link that is down: that is "unknown", not news.
    auto speed = r.fs().readText(base + "speed");
    if (speed) {
      auto v = parseInt(*speed);
      nd.speed_mbps = v && *v > 0 ? *v : -1;
    }
    out.push_back(std::move(nd));
  }
}

constexpr std::uint16_t kVirtioVendor = 0x1af4;

std::vector<NetDev> readNetdevs(Reader& r, const std::string& dev, std::uint16_t vendor) {
  std::vector<NetDev> out;
  readNetdevsIn(r, dev + "/net", out);
  if (out.empty() && vendor == kVirtioVendor) {
    // virtio-net puts its netdev one level down, under the virtio device: <dev>/virtioN/net/.
    if (auto entries = r.fs().listDir(dev)) {
      for (const auto& e : *entries) {
        if (e.starts_with("virtio")) readNetdevsIn(r, dev + "/" + e + "/net", out);
      }
    }
  }
  return out;
}

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

// The highest TotalVFs the SR-IOV capability can state (a 16-bit register).
constexpr int kMaxTotalVfs = 65535;

// The function virtfnN points at, when it is a VF of `pf`: not the PF itself, and its physfn
// link points back. Anything else is noted (link and target named) and not offered as a VF.
std::optional<PciAddress> checkedVf(Reader& r, const std::string& link, const PciAddress& pf) {
  auto vf = linkedAddress(r, link);
  if (!vf) return std::nullopt;
  if (*vf == pf) {
    r.note(link, fmt::format("points at {}, the PF itself, not one of its VFs; ignored", vf->str()));
    return std::nullopt;
  }
  auto back = r.fs().readLinkTarget(fmt::format("{}/{}/physfn", kPciDevices, vf->str()));
  auto back_address = back ? parsePciAddress(baseName(*back)) : std::nullopt;
  if (!back_address || *back_address != pf) {
    r.note(link, fmt::format("points at {}, whose physfn {}; not a VF of {}, ignored", vf->str(),
                             back ? fmt::format("points at '{}'", *back) : std::string("link is missing"), pf.str()));
    return std::nullopt;
  }
  return vf;
}

// numa_node, limited to the host's node ids: firmware writes -1 for "unknown", and values such as
// 999999 or 4294967295 (a wrapped -1) are noted and read as unknown, the same for every command.
int numaNodeOf(Reader& r, const HostTopology& host, const std::string& dev) {
  const std::string path = dev + "/numa_node";
  auto node = r.optionalInt(path, -1, -1, false, kNoLimit);
  if (node >= 0 && !host.node(static_cast<int>(node))) {
    std::string ids;
    for (const auto& n : host.nodes) ids += (ids.empty() ? "" : ",") + std::to_string(n.id);
    r.note(path, fmt::format("NUMA node {} is not a node of this host (nodes {}); treated as unknown (-1)", node,
                             ids.empty() ? "none" : ids));
    return -1;
  }
  return static_cast<int>(node);
}

}  // namespace

void discoverPci(Reader& r, HostTopology& host) {
  auto names = r.fs().listDir(kPciDevices);
  if (!names) {
    r.note(kPciDevices, names.error().message + "; no PCI devices discovered");
    return;
  }
  for (const auto& name : *names) {
    const std::string dev = std::string(kPciDevices) + "/" + name;
    auto address = parsePciAddress(name);
    if (!address) {
      r.note(dev, "expected a PCI address such as 0000:81:00.0 as the name; ignored");
      continue;
    }
    auto class_text = r.fs().readText(dev + "/class");
    if (!class_text) {
      r.note(dev + "/class", class_text.error().message + "; device ignored");
      continue;
    }
    auto pci_class = parseHex(*class_text);
    if (!pci_class) {
      r.note(dev + "/class", fmt::format("expected a hex class such as 0x020000, found '{}'; device ignored",
                                         trim(*class_text).substr(0, 20)));
      continue;
    }
    if ((*pci_class >> 16) != kNetworkClass) continue;

    PciNic nic;
    nic.address = *address;
    nic.pci_class = static_cast<std::uint32_t>(*pci_class);
    auto id = [&](const char* file) -> std::uint16_t {
      auto text = r.fs().readText(dev + "/" + file);
      if (!text) return 0;
      auto v = parseHex(*text);
      if (!v || *v > 0xffff) {
        r.note(dev + "/" + file,
               fmt::format("expected a hex id such as 0x8086, found '{}'; treated as 0", trim(*text).substr(0, 20)));
        return 0;
      }
      return static_cast<std::uint16_t>(*v);
    };
    nic.vendor = id("vendor");
    nic.device = id("device");
    if (auto drv = r.fs().readLinkTarget(dev + "/driver")) nic.driver = baseName(*drv);
    nic.numa_node = numaNodeOf(r, host, dev);
    nic.local_cpus = r.optionalCpuList(dev + "/local_cpulist");
    if (auto group = r.fs().readLinkTarget(dev + "/iommu_group")) {
      auto number = parseInt(baseName(*group));
      if (number && *number >= 0 && *number <= Reader::kMaxInt) {
        nic.iommu_group = static_cast<int>(*number);
        if (auto members = r.fs().listDir(fmt::format("/sys/kernel/iommu_groups/{}/devices", *number))) {
          for (const auto& m : *members) {
            auto peer = parsePciAddress(m);
            if (peer && *peer != nic.address) nic.iommu_group_peers.push_back(*peer);
          }
        }
      } else {
        r.note(dev + "/iommu_group", fmt::format("expected a link to an IOMMU group number, found '{}'", *group));
      }
    }
    auto total = r.optionalInt(dev + "/sriov_totalvfs", 0, -1, false, kMaxTotalVfs);
    if (total > 0) {
      SriovInfo sriov;
      sriov.total_vfs = static_cast<int>(total);
      const auto num_vfs = r.optionalInt(dev + "/sriov_numvfs", 0, 0, true, kNoLimit);
      // More VFs than the PF can have (4294967295 is a wrapped -1): the links decide, up to totalvfs.
      const bool over = num_vfs > sriov.total_vfs;
      sriov.num_vfs = static_cast<int>(std::min<std::int64_t>(num_vfs, sriov.total_vfs));
      // The kernel makes virtfn0..virtfn(numvfs-1); read them by name rather than listing the device.
      for (int i = 0; i < std::min(sriov.num_vfs, sriov.total_vfs); ++i) {
        const auto link = fmt::format("{}/virtfn{}", dev, i);
        if (over && !r.fs().exists(link)) break;
        if (auto vf = checkedVf(r, link, nic.address)) sriov.vfs.push_back({i, *vf});
      }
      if (over) {
        r.note(dev + "/sriov_numvfs", fmt::format("says {} VFs, more than sriov_totalvfs {}; treated as {} (the "
                                                  "virtfn links found)",
                                                  num_vfs, sriov.total_vfs, sriov.vfs.size()));
        sriov.num_vfs = static_cast<int>(sriov.vfs.size());
      } else if (static_cast<int>(sriov.vfs.size()) != sriov.num_vfs) {
        r.note(dev + "/sriov_numvfs",
               fmt::format("says {} VFs (of {}) but {} virtfn links lead to its VFs; those are used", sriov.num_vfs,
                           sriov.total_vfs, sriov.vfs.size()));
      }
      nic.sriov = std::move(sriov);
    }
    nic.physfn = linkedAddress(r, dev + "/physfn");
    nic.netdevs = readNetdevs(r, dev, nic.vendor);
    host.nics.push_back(std::move(nic));
  }
  host.finishNics();
}

}  // namespace vnf::detail
