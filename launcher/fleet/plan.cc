#include "fleet/plan.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "domain/render.h"
#include "lifecycle/render.h"

namespace vnf::fleet {
namespace {

// The NIC labels the renderer derives MACs for, in its order (domain/build.cc): data NICs, taps,
// the management NIC. nullopt entries are given by the spec.
std::vector<std::pair<std::string, std::optional<MacAddress>>> macLabels(const VnfSpec& spec) {
  std::vector<std::pair<std::string, std::optional<MacAddress>>> out;
  for (std::size_t i = 0; i < spec.nics.size(); ++i) out.emplace_back(fmt::format("vf{}", i), spec.nics[i].mac);
  for (std::size_t i = 0; i < spec.tap_nics.size(); ++i)
    out.emplace_back(fmt::format("tap{}", i), spec.tap_nics[i].mac);
  if (spec.mgmt) out.emplace_back("mgmt", spec.mgmt->mac);
  return out;
}

// How far a re-derived MAC ("<label>#k") is looked for when reading a kept instance's MAC.
constexpr int kMacRetries = 64;

std::uint64_t reservedHugepagesKib(const NumaNode& n) {
  std::uint64_t kib = 0;
  for (const auto& p : n.hugepages) kib += p.total * p.page_size_kib;
  return kib;
}

std::map<int, std::uint64_t> freeMemory(const HostTopology& host, const Allocations& held) {
  std::map<int, std::uint64_t> out;
  auto any = held.memory_kib.find(-1);
  const std::uint64_t floating = any == held.memory_kib.end() ? 0 : any->second;
  for (const auto& n : host.nodes) {
    auto it = held.memory_kib.find(n.id);
    const std::uint64_t used =
        reservedHugepagesKib(n) + held.host_reserve_kib + floating + (it == held.memory_kib.end() ? 0 : it->second);
    out[n.id] = n.mem_total_kib > used ? n.mem_total_kib - used : 0;
  }
  return out;
}

std::uint64_t totalOf(const std::map<int, std::uint64_t>& m) {
  std::uint64_t t = 0;
  for (const auto& [node, v] : m) t += v;
  return t;
}

struct HostState {
  const HostView* view = nullptr;
  Allocations held;
  int capacity_cpus = 0;  // free with nothing held: the host's dedicated-capable CPUs
  int free_cpus_before = 0;
  int free_cpus = 0;
  std::uint64_t free_memory_kib = 0;
  std::vector<std::string> members;  // instances of this plan on the host (kept or new)
};

}  // namespace

int instanceIndex(const std::string& base, const std::string& name) {
  if (name.size() <= base.size() + 1 || !name.starts_with(base) || name[base.size()] != '-') return 0;
  const std::string digits = name.substr(base.size() + 1);
  if (digits.size() > 6 || digits[0] == '0') return 0;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

int freeDedicatedCpus(const HostTopology& host, const Allocations& held) {
  int n = 0;
  for (const auto& node : host.nodes) {
    const auto hk = housekeepingCpus(host, node.id);
    for (int c : node.cpus) {
      const Cpu* cpu = host.cpu(c);
      if (!cpu || !cpu->online || held.cpus.contains(c)) continue;
      if (std::find(hk.begin(), hk.end(), c) != hk.end()) continue;
      ++n;
    }
  }
  return n;
}

Result<FleetPlan> planFleet(const std::vector<HostView>& hosts, const FleetRequest& req) {
  if (req.count < 0 || req.count > kMaxFleetCount) {
    return fail(Errc::kInvalidArgument, fmt::format("--count {} is outside 0..{}", req.count, kMaxFleetCount),
                "give the number of instances the fleet should run, like --count 500");
  }
  if (hosts.empty()) {
    return fail(Errc::kInvalidArgument, "the inventory has no hosts",
                "list at least one host under 'hosts:' with a uri or a snapshot (docs/fleet.md)");
  }
  std::set<std::string> names;
  for (const auto& h : hosts) {
    if (!names.insert(h.name).second) {
      return fail(Errc::kInvalidArgument, fmt::format("host '{}' is listed twice in the inventory", h.name),
                  "give every host one entry");
    }
  }
  const auto labels = macLabels(req.spec);
  if (req.count > 1) {
    for (const auto& [label, mac] : labels) {
      if (mac) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("{}: NIC {} has the fixed MAC {}, which {} instances would share", req.spec.name, label,
                                formatMac(*mac), req.count),
                    "leave the MAC out of the spec: each instance then gets its own, derived from its name");
      }
    }
  }

