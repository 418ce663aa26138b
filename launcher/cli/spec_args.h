// The VNF spec as a command takes it: spec files, or the same fields as flags for one-off use.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "spec/spec.h"

namespace vnf::cli {

struct SpecArgs {
  std::vector<std::string> files;
  // Flags, kept as typed: they are checked by the spec parser itself (an empty or out-of-range value
  // is an error, never "not given"). With a file, a given flag overrides the file's value.
  std::string name, vcpus, memory, hugepages, cpu_policy, smt_policy, emulator_threads, numa_affinity, profile, count;
  std::vector<std::string> nics;  // "PF[,vf=N][,mac=M][,vlan=V][,mtu=U][,trust=on][,spoofchk=off][,mode=hostdev]"
  std::vector<std::string> taps;  // "TAP[,mac=M][,mtu=U]"
  std::map<std::string, CLI::Option*> options;  // by spec key: whether it was given

  bool given(const std::string& key) const;
};

// Adds the spec options to `cmd`; `args` must outlive parsing.
void addSpecOptions(CLI::App* cmd, SpecArgs& args);

// The instances the arguments ask for (files in order, each expanded by its count), validated.
Result<std::vector<VnfSpec>> gatherSpecs(const SpecArgs& args);

}  // namespace vnf::cli
