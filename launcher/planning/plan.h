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

// Memory each NUMA node keeps for the host (kernel, page cache, libvirtd, QEMU's own overhead per
// guest) and never offers to VNFs on normal pages: 1 GiB, enough for a small host's kernel and
// daemons; raise it on hosts with heavy host-side services.
inline constexpr std::uint64_t kDefaultHostReserveKib = 1024 * 1024;

// What other VNFs (and foreign domains) already hold. Dedicated vCPUs always take whole cores, so a
// core with any CPU in `cpus` is not free.
struct Allocations {
  std::set<int> cpus;        // host CPUs pinned to vCPUs (or emulator threads) of existing domains
  std::set<PciAddress> vfs;  // VFs (PCI functions) assigned to existing domains
  // Hugepages promised to VNFs that do not hold them yet (defined, not running), per (node, page KiB).
  // Pages of running VNFs are already missing from the host's free counts.
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> hugepages;
  // Hugepages running VNFs hold now but give back before this plan is carried out (--replace).
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> hugepages_returning;
  // Memory on normal pages held per node, running or not (the planner starts from MemTotal, so a
  // running domain's memory is not already gone from what it counts). Node -1: domains bound to no
  // single node; their memory may come from any node, so it is counted against every node.
  std::map<int, std::uint64_t> memory_kib;
  // Kept back on every node for the host (see kDefaultHostReserveKib); a planning setting carried
  // here so planAll's signature stays.
  std::uint64_t host_reserve_kib = kDefaultHostReserveKib;

  void add(const Placement& p, bool pages_already_taken);
};

// Places every instance in order (each sees the ones before it). Normal-page memory: a node offers
// MemTotal - its reserved hugepages (every size, total x size) - host_reserve_kib - what others
// hold there (memory_kib[node] and memory_kib[-1]). On failure, the Error says for
// every NUMA node why the first instance that does not fit cannot go there, and what would help.
Result<std::vector<Placement>> planAll(const HostTopology& host, const Allocations& existing,
                                       const std::vector<VnfSpec>& instances);

// Housekeeping CPUs of a node: its non-isolated CPUs when the host isolates any, else its first
// core (lowest CPU and its SMT siblings). They are never given to dedicated vCPUs.
std::vector<int> housekeepingCpus(const HostTopology& host, int node);

}  // namespace vnf