  FleetPlan plan;
  std::vector<HostState> state(hosts.size());
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    state[h].view = &hosts[h];
    state[h].held = hosts[h].holdings;
    if (!hosts[h].closed.empty())
      plan.notes.push_back(fmt::format("host {}: nothing new is placed there: {}", hosts[h].name, hosts[h].closed));
  }

  // Existing instances: kept where they are (first host wins), the rest listed for removal.
  std::map<int, PlannedInstance> by_index;
  std::map<int, const ExistingInstance*> kept_from;
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    for (const auto& e : hosts[h].instances) {
      const int idx = instanceIndex(req.spec.name, e.name);
      if (idx == 0) continue;
      if (idx > req.count) {
        plan.remove[hosts[h].name].push_back(e.name);
        continue;
      }
      if (by_index.contains(idx)) {
        plan.remove[hosts[h].name].push_back(e.name);
        plan.notes.push_back(fmt::format("{} exists on {} and on {}: kept on {}, listed for removal from {}", e.name,
                                         by_index[idx].host, hosts[h].name, by_index[idx].host, hosts[h].name));
        continue;
      }
      PlannedInstance p{e.name, idx, hosts[h].name, lifecycle::nameUuid(e.name), true, e.state, e.placement, {}};
      p.placement.name = e.name;
      state[h].members.push_back(e.name);
      kept_from.emplace(idx, &e);
      by_index.emplace(idx, std::move(p));
    }
  }
  for (auto& [host, list] : plan.remove) {
    std::sort(list.begin(), list.end(), [&](const std::string& a, const std::string& b) {
      return instanceIndex(req.spec.name, a) > instanceIndex(req.spec.name, b);  // highest first
    });
  }
  if (!req.anti_affinity.empty()) {
    for (const auto& s : state) {
      if (s.members.size() > 1) {
        plan.notes.push_back(
            fmt::format("anti-affinity group {}: host {} already runs {} instances ({}); they are "
                        "kept, none is added there",
                        req.anti_affinity, s.view->name, s.members.size(), fmt::join(s.members, ", ")));
      }
    }
  }
  // Who uses which MAC, fleet-wide: every domain on every host (foreign ones, instances listed for
  // removal) but the kept instances, which come next with the MACs their XML has.
  std::map<MacAddress, std::string> used;
  std::set<std::pair<std::string, std::string>> kept;  // (host, instance)
  for (const auto& [idx, p] : by_index) kept.insert({p.host, p.name});
  std::set<std::pair<std::string, std::string>> leaving;  // (host, domain) this plan removes
  for (const auto& [host, list] : plan.remove)
    for (const auto& name : list) leaving.insert({host, name});
  std::set<MacAddress> leaving_macs;  // MACs whose only user so far is a domain this plan removes
  for (const auto& h : hosts) {
    for (const auto& m : h.macs) {
      if (kept.contains({h.name, m.domain})) continue;
      const bool fresh = used.emplace(m.mac, fmt::format("domain {} on {}", m.domain, h.name)).second;
      if (fresh && leaving.contains({h.name, m.domain})) leaving_macs.insert(m.mac);
      if (!leaving.contains({h.name, m.domain})) leaving_macs.erase(m.mac);
    }
  }
  auto deriveMac = [&](PlannedInstance& p, const std::string& label, const std::optional<MacAddress>& given) {
    if (given) {
      used.emplace(*given, p.name);
      p.macs.push_back({label, *given, true, false, false});
      return;
    }
    const MacAddress first = derivedMac(p.uuid, label);
    MacAddress mac = first;
    int retry = 0;
    while (used.contains(mac)) mac = derivedMac(p.uuid, fmt::format("{}#{}", label, ++retry));
    if (retry > 0) {
      ++plan.mac_rederived;
      plan.notes.push_back(
          fmt::format("{}: the MAC derived for {} ({}) is used by {}: re-derived as {} (in its overrides)", p.name,
                      label, formatMac(first), used[first], formatMac(mac)));
    }
    used.emplace(mac, p.name);
    p.macs.push_back({label, mac, retry == 0, retry > 0, false});
  };
  // A kept instance keeps the MACs its XML has (changing one needs a redefine); one that is neither
  // derived nor re-derived (edited by hand) or that another domain also uses is a note.
  auto keepMacs = [&](PlannedInstance& p, const std::vector<MacUse>& real) {
    for (const auto& [label, given] : labels) {
      auto it = std::find_if(real.begin(), real.end(), [&](const MacUse& m) { return m.label == label; });
      if (it == real.end()) {  // not in its XML (the spec gained a NIC): what a redefine would derive
        deriveMac(p, label, given);
        continue;
      }
      const MacAddress mac = it->mac;
      const bool derived = mac == derivedMac(p.uuid, label);
      bool rederived = false;
      for (int k = 1; !derived && !rederived && k <= kMacRetries; ++k)
        rederived = mac == derivedMac(p.uuid, fmt::format("{}#{}", label, k));
      if (!derived && !rederived && !given) {
        plan.notes.push_back(fmt::format("{} on {}: {} has the MAC {}, not the derived {}: kept as its domain has it",
                                         p.name, p.host, label, formatMac(mac), formatMac(derivedMac(p.uuid, label))));
      }
      if (auto u = used.find(mac); u != used.end() && leaving_macs.contains(mac)) {
        plan.notes.push_back(fmt::format("{} on {}: its MAC {} ({}) is also used by {}, which this plan removes",
                                         p.name, p.host, formatMac(mac), label, u->second));
      } else if (u != used.end()) {
        plan.notes.push_back(
            fmt::format("{} on {}: its MAC {} ({}) is also used by {}: redefine one of them with "
                        "another MAC",
                        p.name, p.host, formatMac(mac), label, u->second));
      }
      used.emplace(mac, fmt::format("{} on {}", p.name, p.host));
      p.macs.push_back({label, mac, derived, rederived, true});
    }
  };
  // Kept instances keep their MACs first; new ones then avoid them.
  for (auto& [idx, p] : by_index) {
    const auto* e = kept_from.at(idx);
    if (e->macs.empty()) {  // not known (a view without XML): taken to be what define derives
      for (const auto& [label, given] : labels) deriveMac(p, label, given);
    } else {
      keepMacs(p, e->macs);
    }
  }

  for (auto& s : state) {
    s.capacity_cpus = freeDedicatedCpus(s.view->topology, Allocations{});
    s.free_cpus_before = freeDedicatedCpus(s.view->topology, s.held);
    s.free_cpus = s.free_cpus_before;
    s.free_memory_kib = totalOf(freeMemory(s.view->topology, s.held));
  }

  std::vector<std::size_t> order(state.size());
  for (int idx = 1; idx <= req.count; ++idx) {
    if (by_index.contains(idx)) continue;
    VnfSpec one = req.spec;
    one.count = 1;
    one.name = fmt::format("{}-{}", req.spec.name, idx);
    // The largest share of free CPUs first (a fresh fleet then gets one instance per host in turn,
    // and big hosts take more as they keep larger shares), then the most free CPUs, the most free
    // memory, and inventory order. Shares compare exactly: a/b > c/d as a*d > c*b.
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const auto& x = state[a];
      const auto& y = state[b];
      const long lhs = static_cast<long>(x.free_cpus) * std::max(1, y.capacity_cpus);
      const long rhs = static_cast<long>(y.free_cpus) * std::max(1, x.capacity_cpus);
      if (lhs != rhs) return lhs > rhs;
      if (x.free_cpus != y.free_cpus) return x.free_cpus > y.free_cpus;
      return x.free_memory_kib > y.free_memory_kib;
    });
    std::map<std::string, std::string> why;
    bool placed = false;
    for (std::size_t h : order) {
      auto& s = state[h];
      if (!s.view->closed.empty()) {
        why[s.view->name] = s.view->closed;
        continue;
      }
      if (!req.anti_affinity.empty() && !s.members.empty()) {
        why[s.view->name] = fmt::format("anti-affinity group {}: the host already has {}", req.anti_affinity,
                                        fmt::join(s.members, ", "));
        continue;
      }
      auto got = planAll(s.view->topology, s.held, {one});
      if (!got) {
        why[s.view->name] = got.error().message + (got.error().fix.empty() ? "" : " (fix: " + got.error().fix + ")");
        continue;
      }
      Placement& pl = got->front();
      s.held.add(pl, false);
      s.free_cpus = freeDedicatedCpus(s.view->topology, s.held);
      s.free_memory_kib = totalOf(freeMemory(s.view->topology, s.held));
      s.members.push_back(one.name);
      PlannedInstance p{one.name, idx, s.view->name, lifecycle::nameUuid(one.name), false, "", std::move(pl), {}};
      for (const auto& [label, given] : labels) deriveMac(p, label, given);
      by_index.emplace(idx, std::move(p));
      placed = true;
      break;
    }
    if (!placed) {
      plan.unplaced = Unplaced{one.name, req.count - idx + 1, std::move(why)};
      break;
    }
  }
  for (auto& [idx, p] : by_index) plan.instances.push_back(std::move(p));
  for (const auto& s : state) {
    plan.hosts.push_back({s.view->name, s.free_cpus_before, freeDedicatedCpus(s.view->topology, s.held),
                          freeMemory(s.view->topology, s.held)});
  }
  return plan;
}

}  // namespace vnf::fleet
