// What every domain on a libvirt connection holds on the host, read from its XML: libvirt's XML is
// the truth (a VNF re-pinned with `virsh vcpupin --config` or `virsh edit` holds what its XML says,
// not what vnfctl's metadata recorded), and foreign domains hold CPUs, VFs and memory too.
//
// What is counted from where (docs/design.md, "Allocations come from libvirt's XML"):
//   cpus        every CPU of <cputune><vcpupin cpuset> and <emulatorpin cpuset>. <vcpu cpuset> is not
//               counted: vCPUs without a <vcpupin> float over it (vnfctl's shared policy, unpinned
//               guests) and hold no CPU exclusively. vnfctl's dedicated VNFs pin every vCPU.
//   vfs         the PCI source address of <hostdev type='pci'> and of any <interface> with a PCI
//               <source><address> (type='hostdev', and type='network' on a hostdev pool, whose live
//               XML shows the VF libvirt picked; a defined one holds no VF until it starts).
//   memory_kib  <memory> (converted from its unit).
//   node        <numatune><memory mode='strict' nodeset='N'> naming exactly one node; else -1.
//   hugepages   <memoryBacking><hugepages><page size>: memory_kib / page size, rounded up. A bare
//               <hugepages/> means the host's default size, taken as 2 MiB (x86's default).
//   macs        <interface><mac address> of every NIC (what the fleet planner keeps unique); for
//               vnfctl's domains labelled as the renderer derives them: "vfN" (the NIC whose VF the
//               metadata records at that PCI address), "tapN" (the Nth type='ethernet'), "mgmt".
// Active domains are read from their live XML; a persistent active domain's CPUs and VFs also
// include its next-boot (inactive) XML, so `vcpupin --config` on a running VNF is honoured at once.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "domain/metadata.h"
#include "planning/plan.h"
#include "virt/connection.h"
#include "virt/vnf_domains.h"

namespace vnf {

struct DomainMac {
  std::string label;  // "vf0", "tap1", "mgmt" for a managed domain's NICs; "" for foreign domains
  MacAddress mac{};
};

struct DomainHolding {
  std::string name;
  bool managed = false;  // has vnfctl's metadata element (kVnfMetadataNs)
  DomainState state = DomainState::kOther;
  std::set<int> cpus;        // host CPUs pinned to its vCPUs and emulator threads
  std::set<PciAddress> vfs;  // PCI functions assigned to it
  std::uint64_t memory_kib = 0;
  int node = -1;                    // strict single-node memory binding; -1 none or several
  std::uint64_t page_size_kib = 0;  // 0: normal pages
  std::uint64_t hugepages = 0;      // pages of page_size_kib
  std::optional<VnfMetadata> meta;  // managed domains
  std::vector<DomainMac> macs;      // every NIC's MAC, in the XML's order
};

// What one domain XML (virDomainGetXMLDesc) holds; `state` is left kOther for the caller.
// Errors (kBadContent): the XML does not parse, or vnfctl's metadata element is there but damaged;
// the message names the domain and `uri`, the fix gives the virsh commands to repair or remove it.
Result<DomainHolding> holdingFromXml(const std::string& xml, const std::string& uri);

// Every domain on `conn` (managed and foreign, running and defined), sorted by name. A domain that
// vanishes while being read is skipped. Errors: listing fails, or a domain's metadata is damaged
// (never read as "not ours": that would hand its CPUs out again).
Result<std::vector<DomainHolding>> readHoldings(const Connection& conn);

// The same, keeping going past damaged domains: the domains that read well, and one entry per
// domain whose XML or vnfctl metadata is damaged (its name, state, and the error naming the repair).
// What a damaged domain holds is unknown: a caller plans nothing on such a host.
struct HoldingsListing {
  std::vector<DomainHolding> holdings;
  std::vector<DamagedDomain> damaged;  // sorted by name
};
Result<HoldingsListing> readHoldingsKeepingDamaged(const Connection& conn);

// Folds one domain into `a`: its CPUs and VFs always; hugepages when it does not hold them yet
// (not running or paused: a running domain's pages are already missing from the free counts);
// normal memory always (the planner starts from MemTotal, not MemFree), on its node or, without a
// strict single-node binding, under node -1, which the planner counts against every node.
void addHolding(Allocations& a, const DomainHolding& h);

// Every holding folded into one Allocations (host_reserve_kib keeps its default).
Allocations allocationsOf(const std::vector<DomainHolding>& holdings);

}  // namespace vnf
