// Discovery of a host through libvirt's own host APIs, for remote URIs (qemu+ssh://, qemu+tls://)
// where vnfctl cannot read /sys: NUMA cells, CPUs and SMT siblings and hugepages from the
// capabilities XML, free pages and memory per cell from virNodeGetFreePages/virNodeGetCellsFreeMemory,
// network PCI functions (driver, NUMA node, IOMMU group, SR-IOV VFs) and their netdevs from the
// node device API. What libvirt does not expose (isolated CPUs, kernel cmdline, hugetlbfs mounts) is
// left empty and said so in the topology's notes.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "virt/connection.h"

namespace vnf {

// Pure parsers (tested on fixed XML): the host part of virConnectGetCapabilities, and the XML of
// node devices (PCI functions and net devices).
Result<HostTopology> topologyFromCapabilities(const std::string& capabilities_xml);
void addNetworkDevices(HostTopology& host, const std::vector<std::string>& pci_device_xmls,
                       const std::vector<std::string>& net_device_xmls);

// Fetches and combines the above, plus free pages and free memory per cell.
Result<HostTopology> discoverViaLibvirt(const Connection& conn);

}  // namespace vnf
