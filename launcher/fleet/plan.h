// Fleet planning: N instances of one VNF spec over many hosts, each host planned by the one
// per-host planner (planning/plan.h). A pure function of values: the hosts' topologies and what
// their libvirt already holds come in (fleet/gather.h reads them), the fleet plan comes out.
//
// Rules (docs/fleet.md):
//   - Instance i (1..N) is named "<spec.name>-<i>"; its uuid is lifecycle::nameUuid(name) and the
//     MAC of each NIC is domain::derivedMac(uuid, label), as `vnfctl define` derives them, so a
//     plan and a define agree without talking to each other.
//   - An instance that already exists on a host (a managed domain of that name) stays where it is
//     with what it holds; one found on several hosts stays on the first (host order) and the others
//     are listed for removal. Existing instances numbered above N are listed for removal.
//   - New instances go, in index order, to the host with the largest share of its dedicated-capable
//     CPUs still free (ties: most free CPUs, most free memory, inventory order): the first host in
//     that order whose planner accepts it.
//   - Anti-affinity: no two instances of the plan on one host.
//   - MACs are unique across the fleet: a derived MAC already taken (by any domain on any host, or
//     by an earlier instance) is re-derived with "<label>#<k>" (as the renderer does within one
//     domain) and written into the instance's spec overrides so the host renders the same one; a
//     note names the domain that holds it. Kept instances keep the MACs their XML has (a MAC of
//     theirs that another domain also uses is a note: it cannot change without a redefine).
//   - A host whose libvirt has a domain with damaged XML or vnfctl metadata is closed: what that
//     domain holds is unknown, so nothing new goes there (the reason names the domain and the
//     repair); its instances are kept where they are.
//   - An instance no host takes stops the placement: every later one is the same spec and would
//     not fit either. The result then says, per host, why (the planner's per-node reasons).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "planning/plan.h"
#include "spec/spec.h"

namespace vnf::fleet {

struct MacUse {
  std::string label;  // "vf0", "tap1", "mgmt"
  MacAddress mac;
  bool derived = true;        // derivedMac(uuid, label) itself
  bool in_overrides = false;  // re-derived after a collision: the spec overrides carry it
  bool from_domain = false;   // a kept instance's MAC as its libvirt XML has it
};

// An instance vnfctl manages that a host's libvirt already has (from its holdings).
struct ExistingInstance {
  std::string name;
  std::string state;  // "running", "shut off", ...
  Placement placement;
  std::vector<MacUse> macs;  // its NICs' MACs as its XML has them (label, mac); empty: unknown
};

// A MAC a domain on a host uses.
struct HostMac {
  MacAddress mac;
  std::string domain;
};

// One host as the fleet planner sees it.
struct HostView {
  std::string name;      // inventory name
  std::string uri;       // libvirt URI ("" for a snapshot planned without libvirt)
  std::string snapshot;  // --host-root folder ("" when discovered through libvirt)
  HostTopology topology;
  Allocations holdings;                     // everything every domain on it holds
  std::vector<ExistingInstance> instances;  // managed domains named like this plan's instances
  std::vector<HostMac> macs;                // every MAC the host's domains use (none for a snapshot)
  std::string closed;                       // non-empty: nothing new is placed here, and why
};

struct FleetRequest {
  VnfSpec spec;  // validated; count is ignored (count below)
  int count = 0;
  std::string anti_affinity;  // "" none; else the group name, at most one instance per host
};

struct PlannedInstance {
  std::string name;
  int index = 0;  // 1..N
  std::string host;
  std::string uuid;
  bool existing = false;  // already defined there (kept where it is)
  std::string state;      // existing: its libvirt state; new: ""
  Placement placement;
  std::vector<MacUse> macs;
};

struct HostUsage {
  std::string name;
  int free_cpus_before = 0;  // CPUs a dedicated vCPU could take, before this plan's new instances
  int free_cpus_after = 0;
  std::map<int, std::uint64_t> free_memory_kib_after;  // per node, normal-page memory left
};

struct Unplaced {
  std::string name;                        // the first instance no host takes
  int remaining = 0;                       // it and every later one
  std::map<std::string, std::string> why;  // host -> the planner's reasons (per NUMA node)
};

struct FleetPlan {
  std::vector<PlannedInstance> instances;                  // index order
  std::map<std::string, std::vector<std::string>> remove;  // host -> instance names to remove
  std::vector<HostUsage> hosts;                            // inventory order
  std::optional<Unplaced> unplaced;
  int mac_rederived = 0;
  std::vector<std::string> notes;

  bool fits() const { return !unplaced; }
};

// The instance number of `name` in the family `base` ("web-12" -> 12), or 0 when it is not one.
int instanceIndex(const std::string& base, const std::string& name);

// CPUs a dedicated vCPU could still take on `host` (online, not housekeeping, not held).
int freeDedicatedCpus(const HostTopology& host, const Allocations& held);

// Plans `request` over `hosts` (their order is the tie-break of last resort). Errors: kInvalidArgument
// for a bad request (count < 0 or above kMaxFleetCount, duplicate host names, no hosts).
inline constexpr int kMaxFleetCount = 100000;
Result<FleetPlan> planFleet(const std::vector<HostView>& hosts, const FleetRequest& request);

}  // namespace vnf::fleet
