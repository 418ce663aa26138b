// Counter snapshots and what is said about them: the JSON served on the stats
// socket, the periodic rate line, the ring-full warnings and the final summary.
// Pure functions of snapshots (no EAL), so the texts are unit-tested.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config.h"
#include "packet_logic.h"

namespace vnf::fwd {

struct QueueCounters {
  std::uint16_t queue = 0;
  unsigned lcore = 0;               // worker lcore that polls (RX) or fills (TX) this queue
  std::uint64_t packets = 0;        // RX queue: frames received; TX queue: frames sent
  std::uint64_t tx_full_drops = 0;  // TX queue only: frames the TX ring did not take (freed)
};

struct PortCounters {
  std::uint16_t index = 0;    // position in the selected port list
  std::uint16_t port_id = 0;  // DPDK port id
  std::string name;           // PCI address or vdev name
  std::string mac;
  int socket = 0;
  bool link_up = false;
  std::uint32_t mtu = 1500;  // --mtu or --port-mtu
  // Counted by the workers.
  std::uint64_t rx = 0;         // every frame received, mtu_drops included
  std::uint64_t mtu_drops = 0;  // received frames longer than MTU + 14 (+ 4 per VLAN tag), freed
  std::uint64_t tx = 0;
  std::uint64_t tx_full_drops = 0;
  // From rte_eth_stats_get.
  std::uint64_t imissed = 0;
  std::uint64_t rx_nombuf = 0;
  std::uint64_t ierrors = 0;
  std::uint64_t oerrors = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  // Received frames (mtu_drops included) by the VLAN id of their outer tag, only ids seen, and
  // untagged; and by RFC 2819 size class (packet_logic.h kSizeClassNames, FCS counted).
  std::map<std::uint16_t, std::uint64_t> vlan_frames;
  std::uint64_t untagged_frames = 0;
  std::array<std::uint64_t, kSizeClasses> size_frames{};
  // Descriptors per RX/TX queue as the PMD set them up (rte_eth_*_queue_info_get; --rxd/--txd when
  // the PMD does not say). virtio uses at most its virtqueue's size.
  std::uint16_t rxd = 0;
  std::uint16_t txd = 0;
  std::vector<QueueCounters> rx_queues;
  std::vector<QueueCounters> tx_queues;

  std::uint64_t drops() const { return imissed + rx_nombuf + ierrors + tx_full_drops + mtu_drops; }
};

struct Snapshot {
  double uptime_s = 0;
  Mode mode = Mode::kIo;
  std::vector<PortCounters> ports;
};

inline constexpr int kStatsSchemaVersion = 1;

// Schema documented in guest/fwd/README.md ("Stats socket").
nlohmann::json toJson(const Snapshot& snapshot);

// "VNF-FWD STATS {...}": toJson(snapshot) on one line, for whoever reads the console
// (vnfctl stats parses the last one from the serial log).
std::string statsLine(const Snapshot& snapshot);

// "rate: rx 12.34 Mpps 8.29 Gbps, tx ..., drops ... pps (imissed ..., rx_nombuf ..., tx_full ...)"
std::string rateLine(const Snapshot& previous, const Snapshot& current);

// One warning per port and counter that rose between the snapshots (the operations
// manuals' "ring buffer full"): the counter, its increase and rate, and the remedy.
std::vector<std::string> ringFullWarnings(const Snapshot& previous, const Snapshot& current, const Config& config);

// Multi-line summary printed at exit.
std::string summaryText(const Snapshot& snapshot);

}  // namespace vnf::fwd
