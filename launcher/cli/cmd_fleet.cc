// `vnfctl fleet plan INVENTORY SPEC --count N`: where N instances of a VNF spec go over many hosts
// (fleet/plan.h), as a table or as JSON (schema vnfctl.fleet-plan/v1, docs/fleet.md) that an
// Ansible lookup turns into per-host VNF lists. Reads hosts, changes nothing.
// Exit 0: every instance placed; 2: bad input; 3: a host could not be read (without
// --allow-unreachable); 4: the instances do not all fit (the document says per host and node why).
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "fleet/gather.h"
#include "fleet/plan.h"
#include "spec/load.h"

namespace vnf::cli {
namespace {

struct FleetArgs {
  std::string inventory, spec;
  int count = -1;
  std::string anti_affinity;
  bool json = false;
  bool allow_unreachable = false;
};

using Json = nlohmann::ordered_json;

// What the host's `vnfctl define` must be told so it renders what the fleet planned: the
// instance's name, the VF of each NIC, and any MAC re-derived after a fleet-wide collision.
Json overridesJson(const VnfSpec& spec, const fleet::PlannedInstance& p) {
  Json o{{"name", p.name}, {"count", 1}};
  auto macOf = [&](const std::string& label) -> Json {
    for (const auto& m : p.macs)
      if (m.label == label && m.in_overrides) return formatMac(m.mac);
    return nullptr;
  };
  if (!spec.nics.empty()) {
    Json nics = Json::array();
    for (std::size_t i = 0; i < spec.nics.size(); ++i) {
      Json n = Json::object();
      for (const auto& v : p.placement.vfs)
        if (v.nic_index == static_cast<int>(i)) n["vf"] = v.vf_index;
      if (auto m = macOf(fmt::format("vf{}", i)); !m.is_null()) n["mac"] = m;
      nics.push_back(n);
    }
    o["nics"] = nics;
  }
  if (!spec.tap_nics.empty()) {
    Json taps = Json::array();
    for (std::size_t i = 0; i < spec.tap_nics.size(); ++i) {
      Json t = Json::object();
      if (auto m = macOf(fmt::format("tap{}", i)); !m.is_null()) t["mac"] = m;
      taps.push_back(t);
    }
    o["taps"] = taps;
  }
  if (spec.mgmt) {
    if (auto m = macOf("mgmt"); !m.is_null()) o["management"] = {{"mac", m}};
  }
  return o;
}

Json instanceJson(const VnfSpec& spec, const fleet::PlannedInstance& p) {
  Json vfs = Json::array();
  for (const auto& v : p.placement.vfs)
    vfs.push_back({{"nic", v.nic_index}, {"pf", v.pf.str()}, {"vf", v.vf.str()}, {"index", v.vf_index}});
  Json macs = Json::array();
  for (const auto& m : p.macs) {
    macs.push_back({{"label", m.label},
                    {"mac", formatMac(m.mac)},
                    {"derived", m.derived},
                    {"source", m.from_domain    ? "domain"
                               : m.in_overrides ? "re-derived"
                                                : "derived"}});
  }
  return {{"name", p.name},
          {"index", p.index},
          {"host", p.host},
          {"uuid", p.uuid},
          {"existing", p.existing},
          {"state", p.state},
          {"node", p.placement.node},
          {"vcpu_pins", p.placement.vcpu_pins},
          {"shared_cpus", p.placement.shared_cpus},
          {"emulator_cpus", p.placement.emulator_cpus},
          {"memory_kib", p.placement.memory_kib},
          {"page_size_kib", p.placement.page_size_kib},
          {"hugepages", p.placement.hugepages},
          {"vfs", vfs},
          {"macs", macs},
          {"overrides", overridesJson(spec, p)}};
}

int runFleetPlan(const FleetArgs& a) {
  auto finishError = [&](const Error& e) {
    if (a.json) {
      Json j{{"schema", "vnfctl.fleet-plan/v1"}, {"fits", false}, {"error", errorJson(e)}};
      std::printf("%s\n", j.dump(2).c_str());
    }
    printError(e);
    return exitCodeOf(e.code);
  };
  if (a.count < 0) return finishError(Error{Errc::kInvalidArgument, "--count is required", "add --count 10"});
  auto inventory = fleet::loadInventory(a.inventory);
  if (!inventory) return finishError(inventory.error());
  auto spec = loadSpecFile(a.spec);
  if (!spec) return finishError(spec.error());
  if (spec->count != 1) {
    std::fprintf(stderr, "vnfctl: note: the spec's count %d is ignored: --count %d decides\n", spec->count, a.count);
  }
  auto gathered = fleet::gatherHosts(*inventory, spec->name);
  if (!gathered.unreachable.empty() && !a.allow_unreachable) {
    std::string list;
    for (const auto& u : gathered.unreachable) list += fmt::format("\n  - {}: {}", u.host, u.error.str());
    Error e{Errc::kUnreachable,
            fmt::format("{} of {} host(s) could not be read:{}", gathered.unreachable.size(), inventory->size(), list),
            "bring them back, or plan around them with --allow-unreachable (instances they hold may then be "
            "placed again elsewhere)"};
    return finishError(e);
  }
  for (const auto& h : gathered.hosts) {
    if (!h.closed.empty())
      std::fprintf(stderr, "vnfctl: warning: host %s takes no new instance: %s\n", h.name.c_str(), h.closed.c_str());
  }
  fleet::FleetRequest req{*spec, a.count, a.anti_affinity};
  auto plan = fleet::planFleet(gathered.hosts, req);
  if (!plan) return finishError(plan.error());

  const int placed = static_cast<int>(plan->instances.size());
  if (a.json) {
    Json hosts = Json::object();
    for (const auto& h : gathered.hosts) {
      Json free_mem = Json::object();
      const fleet::HostUsage* use = nullptr;
      for (const auto& u : plan->hosts)
        if (u.name == h.name) use = &u;
      if (use)
        for (const auto& [node, kib] : use->free_memory_kib_after) free_mem[std::to_string(node)] = kib;
      Json vnfs = Json::array();
      for (const auto& p : plan->instances)
        if (p.host == h.name) vnfs.push_back(instanceJson(*spec, p));
      auto rm = plan->remove.find(h.name);
      hosts[h.name] = {{"uri", h.uri},
                       {"snapshot", h.snapshot},
                       {"closed", h.closed},
                       {"free_cpus_before", use ? use->free_cpus_before : 0},
                       {"free_cpus_after", use ? use->free_cpus_after : 0},
                       {"free_memory_kib_after", free_mem},
                       {"vnfs", vnfs},
                       {"remove", rm == plan->remove.end() ? Json::array() : Json(rm->second)}};
    }
    Json unreachable = Json::array();
    for (const auto& u : gathered.unreachable) unreachable.push_back({{"host", u.host}, {"error", errorJson(u.error)}});
    Json j{{"schema", "vnfctl.fleet-plan/v1"},
           {"spec", spec->name},
           {"count", a.count},
           {"anti_affinity", a.anti_affinity},
           {"fits", plan->fits()},
           {"placed", placed},
           {"mac_rederived", plan->mac_rederived},
           {"hosts", hosts},
           {"unreachable", unreachable},
           {"notes", plan->notes}};
    if (plan->unplaced) {
      j["unplaced"] = {
          {"name", plan->unplaced->name}, {"remaining", plan->unplaced->remaining}, {"why", plan->unplaced->why}};
      j["error"] = errorJson(Error{Errc::kDoesNotFit,
                                   fmt::format("{} of {} instance(s) do not fit", plan->unplaced->remaining, a.count),
                                   "add hosts, free CPUs or memory, or lower --count"});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%-24s %6s %6s %5s %6s\n", "HOST", "VNFS", "NEW", "CPUS", "REMOVE");
    for (const auto& u : plan->hosts) {
      int n = 0, fresh = 0;
      for (const auto& p : plan->instances) {
        if (p.host != u.name) continue;
        ++n;
        if (!p.existing) ++fresh;
      }
      auto rm = plan->remove.find(u.name);
      std::printf("%-24s %6d %6d %5d %6zu\n", u.name.c_str(), n, fresh, u.free_cpus_after,
                  rm == plan->remove.end() ? std::size_t{0} : rm->second.size());
    }
    for (const auto& u : gathered.unreachable)
      std::printf("%-24s unreachable: %s\n", u.host.c_str(), u.error.message.c_str());
    for (const auto& n : plan->notes) std::printf("note: %s\n", n.c_str());
    std::printf("%d of %d instance(s) of %s placed%s\n", placed, a.count, spec->name.c_str(),
                plan->mac_rederived
                    ? fmt::format(" ({} MAC(s) re-derived after a collision)", plan->mac_rederived).c_str()
                    : "");
  }
  if (plan->unplaced) {
    std::string why;
    for (const auto& [host, text] : plan->unplaced->why) why += fmt::format("\n  {}: {}", host, text);
    printError(Error{Errc::kDoesNotFit,
                     fmt::format("{} of {} instance(s) do not fit; {} fits on no host:{}", plan->unplaced->remaining,
                                 a.count, plan->unplaced->name, why),
                     "add hosts, free CPUs or memory, or lower --count"});
    return exitCodeOf(Errc::kDoesNotFit);
  }
  return kExitOk;
}

}  // namespace

void addFleetCommand(CLI::App& app, const GlobalOptions& /*global*/, Runner& run) {
  auto* fleet = app.add_subcommand("fleet", "Plan VNF instances over many hosts (docs/fleet.md)");
  fleet->require_subcommand(1);
  auto a = std::make_shared<FleetArgs>();
  auto* plan = fleet->add_subcommand(
      "plan", "Place N instances of a spec over the inventory's hosts and their NUMA nodes; changes nothing");
  plan->add_option("INVENTORY", a->inventory, "Hosts: YAML/JSON with hosts: [{name, uri, snapshot}]")->required();
  plan->add_option("SPEC", a->spec, "VNF spec file (its name is the instances' prefix: NAME-1..NAME-N)")->required();
  plan->add_option("--count", a->count, "How many instances the fleet should run")
      ->required()
      ->check(CLI::Range(0, fleet::kMaxFleetCount));
  plan->add_option("--anti-affinity", a->anti_affinity, "Group name: no two of this plan's instances on one host");
  plan->add_flag("--allow-unreachable", a->allow_unreachable,
                 "Plan over the hosts that answer (the others' instances may be placed again)");
  plan->add_flag("--json", a->json, "Print the plan as JSON (schema vnfctl.fleet-plan/v1)");
  plan->callback([&run, a] { run = [a] { return runFleetPlan(*a); }; });
}

}  // namespace vnf::cli
