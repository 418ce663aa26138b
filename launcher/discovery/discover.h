// Discovery: reads a host (live or a snapshot) through a HostFs and returns its HostTopology.
// It decides nothing; doctor and planning judge what it found.
//
// Error policy (docs/host-discovery.md): files that define the host's shape (the CPU and NUMA
// lists, CPU topology ids) must parse, else discovery fails with an error naming the file and the
// expected form. Attributes of single devices (numa_node, MTU, speed, hugepage counts, ...) fall
// back to "unknown" and add a DiscoveryNote naming the file, so one odd device never hides the
// rest of the host.
#pragma once

#include "common/error.h"
#include "discovery/topology.h"
#include "host/host_fs.h"

namespace vnf {

Result<HostTopology> discoverHost(const HostFs& fs);

}  // namespace vnf
