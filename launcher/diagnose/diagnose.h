// `vnfctl diagnose`: walks the troubleshooting matrix for VNFs. Static checks read the host through
// HostFs (sysfs, procfs, serial logs) and everything else through a Probe (live or recorded); then,
// with a window, counters are sampled twice along each VNF's path to find the first hop where
// packets die. The library returns findings; the CLI prints them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "diagnose/finding.h"
#include "diagnose/probe.h"
#include "host/host_fs.h"

namespace vnf::diagnose {

struct Request {
  std::vector<std::string> names;  // VNFs to diagnose; empty with all = true: every VNF
  bool all = false;
  std::chrono::milliseconds window{0};  // 0: static checks only
};

// One hop of a VNF's path over the sample window.
struct Hop {
  std::string vnf;
  std::string hop;    // "PF ens1f0 rx", "tap vnf5a -> guest", "guest port 0 rx", ...
  std::string where;  // where the counters were read
  double packets_per_s = 0;
  std::uint64_t dropped = 0;  // drop counters' growth during the window
  std::string drop_counters;  // which counters grew: "rx_missed_errors +120"
};

struct Report {
  std::vector<Finding> findings;
  std::vector<Hop> hops;
};

// Errors: kNoSuchVnf for a name no managed domain has (with "did you mean"); the probe's error when
// the domains cannot be listed. Everything else (a NIC without ethtool support, a file missing, a
// VNF that is not running) is a finding, never an error.
Result<Report> runDiagnose(const HostFs& fs, Probe& probe, const Request& request);

}  // namespace vnf::diagnose
