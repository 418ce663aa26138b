// `vnfctl verify`: reads back what runs and compares it with the plan recorded in the domain's
// metadata: vCPU pinning (libvirt's view and the QEMU threads' real affinity from /proc), the
// emulator pinning, the NUMA node the guest memory and hugepages really come from (numa_maps),
// and the VF addresses in the live definition.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "virt/vnf_domains.h"

namespace vnf {

struct VerifyCheck {
  std::string what;
  std::string expected;
  std::string actual;
  bool ok = false;
};

// Needs the domain running, and (for the /proc checks) a local qemu:/// connection as root.
// `proc_root` is "/" normally; the QEMU pid comes from libvirt's pid file.
Result<std::vector<VerifyCheck>> verifyDomain(const Connection& conn, const ManagedDomain& domain);

}  // namespace vnf
