// The VNF spec as a command takes it: spec files, or the same fields as flags for one-off use.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "spec/spec.h"

namespace vnf::cli {

struct SpecArgs {
  std::vector<std::string> files;
  // Flags (used when no file is given; a file plus flags overrides the file's values).
  std::string name;
  int vcpus = -1;  // -1: not given
  std::string memory;
  std::string hugepages;
  std::string cpu_policy, smt_policy, emulator_threads, numa_affinity, profile;
  std::vector<std::string> nics;  // "PF[,vf=N][,mac=M][,vlan=V][,mtu=U][,trust=on][,spoofchk=off][,mode=hostdev]"
  std::vector<std::string> taps;  // "TAP[,mac=M][,mtu=U]"
  int count = -1;
};

// Adds the spec options to `cmd`; `args` must outlive parsing.
void addSpecOptions(CLI::App* cmd, SpecArgs& args);

// The instances the arguments ask for (files in order, each expanded by its count), validated.
Result<std::vector<VnfSpec>> gatherSpecs(const SpecArgs& args);

}  // namespace vnf::cli
