// One change to the host, as a value: what (kind, target), the state before and the state wanted.
// desiredSteps() turns a spec into the steps it implies for a host (validating everything first);
// the Preparer (apply.h) reads each step's current state and applies only the differences.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "prep/prep_spec.h"

namespace vnf::prep {

enum class StepKind {
  kNumVfs,   // target: PF address; value: VF count
  kVfMac,    // target: PF address, vf: index; value: MAC
  kVfVlan,   // value: "0".."4094"
  kVfTrust,  // value: "on"/"off"
  kVfSpoofchk,
  kDriver,     // target: PF address, vf: index; value: driver name ("" = none); note: driver_override
  kHugepages,  // target: per-node nr_hugepages path; value: page count
  kMount,      // target: hugetlbfs directory; value: page size ("" = not mounted); note: "created" if made
  kFile,       // target: real path of a persistence file; value: content; note: "absent" if it did not exist
};

const char* stepKindName(StepKind kind);
std::optional<StepKind> stepKindFromName(std::string_view name);

inline constexpr const char* kNewVf = "(new VF)";  // `from` of a VF that does not exist yet

struct Step {
  StepKind kind = StepKind::kNumVfs;
  std::string target;
  int vf = -1;
  std::string from;  // current state ("" = none; kNewVf for VFs still to be created)
  std::string to;    // wanted state
  std::string note;

  // Same object (kind, target, vf): the journal keeps one entry per object.
  bool sameObject(const Step& o) const { return kind == o.kind && target == o.target && vf == o.vf; }
};

// "0000:81:00.1 sriov_numvfs: 0 -> 2", "0000:81:00.1 VF 0 driver: iavf -> vfio-pci", ...
std::string describe(const Step& step);

// The NUMA node hugepages go to when the spec does not say: the first PF's node, else 0.
int defaultHugepageNode(const HostTopology& host, const PrepareSpec& spec);

// Every step the spec implies on this host, in the order to apply them (VF count, VF settings,
// vfio-pci binds, hugepages, mounts), with `from` left empty. Fails, listing every problem at once,
// when a PF is missing or not SR-IOV capable, a count exceeds sriov_totalvfs, vfio-pci is not loaded,
// the IOMMU is off, or a hugepage pool does not exist on the node.
Result<std::vector<Step>> desiredSteps(const HostTopology& host, const PrepareSpec& spec);

}  // namespace vnf::prep
