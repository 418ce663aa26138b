// A VNF's traffic path as its domain XML describes it: the VFs (from vnfctl's metadata, with the
// spec's VLAN and MTU), the taps (target dev, MTU), the serial log the guest's lines reach, and
// the placement (node, pinned CPUs). Pure: parses text, reads nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "diagnose/probe.h"
#include "domain/metadata.h"

namespace vnf::diagnose {

struct TapPort {
  std::string dev;         // <target dev=...>
  std::optional<int> mtu;  // <mtu size=...>; nullopt: 1500 by default
};

struct VnfPath {
  std::string name;
  std::string state;
  VnfMetadata meta;
  std::vector<TapPort> taps;
  std::string serial_log;  // <serial type='file'><source path=...>; "" when none
  bool running() const { return state == "running"; }
};

// Errors (kBadContent, naming the domain): XML that does not parse, or no vnfctl metadata.
Result<VnfPath> parseVnfPath(const DomainRecord& d);

}  // namespace vnf::diagnose
