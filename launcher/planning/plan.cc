#include "planning/plan.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace vnf {
namespace {

const char* smtName(SmtPolicy p) {
  switch (p) {
    case SmtPolicy::kPrefer: return "prefer";
    case SmtPolicy::kIsolate: return "isolate";
    case SmtPolicy::kRequire: return "require";
  }
  return "?";
}

std::string nicName(const PciNic& n) {
  return n.netdevs.empty() ? n.address.str() : fmt::format("{} ({})", n.address.str(), n.netdevs.front().name);
}

// The node a NIC's traffic is local to; -1 unknown. A single-node host has only node 0.
int nicNode(const HostTopology& host, const PciNic& nic) {
  if (nic.numa_node >= 0) return nic.numa_node;
  return host.nodes.size() == 1 ? host.nodes.front().id : -1;
}

struct Core {
  std::vector<int> threads;  // online CPUs of the core, sorted
};

// Everything the planner tracks while placing instances one after another. The topology-derived
// parts (cores per node, housekeeping CPUs, VF candidates per PF) are computed once per run.
struct State {
  const HostTopology& host;
  Allocations used;
  std::vector<char> busy;                                     // by CPU id: pinned by a VNF
  std::vector<char> housekeeping;                             // by CPU id
  std::map<int, std::vector<int>> housekeeping_of;            // per node
  std::map<int, std::vector<Core>> cores_of;                  // per node: online cores in CPU order
  std::map<PciAddress, std::vector<const PciNic*>> vf_order;  // per PF: vfio-pci first, then index
  std::map<PciAddress, std::size_t> vf_cursor;                // per PF: candidates before it are taken

  State(const HostTopology& h, const Allocations& existing) : host(h), used(existing) {
    int max_id = h.cpus.empty() ? 0 : h.cpus.back().id;
    busy.assign(max_id + 1, 0);
    housekeeping.assign(max_id + 1, 0);
    for (int c : used.cpus) {
      if (c >= 0 && c <= max_id) busy[c] = 1;
    }
    for (const auto& node : h.nodes) {
      auto hk = housekeepingCpus(h, node.id);
      for (int c : hk) housekeeping[c] = 1;
      housekeeping_of[node.id] = hk;
      auto& cores = cores_of[node.id];
      std::set<int> seen;
      for (int id : node.cpus) {
        if (seen.contains(id)) continue;
        const Cpu* cpu = h.cpu(id);
        if (!cpu || !cpu->online) continue;
        Core core;
        for (int t : cpu->siblings.empty() ? std::vector<int>{id} : cpu->siblings) {
          seen.insert(t);
          const Cpu* tc = h.cpu(t);
          if (tc && tc->online) core.threads.push_back(t);
        }
        if (!core.threads.empty()) cores.push_back(std::move(core));
      }
    }
  }

