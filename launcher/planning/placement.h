// Placement: where the planner put one VNF instance, and why. Pure data, rendered by domain/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/parse.h"

namespace vnf {

struct VfAssignment {
  int nic_index = 0;  // index into VnfSpec::nics
  PciAddress pf;
  PciAddress vf;
  int vf_index = -1;      // N of the PF's virtfnN
  std::string vf_driver;  // driver bound now ("vfio-pci" means prepared: managed='no')
  int numa_node = -1;
};

struct Placement {
  std::string name;                // the instance name (name-1.. with --count)
  int node = -1;                   // NUMA node of vCPUs and memory
  std::vector<int> vcpu_pins;      // host CPU for each vCPU (index = vCPU); dedicated policy
  std::vector<int> shared_cpus;    // shared policy: the node's CPUs the vCPUs float on
  std::vector<int> emulator_cpus;  // where QEMU's emulator threads run
  std::uint64_t memory_kib = 0;
  std::uint64_t page_size_kib = 0;  // 0: no hugepages
  std::uint64_t hugepages = 0;      // pages taken from `node`
  std::vector<VfAssignment> vfs;
  // Guest CPU topology matching the pinning: threads = 2 when vCPUs were placed on SMT pairs.
  int guest_cores = 1;
  int guest_threads = 1;
  std::vector<std::string> reasons;  // why this node, these CPUs, these VFs (for `vnfctl plan`)
};

}  // namespace vnf
