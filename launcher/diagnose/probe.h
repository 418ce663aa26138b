// What diagnose reads that is not a file: libvirt's VNF domains, rtnetlink's VF settings, the
// ethtool API, the kernel log, the nftables ruleset, the guest forwarder's statistics, and the
// counters it samples twice. One interface with two implementations: LiveProbe asks the kernel and
// libvirt; RecordedProbe replays a recorded-answers file (docs/diagnose.md), so every check runs on
// fixtures and on another host's capture. Files (sysfs, procfs) are read through HostFs instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "diagnose/ethtool.h"
#include "host/host_fs.h"

namespace vnf::diagnose {

using Counters = std::map<std::string, std::uint64_t>;

struct DomainRecord {
  std::string name;
  std::string state;  // "running", "shut off", ... (domainStateName)
  std::string xml;    // live XML when running
};

// Kernel log records (text after the kmsg prefix), oldest first, and where they were read.
struct KernelLog {
  std::string source;  // "/dev/kmsg", "/var/log/kern.log (its last 4 MiB)"
  std::vector<std::string> records;
};

struct VfVlan {
  int index = 0;
  int vlan = 0;
};

class Probe {
 public:
  virtual ~Probe() = default;
  // Where answers come from, appended to each finding's "where" ("" live; "recorded in FILE").
  virtual std::string origin() const = 0;
  // The VNF domains vnfctl manages, sorted by name.
  virtual Result<std::vector<DomainRecord>> domains() = 0;
  // IFLA_VF_VLAN of each VF of a PF netdev.
  virtual Result<std::vector<VfVlan>> vfVlans(const std::string& pf) = 0;
  // IFLA_VF_STATS of each VF of a PF netdev, by VF index (prep::netlink::vfStats's counter names);
  // sampled like linkStats.
  virtual Result<std::map<int, Counters>> vfStats(const std::string& pf) = 0;
  virtual Result<ethtool::RingParams> rings(const std::string& ifname) = 0;
  virtual Result<std::map<std::string, bool>> features(const std::string& ifname) = 0;
  // Samples (they change between sample(0) and sample(1), see advance()).
  virtual Result<Counters> nicStats(const std::string& ifname) = 0;
  virtual Result<Counters> linkStats(const std::string& ifname) = 0;
  // The last 1 MiB of a guest's serial log (host path): the forwarder's "VNF-FWD STATS {json}"
  // lines and the guest's "ring buffer full" lines reach the host there.
  virtual Result<std::string> serialTail(const std::string& serial_log) = 0;
  // A file that may change during the window (throttle counters): read again now.
  virtual Result<std::string> reread(const std::string& path) = 0;
  virtual Result<KernelLog> kernelLog() = 0;
  // `list ruleset` as libnftables JSON.
  virtual Result<nlohmann::json> nftRuleset() = 0;
  // Ends the first sample: live waits `window`; recorded moves to the second recorded sample.
  virtual void advance(std::chrono::milliseconds window) = 0;
};

// Live: libvirt on `uri` ("" default), netlink, SIOCETHTOOL, /dev/kmsg (or /var/log/kern.log),
// libnftables, serial logs and re-reads through `fs`. `interrupted` ends a wait early.
std::unique_ptr<Probe> makeLiveProbe(const HostFs& fs, std::string uri, bool (*interrupted)());

// How much of /var/log/kern.log the live probe reads (its end) when /dev/kmsg cannot be opened.
inline constexpr std::uint64_t kKernLogTailBytes = 4ull << 20;
// The last `max_bytes` of /var/log/kern.log under `fs`, one record a line (a first line cut by the
// tail is dropped). Errors: the file is missing, unreadable or not a regular file (kUnreadable).
Result<KernelLog> readKernLogTail(const HostFs& fs, std::uint64_t max_bytes = kKernLogTailBytes);

// Replays a recorded-answers file (schema vnfctl.diagnose-answers/v1). A section the file does not
// have ("nft", "kmsg", ...) is asked of `fallback` when there is one (the live host, for tests that
// record only the domains), and is "not recorded" otherwise. Errors: the file cannot be read or is
// not that schema (kBadContent naming the file).
Result<std::unique_ptr<Probe>> loadRecordedProbe(const std::string& path, std::unique_ptr<Probe> fallback = nullptr);

}  // namespace vnf::diagnose