  void take(const Placement& p) {
    used.add(p, false);
    for (int c : p.vcpu_pins) busy[c] = 1;
  }
};

// Free whole cores of a node, in CPU order: no housekeeping thread, no thread in use.
std::vector<const Core*> freeCores(const State& s, int node_id) {
  std::vector<const Core*> out;
  auto it = s.cores_of.find(node_id);
  if (it == s.cores_of.end()) return out;
  for (const auto& core : it->second) {
    bool free =
        std::none_of(core.threads.begin(), core.threads.end(), [&](int t) { return s.busy[t] || s.housekeeping[t]; });
    if (free) out.push_back(&core);
  }
  return out;
}

struct NicChoice {
  std::vector<VfAssignment> vfs;
  std::vector<std::string> problems;  // host-level problems, independent of the node
};

// Picks a VF for each NIC of the spec: a requested index, else the first free one, preferring VFs
// already bound to vfio-pci (prepared), then the lowest index.
NicChoice chooseVfs(State& s, const VnfSpec& spec) {
  NicChoice out;
  std::set<PciAddress> mine;  // VFs this VNF took already (one per NIC)
  auto taken = [&](const PciAddress& a) { return s.used.vfs.contains(a) || mine.contains(a); };
  for (std::size_t i = 0; i < spec.nics.size(); ++i) {
    const auto& want = spec.nics[i];
    const PciNic* pf = s.host.findNic(want.pf);
    if (!pf) {
      std::vector<std::string> names;
      for (const auto& n : s.host.nics) {
        if (!n.sriov) continue;
        names.push_back(n.address.str());
        for (const auto& d : n.netdevs) names.push_back(d.name);
      }
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      out.problems.push_back(fmt::format("nics[{}].pf: no NIC '{}' on this host; SR-IOV PFs here: {}", i, want.pf,
                                         list.empty() ? "none" : list));
      continue;
    }
    if (pf->isVf()) {
      out.problems.push_back(
          fmt::format("nics[{}].pf: {} is itself a VF of {}; name its PF instead", i, nicName(*pf), pf->physfn->str()));
      continue;
    }
    if (!pf->sriov) {
      out.problems.push_back(
          fmt::format("nics[{}].pf: {} is not SR-IOV capable (driver {}, no sriov_totalvfs); use "
                      "an SR-IOV NIC, or a tap/virtio NIC for this port",
                      i, nicName(*pf), pf->driver.empty() ? "no driver" : pf->driver));
      continue;
    }
    auto& order = s.vf_order[pf->address];
    if (order.empty()) {
      for (const auto& ref : pf->sriov->vfs) {
        if (const PciNic* vf = s.host.nic(ref.address)) order.push_back(vf);
      }
      std::stable_sort(order.begin(), order.end(), [](const PciNic* a, const PciNic* b) {
        return (a->driver == "vfio-pci") > (b->driver == "vfio-pci");
      });
    }
    const PciNic* chosen = nullptr;
    if (want.vf) {
      for (const PciNic* vf : order) {
        if (vf->vf_index == *want.vf && !taken(vf->address)) chosen = vf;
      }
    } else {
      // VFs are only ever taken during a run, so the ones before the cursor stay taken.
      auto& cursor = s.vf_cursor[pf->address];
      while (cursor < order.size() && s.used.vfs.contains(order[cursor]->address)) ++cursor;
      for (std::size_t k = cursor; k < order.size() && !chosen; ++k) {
        if (!taken(order[k]->address)) chosen = order[k];
      }
    }
    if (!chosen) {
      if (want.vf) {
        bool exists = std::any_of(pf->sriov->vfs.begin(), pf->sriov->vfs.end(),
                                  [&](const VfRef& r) { return r.index == *want.vf; });
        out.problems.push_back(exists ? fmt::format("nics[{}].vf: VF {} of {} is already used by another VNF; leave vf "
                                                    "out to take any free VF",
                                                    i, *want.vf, nicName(*pf))
                                      : fmt::format("nics[{}].vf: {} has no VF {} (it has {} VFs); create more with: "
                                                    "echo {} > /sys/bus/pci/devices/{}/sriov_numvfs",
                                                    i, nicName(*pf), *want.vf, pf->sriov->num_vfs,
                                                    std::min(*want.vf + 1, pf->sriov->total_vfs), pf->address.str()));
      } else {
        out.problems.push_back(
            fmt::format("nics[{}].pf: {} has no free VF ({} VFs, all in use{}); create more (up to {}) with: echo {} > "
                        "/sys/bus/pci/devices/{}/sriov_numvfs",
                        i, nicName(*pf), pf->sriov->num_vfs, pf->sriov->num_vfs ? "" : ": none created yet",
                        pf->sriov->total_vfs, pf->sriov->total_vfs, pf->address.str()));
      }
      continue;
    }
    const PciNic* vf = chosen;
    mine.insert(vf->address);
    out.vfs.push_back(VfAssignment{static_cast<int>(i), pf->address, vf->address, vf->vf_index, vf->driver,
                                   vf->numa_node >= 0 ? vf->numa_node : nicNode(s.host, *pf)});
  }
  return out;
}

struct NormalMemory {
  std::uint64_t hugepages_kib = 0;  // reserved as hugepages on the node, every size
  std::uint64_t held_kib = 0;       // held by other VMs: on the node, and bound to no node
  std::uint64_t unbound_kib = 0;    // the part of held_kib bound to no node
  std::uint64_t free_kib = 0;       // what is left for a VNF on normal pages
};

// MemTotal - hugepages (total x size) - host reserve - held. MemFree is not used: it already lacks
// running VMs' memory, which `held` counts again.
NormalMemory normalMemory(const State& s, const NumaNode& node) {
  NormalMemory m;
  for (const auto& pool : node.hugepages) m.hugepages_kib += pool.total * pool.page_size_kib;
  if (auto it = s.used.memory_kib.find(node.id); it != s.used.memory_kib.end()) m.held_kib += it->second;
  if (auto it = s.used.memory_kib.find(-1); it != s.used.memory_kib.end()) m.unbound_kib = it->second;
  m.held_kib += m.unbound_kib;
  const std::uint64_t taken = m.hugepages_kib + s.used.host_reserve_kib + m.held_kib;
  m.free_kib = node.mem_total_kib > taken ? node.mem_total_kib - taken : 0;
  return m;
}

// Tries one node; returns the placement, or why it does not fit (one line per reason).
std::optional<Placement> tryNode(State& s, const VnfSpec& spec, const NicChoice& nics, const NumaNode& node,
                                 std::vector<std::string>& why) {
  Placement p;
  p.name = spec.name;
  p.node = node.id;
  // NIC locality.
  for (const auto& vf : nics.vfs) {
    const PciNic* pf = s.host.nic(vf.pf);
    int where = pf ? nicNode(s.host, *pf) : -1;
    if (where == node.id) {
      p.reasons.push_back(fmt::format("nic{} {} is local to node {}", vf.nic_index, nicName(*pf), node.id));
    } else if (spec.numa_affinity == NumaAffinity::kRequired && where >= 0) {
      why.push_back(
          fmt::format("NIC {} is on node {} and numa_affinity is required (numa_affinity: preferred accepts a "
                      "remote NIC, at the cost of cross-node traffic)",
                      nicName(*pf), where));
    } else {
      p.reasons.push_back(fmt::format("nic{} {} is {} (numa_affinity {}: accepted)", vf.nic_index, nicName(*pf),
                                      where < 0 ? "on an unknown node" : fmt::format("on node {}, remote", where),
                                      spec.numa_affinity == NumaAffinity::kRequired ? "required" : "preferred"));
    }
  }
  const auto& housekeeping = s.housekeeping_of.at(node.id);
  // CPUs.
  if (spec.cpu_policy == CpuPolicy::kDedicated) {
    auto cores = freeCores(s, node.id);
    bool smt = std::any_of(cores.begin(), cores.end(), [](const Core* c) { return c->threads.size() > 1; });
    if (spec.smt_policy == SmtPolicy::kRequire) {
      std::erase_if(cores, [](const Core* c) { return c->threads.size() < 2; });
    }
    std::vector<int> pins;
    std::size_t cores_used = 0;
    bool all_pairs = true;
    for (const Core* core : cores) {
      if (static_cast<int>(pins.size()) >= spec.vcpus) break;
      ++cores_used;
      if (spec.smt_policy == SmtPolicy::kIsolate) {
        pins.push_back(core->threads.front());
        continue;
      }
      std::size_t used_here = 0;
      for (int t : core->threads) {
        if (static_cast<int>(pins.size()) < spec.vcpus) {
          pins.push_back(t);
          ++used_here;
        }
      }
      all_pairs &= used_here == 2;
    }
    if (static_cast<int>(pins.size()) < spec.vcpus) {
      int per_core = spec.smt_policy == SmtPolicy::kIsolate ? 1 : (smt ? 2 : 1);
      int need_cores = (spec.vcpus + per_core - 1) / per_core;
      std::string fix =
          spec.smt_policy == SmtPolicy::kIsolate && smt    ? "; smt_policy prefer would use both threads of each core"
          : spec.smt_policy == SmtPolicy::kRequire && !smt ? "; this node has no SMT siblings: use smt_policy prefer"
                                                           : "; free cores by removing a VNF, or lower vcpus";
      why.push_back(fmt::format(
          "{} free cores for dedicated vCPUs (housekeeping CPUs {} excluded), the VNF needs {} "
          "(vcpus {}, smt_policy {}){}",
          cores.size(), formatCpuList(housekeeping), need_cores, spec.vcpus, smtName(spec.smt_policy), fix));
    } else {
      p.vcpu_pins = pins;
      bool threads2 = spec.smt_policy != SmtPolicy::kIsolate && all_pairs && spec.vcpus % 2 == 0 && smt;
      p.guest_threads = threads2 ? 2 : 1;
      p.guest_cores = spec.vcpus / p.guest_threads;
      auto sorted = pins;
      std::sort(sorted.begin(), sorted.end());
      p.reasons.push_back(fmt::format(
          "vCPUs on {} whole core{} of node {} (CPUs {}; smt_policy {}{}){}", cores_used, cores_used == 1 ? "" : "s",
          node.id, formatCpuList(sorted), smtName(spec.smt_policy), threads2 ? ", guest sees SMT pairs" : "",
          std::any_of(pins.begin(), pins.end(), [&](int c) { return s.host.cpu(c)->isolated; }) ? ", isolated CPUs"
                                                                                                : ""));
    }
  } else {
    for (int c : node.cpus) {
      const Cpu* cpu = s.host.cpu(c);
      if (cpu && cpu->online && !s.housekeeping[c] && !s.busy[c]) {
        p.shared_cpus.push_back(c);
      }
    }
    if (p.shared_cpus.empty()) p.shared_cpus = node.cpus;
    p.guest_cores = spec.vcpus;
    p.reasons.push_back(fmt::format("vCPUs float on node {}'s shared CPUs {}", node.id, formatCpuList(p.shared_cpus)));
  }
  // Emulator threads.
  if (spec.emulator_policy == EmulatorPolicy::kIsolate || spec.cpu_policy == CpuPolicy::kShared) {
    p.emulator_cpus = housekeeping;
    if (p.emulator_cpus.empty()) {
      p.emulator_cpus = s.housekeeping_of.at(s.host.nodes.front().id);
      p.reasons.push_back(fmt::format("node {} has no housekeeping CPU: emulator threads on {} (another node)", node.id,
                                      formatCpuList(p.emulator_cpus)));
    } else {
      p.reasons.push_back(fmt::format("emulator threads on housekeeping CPUs {}, off the packet cores",
                                      formatCpuList(p.emulator_cpus)));
    }
  } else {
    p.emulator_cpus = p.vcpu_pins;
    std::sort(p.emulator_cpus.begin(), p.emulator_cpus.end());
    p.reasons.push_back("emulator threads share the vCPUs' cores (emulator_threads: share)");
  }
  // Memory.
  p.memory_kib = spec.memory_mib * 1024;
  p.page_size_kib = spec.page_size_kib;
  if (spec.page_size_kib > 0) {
    p.hugepages = p.memory_kib / spec.page_size_kib;
    const HugePagePool* pool = node.pool(spec.page_size_kib);
    // Pages promised by domains bound to no single node may come from any node: counted on each.
    std::uint64_t held = 0;
    for (int n : {node.id, -1}) {
      if (auto it = s.used.hugepages.find({n, spec.page_size_kib}); it != s.used.hugepages.end()) held += it->second;
    }
    std::uint64_t back = 0;
    if (auto it = s.used.hugepages_returning.find({node.id, spec.page_size_kib});
        it != s.used.hugepages_returning.end()) {
      back = it->second;
    }
    std::uint64_t avail = (pool ? pool->free : 0) + back;
    std::uint64_t free = avail > held ? avail - held : 0;
    if (free < p.hugepages) {
      std::uint64_t total = pool ? pool->total : 0;
      why.push_back(fmt::format(
          "{} free {} hugepages{}, the VNF needs {} ({} MiB): reserve more with: echo {} > "
          "/sys/devices/system/node/node{}/hugepages/hugepages-{}kB/nr_hugepages",
          free, pageSizeName(spec.page_size_kib), held ? fmt::format(" ({} promised to defined VNFs)", held) : "",
          p.hugepages, spec.memory_mib, total + (p.hugepages - free), node.id, spec.page_size_kib));
    } else {
      p.reasons.push_back(fmt::format("memory: {} x {} hugepages from node {} ({} free before, {} after)", p.hugepages,
                                      pageSizeName(spec.page_size_kib), node.id, free, free - p.hugepages));
    }
  } else {
    const auto m = normalMemory(s, node);
    if (node.mem_total_kib == 0) {
      p.reasons.push_back(
          fmt::format("memory: {} MiB of node {}'s normal pages (no hugepages asked; the node's "
                      "MemTotal is unknown, so it was not checked)",
                      spec.memory_mib, node.id));
    } else if (m.free_kib < p.memory_kib) {
      why.push_back(fmt::format(
          "{} MiB of normal memory free for VNFs ({} MiB total - {} MiB reserved as hugepages - {} MiB host reserve - "
          "{} MiB held by other VMs{}), the VNF asks {} MiB: remove a VM here, lower memory, use hugepages, or return "
          "reserved hugepages (lower nr_hugepages under /sys/devices/system/node/node{}/hugepages/)",
          m.free_kib / 1024, node.mem_total_kib / 1024, m.hugepages_kib / 1024, s.used.host_reserve_kib / 1024,
          m.held_kib / 1024,
          m.unbound_kib ? fmt::format(", {} MiB of it by VMs bound to no node", m.unbound_kib / 1024) : "",
          spec.memory_mib, node.id));
    } else {
      p.reasons.push_back(
          fmt::format("memory: {} MiB of node {}'s normal pages (no hugepages asked; {} MiB free for "
                      "VNFs before, {} after)",
                      spec.memory_mib, node.id, m.free_kib / 1024, (m.free_kib - p.memory_kib) / 1024));
    }
  }
  if (!why.empty()) return std::nullopt;
  p.vfs = nics.vfs;
  return p;
}

}  // namespace

