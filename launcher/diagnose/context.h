// Internal to diagnose: what every check needs, and small typed reads with their "where".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/diagnose.h"
#include "diagnose/vnf_path.h"

namespace vnf::diagnose {

struct Ctx {
  Ctx(const HostFs& f, Probe& p, std::vector<Finding>& o) : fs(f), probe(p), out(o) {}
  const HostFs& fs;
  Probe& probe;
  std::vector<Finding>& out;

  // "what" plus the probe's origin ("ETHTOOL_GRINGPARAM ens1f0, recorded in answers.json").
  std::string via(const std::string& what) const;
  // Reads through HostFs; "where" of a file read is its path (under --host-root when not "/").
  std::string file(const std::string& path) const;
  std::optional<std::int64_t> readInt(const std::string& path) const;
  std::optional<std::string> readTrimmed(const std::string& path) const;
  // The netdev of a PCI function (/sys/bus/pci/devices/ADDR/net/*), "" when it has none. Read once
  // per run (many VNFs share a PF).
  std::string netdevOf(const std::string& pci) const;
  // CPUs of a NUMA node (/sys/devices/system/node/nodeN/cpulist); empty when unknown.
  std::vector<int> nodeCpus(int node) const;

  void add(Finding f) { out.push_back(std::move(f)); }

  // Read once per run.
  const Result<KernelLog>& kernelLog();
  // The records of kernelLog() that mention an IOMMU (DMAR, AMD-Vi, ...), filtered once per run.
  const std::vector<std::string>& iommuLog();
  // A PF's MSI IRQs and their smp_affinity_list (nullopt: unreadable), read once per run; nullopt
  // when the PF lists no IRQs.
  using IrqAffinity = std::vector<std::pair<std::string, std::optional<std::string>>>;
  const std::optional<IrqAffinity>& pfIrqs(const std::string& pf);
  const Result<nlohmann::json>& ruleset();
  // Legacy (xtables, not nf_tables) iptables tables: /proc/net/ip_tables_names and
  // ip6_tables_names, read once per run. Each entry "iptables filter", "ip6tables nat", ...
  const std::vector<std::string>& legacyTables();
  // IFLA_VF_STATS of a PF's VFs, asked once per PF and sample (`sample` 0 before the window, 1 after).
  const Result<std::map<int, Counters>>& vfStats(const std::string& pf, int sample);

 private:
  std::optional<Result<KernelLog>> kmsg_;
  std::optional<Result<nlohmann::json>> nft_;
  mutable std::map<int, std::vector<int>> node_cpus_;
  mutable std::map<std::string, std::string> netdev_;
  std::optional<std::vector<std::string>> iommu_lines_;
  std::map<std::string, std::optional<IrqAffinity>> pf_irqs_;
  std::optional<std::vector<std::string>> legacy_;
  std::map<std::pair<std::string, int>, Result<std::map<int, Counters>>> vf_stats_;
};

// Checks, one family per file. Each adds findings for one VNF (or the host).
void checkDmar(Ctx& c, const VnfPath& v);
void checkVlan(Ctx& c, const VnfPath& v, const nlohmann::json* fwd_stats);
void checkMtu(Ctx& c, const VnfPath& v, const nlohmann::json* fwd_stats);
void checkForwarding(Ctx& c, const VnfPath& v);
// Host-wide, once per run when a diagnosed VNF has taps: legacy iptables tables diagnose cannot read.
void checkLegacyIptables(Ctx& c);
void checkNuma(Ctx& c, const VnfPath& v);
void checkRings(Ctx& c, const VnfPath& v, const std::string& serial_tail, const nlohmann::json* fwd_stats);
void checkOffloads(Ctx& c, const VnfPath& v);
// Host-wide: throttle counters and temperatures (first read; `later` re-reads after the window).
struct ThermalSample {
  std::map<std::string, std::uint64_t> throttle;  // path -> count
};
ThermalSample sampleThermal(Ctx& c, bool reread);
void checkThermal(Ctx& c, const ThermalSample& first, const ThermalSample* later);

// The guest's data ports in vnf-fwd's port order: the VFs the spec attaches as interfaces (not
// hostdev), then the taps. vf or tap is set.
struct GuestPort {
  int index = 0;
  const VfMetadata* vf = nullptr;
  const TapPort* tap = nullptr;
};
std::vector<GuestPort> guestPorts(const VnfPath& v);
// The forwarder's document for guest port `index` (its "ports" entry), nullptr when it has none.
const nlohmann::json* forwarderPort(const nlohmann::json* fwd_stats, int index);
// "the spec's guest.forwarder.rx_descriptors (now 64; 64..4096, and a virtio port uses at most its
// virtqueue's size, 256 under QEMU's default)": what to raise, with the value the forwarder reports.
std::string descriptorFix(const char* field, std::optional<std::uint64_t> now, bool virtio);

// The last "VNF-FWD STATS {json}" document in serial log text; nullopt when none parses.
std::optional<nlohmann::json> lastForwarderStats(std::string_view serial_text);
// The last `count` such documents, oldest first (fewer when the text has fewer): two give the
// forwarder's rates (the API's indicators).
std::vector<nlohmann::json> lastForwarderStats(std::string_view serial_text, std::size_t count);

}  // namespace vnf::diagnose
