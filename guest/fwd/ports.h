// Port discovery and setup after EAL init: find the requested ports (by PCI
// address, MAC or device name), create one mbuf pool per NUMA socket, configure
// queues on the port's socket, start ports, stop and close them at exit.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "config.h"
#include "error.h"

namespace vnf::fwd {

struct PortInfo {
  std::uint16_t index = 0;    // position in the selected list
  std::uint16_t port_id = 0;  // DPDK port id
  std::string name;           // device name: PCI address or vdev name
  MacBytes mac{};
  int socket = 0;  // NUMA socket (0 when the device does not say)
  std::uint16_t rx_queues = 1;
  std::uint16_t tx_queues = 1;
};

// Every port EAL probed, for messages.
std::string describeAvailablePorts();

// Maps selectors to ports (all ports, in id order, when none is given). Fails with the
// list of available ports when a selector matches nothing or no port exists.
std::expected<std::vector<PortInfo>, Error> resolvePorts(const std::vector<PortSelector>& selectors);

// Owns the mbuf pools; configures and starts ports; stops, closes and frees on destruction.
class PortSet {
 public:
  PortSet() = default;
  PortSet(const PortSet&) = delete;
  PortSet& operator=(const PortSet&) = delete;
  ~PortSet();

  // ports[i].tx_queues must already hold how many workers transmit on port i.
  // warnings receives non-fatal notes (no RSS, MTU, promiscuous mode).
  std::expected<void, Error> setup(std::vector<PortInfo> ports, const Config& config,
                                   std::vector<std::string>& warnings);
  // Waits up to timeout_ms for every link; returns the names of ports still down.
  std::vector<std::string> waitForLinks(std::uint32_t timeout_ms) const;
  void shutdown();

  const std::vector<PortInfo>& ports() const { return ports_; }
  // Sends bursts x burst_size frames of frame_bytes on every port (TX queue 0), before workers
  // start. Returns how many frames the TX rings took.
  std::uint64_t sendFirst(std::uint16_t bursts, std::uint16_t burst_size, std::uint16_t frame_bytes);

 private:
  std::vector<PortInfo> ports_;
  std::vector<std::uint16_t> started_;
  std::vector<std::uint16_t> configured_;
  std::map<int, rte_mempool*> pools_;
};

}  // namespace vnf::fwd
