// --persist: the files that make a prepared host stay prepared across reboots. A systemd unit re-applies
// the host spec at boot before libvirtd; a grub drop-in carries the parameters that only work from the
// kernel command line. vnfctl writes them (journaled, so unprepare removes them) and prints the commands
// that activate them; it never runs update-grub or systemctl itself.
#pragma once

#include <string>
#include <vector>

#include "discovery/topology.h"
#include "prep/prep_spec.h"
#include "prep/steps.h"

namespace vnf::prep {

struct PersistOptions {
  std::string root = "/";  // where /etc is written (a temp dir in tests)
  std::string vnfctl_path = "/usr/bin/vnfctl";
  std::string journal_path;  // passed to the boot-time run
};

inline constexpr const char* kUnitName = "vnfctl-prepare.service";

// The kernel parameters the spec needs at boot ("intel_iommu=on iommu=pt isolcpus=2-7 ...").
std::string bootParams(const HostTopology& host, const PrepareSpec& spec);
// kFile steps (target: real path under root) for the spec copy, the unit and the grub drop-in.
std::vector<Step> persistSteps(const HostTopology& host, const PrepareSpec& spec, const PersistOptions& options);
// What the operator runs to activate them.
std::vector<std::string> activationCommands(const HostTopology& host, const PrepareSpec& spec);

}  // namespace vnf::prep