void Allocations::add(const Placement& p, bool pages_already_taken) {
  cpus.insert(p.vcpu_pins.begin(), p.vcpu_pins.end());
  for (const auto& vf : p.vfs) vfs.insert(vf.vf);
  if (!pages_already_taken && p.hugepages > 0) hugepages[{p.node, p.page_size_kib}] += p.hugepages;
  if (p.page_size_kib == 0 && p.memory_kib > 0) memory_kib[p.node] += p.memory_kib;
}

std::vector<int> housekeepingCpus(const HostTopology& host, int node_id) {
  const NumaNode* node = host.node(node_id);
  if (!node) return {};
  std::vector<int> out;
  bool any_isolated = std::any_of(host.cpus.begin(), host.cpus.end(), [](const Cpu& c) { return c.isolated; });
  if (any_isolated) {
    for (int c : node->cpus) {
      const Cpu* cpu = host.cpu(c);
      if (cpu && cpu->online && !cpu->isolated) out.push_back(c);
    }
    return out;
  }
  for (int c : node->cpus) {
    const Cpu* cpu = host.cpu(c);
    if (!cpu || !cpu->online) continue;
    out = cpu->siblings.empty() ? std::vector<int>{c} : cpu->siblings;
    break;
  }
  return out;
}

Result<std::vector<Placement>> planAll(const HostTopology& host, const Allocations& existing,
                                       const std::vector<VnfSpec>& instances) {
  State s(host, existing);
  std::vector<Placement> out;
  std::size_t online = 0;
  for (const auto& c : host.cpus) online += c.online;
  std::set<std::string> names;
  for (const auto& spec : instances) {
    std::vector<std::string> problems;
    if (!names.insert(spec.name).second) {
      problems.push_back(fmt::format("name: '{}' is planned twice; give each VNF its own name", spec.name));
    }
    if (spec.vcpus > static_cast<int>(online)) {
      problems.push_back(fmt::format("vcpus: {} is more than the {} online CPUs of this host", spec.vcpus, online));
    }
    auto nics = chooseVfs(s, spec);
    problems.insert(problems.end(), nics.problems.begin(), nics.problems.end());
    if (!problems.empty()) {
      std::string message = fmt::format("cannot place {}:", spec.name);
      for (const auto& p : problems) message += "\n  " + p;
      return fail(Errc::kInvalidArgument, message, "correct the spec; nothing was changed");
    }
    // Node order: most of the VNF's NICs local first, then most free cores, then lowest id.
    std::vector<const NumaNode*> order;
    for (const auto& n : host.nodes) {
      if (!n.cpus.empty()) order.push_back(&n);
    }
    auto localNics = [&](const NumaNode* n) {
      return std::count_if(nics.vfs.begin(), nics.vfs.end(), [&](const VfAssignment& v) {
        const PciNic* pf = host.nic(v.pf);
        return pf && nicNode(host, *pf) == n->id;
      });
    };
    std::vector<std::size_t> free_cores;
    for (const auto* n : order) free_cores.push_back(freeCores(s, n->id).size());
    std::vector<std::size_t> idx(order.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      auto la = localNics(order[a]), lb = localNics(order[b]);
      if (la != lb) return la > lb;
      if (free_cores[a] != free_cores[b]) return free_cores[a] > free_cores[b];
      return order[a]->id < order[b]->id;
    });
    std::optional<Placement> placed;
    std::string verdicts;
    for (std::size_t i : idx) {
      std::vector<std::string> why;
      placed = tryNode(s, spec, nics, *order[i], why);
      if (placed) break;
      for (const auto& w : why) verdicts += fmt::format("\n  node {}: {}", order[i]->id, w);
    }
    if (!placed) {
      return fail(
          Errc::kDoesNotFit,
          fmt::format(
              "cannot place {} ({} vCPUs, {} MiB{}): no NUMA node fits{}", spec.name, spec.vcpus, spec.memory_mib,
              spec.page_size_kib ? fmt::format(" as {} hugepages", pageSizeName(spec.page_size_kib)) : "", verdicts),
          "act on one of the node lines above; nothing was changed");
    }
    s.take(*placed);
    out.push_back(std::move(*placed));
  }
  return out;
}

}  // namespace vnf
