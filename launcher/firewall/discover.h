// The interfaces the firewall is about, read from libvirt's API: the ports (taps, vnetN) and bridges
// of vnfctl's domains (found by their metadata, from their XML) and the bridges of libvirt's active
// networks (where libvirt's dnsmasq answers DHCP and DNS).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "firewall/ruleset.h"
#include "virt/connection.h"

namespace vnf::fw {

struct Discovered {
  Interfaces interfaces;
  // Things the user should know: a stopped VNF whose libvirt-made port has no name yet, ...
  std::vector<std::string> notes;
};

Result<Discovered> discoverInterfaces(const Connection& conn);

// The interfaces of one domain XML: <target dev> of every <interface> into `ports`, <source
// bridge> into `bridges`, <source network> names into `networks`. Pure; for the unit tests.
struct DomainPorts {
  std::vector<std::string> ports;
  std::vector<std::string> bridges;
  std::vector<std::string> networks;
  int unnamed = 0;  // interfaces with no <target dev> (a stopped domain's bridge/network NICs)
};
Result<DomainPorts> portsOfDomainXml(const std::string& xml, const std::string& domain);

}  // namespace vnf::fw
