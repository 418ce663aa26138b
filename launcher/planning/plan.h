// The planner: a pure function of (host topology, existing allocations, VNF specs) -> placements.
// It reads nothing and changes nothing. Rules and tie-breaks are in docs/planning.md.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "planning/placement.h"
#include "spec/spec.h"

namespace vnf {

// What other VNFs already hold. Dedicated vCPUs always take whole cores, so a core with any CPU
// in `cpus` is not free.
struct Allocations {
  std::set<int> cpus;           // host CPUs pinned to vCPUs of existing VNFs
  std::set<PciAddress> vfs;     // VFs assigned to existing VNFs
  // Hugepages promised to VNFs that do not hold them yet (defined, not running), per (node, page KiB).
  // Pages of running VNFs are already missing from the host's free counts.
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> hugepages;
  // Hugepages running VNFs hold now but give back before this plan is carried out (--replace).
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> hugepages_returning;

  void add(const Placement& p, bool pages_already_taken);
};

// Places every instance in order (each sees the ones before it). On failure, the Error says for
// every NUMA node why the first instance that does not fit cannot go there, and what would help.
Result<std::vector<Placement>> planAll(const HostTopology& host, const Allocations& existing,
                                       const std::vector<VnfSpec>& instances);

// Housekeeping CPUs of a node: its non-isolated CPUs when the host isolates any, else its first
// core (lowest CPU and its SMT siblings). They are never given to dedicated vCPUs.
std::vector<int> housekeepingCpus(const HostTopology& host, int node);

}  // namespace vnf
