#include "discovery/topology.h"

#include <algorithm>

namespace vnf {

std::optional<std::string> KernelInfo::param(std::string_view key) const {
  std::optional<std::string> found;
  for (const auto& [k, v] : params) {
    if (k == key) found = v;
  }
  return found;
}

const HugePagePool* NumaNode::pool(std::uint64_t page_size_kib) const {
  for (const auto& p : hugepages) {
    if (p.page_size_kib == page_size_kib) return &p;
  }
  return nullptr;
}

const Cpu* HostTopology::cpu(int id) const {
  auto it = std::lower_bound(cpus.begin(), cpus.end(), id, [](const Cpu& c, int v) { return c.id < v; });
  return it != cpus.end() && it->id == id ? &*it : nullptr;
}

const NumaNode* HostTopology::node(int id) const {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

const PciNic* HostTopology::nic(const PciAddress& address) const {
  auto it = std::lower_bound(nics.begin(), nics.end(), address,
                             [](const PciNic& n, const PciAddress& a) { return n.address < a; });
  return it != nics.end() && it->address == address ? &*it : nullptr;
}

const PciNic* HostTopology::findNic(std::string_view name_or_address) const {
  if (auto address = parsePciAddress(name_or_address)) return nic(*address);
  for (const auto& n : nics) {
    for (const auto& d : n.netdevs) {
      if (d.name == name_or_address) return &n;
    }
  }
  return nullptr;
}

std::vector<int> HostTopology::isolatedCpus() const {
  std::vector<int> out;
  for (const auto& c : cpus) {
    if (c.isolated) out.push_back(c.id);
  }
  return out;
}

void HostTopology::finishNics() {
  std::sort(nics.begin(), nics.end(), [](const PciNic& a, const PciNic& b) { return a.address < b.address; });
  for (auto& n : nics) {
    if (!n.physfn) continue;
    if (const auto* pf = nic(*n.physfn); pf && pf->sriov) {
      for (const auto& vf : pf->sriov->vfs) {
        if (vf.address == n.address) n.vf_index = vf.index;
      }
    }
  }
}

}  // namespace vnf
