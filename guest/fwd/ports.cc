#include "ports.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/core.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace vnf::fwd {
namespace {

constexpr unsigned kPoolCache = 512;
constexpr std::uint32_t kMinPoolMbufs = 8192;
constexpr std::uint32_t kVlanOverhead = 8;  // room for a QinQ pair of tags
// The virtio PMD checks at RX queue setup that one mbuf holds MTU + 14 + 4 + its 12-byte
// virtio-net header (virtio_rx_check_scatter), else "Rx scatter is disabled and RxQ mbuf pool
// object size is too small": without this room, MTU 9000 failed on virtio NICs.
constexpr std::uint32_t kVirtioNetHeader = 12;

std::string deviceName(std::uint16_t port_id) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) == 0 && info.device != nullptr) return rte_dev_name(info.device);
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_id, name);
  return name;
}

MacBytes portMac(std::uint16_t port_id) {
  rte_ether_addr addr{};
  rte_eth_macaddr_get(port_id, &addr);
  MacBytes mac{};
  std::memcpy(mac.data(), addr.addr_bytes, 6);
  return mac;
}

PortInfo makeInfo(std::uint16_t index, std::uint16_t port_id) {
  const int socket = rte_eth_dev_socket_id(port_id);
  return PortInfo{index, port_id, deviceName(port_id), portMac(port_id), socket < 0 ? 0 : socket, 1, 1};
}

bool matches(const PortSelector& selector, std::uint16_t port_id) {
  switch (selector.kind) {
    case SelectorKind::kMac: return portMac(port_id) == selector.mac;
    case SelectorKind::kPci: return deviceName(port_id) == selector.text;
    case SelectorKind::kName: {
      char name[RTE_ETH_NAME_MAX_LEN] = {};
      rte_eth_dev_get_name_by_port(port_id, name);
      return deviceName(port_id) == selector.text || selector.text == name;
    }
  }
  return false;
}

}  // namespace

std::string describeAvailablePorts() {
  std::string text;
  std::uint16_t port_id = 0;
  RTE_ETH_FOREACH_DEV(port_id) {
    text += fmt::format("{}port {} {} {}", text.empty() ? "" : "; ", port_id, deviceName(port_id),
                        formatMac(portMac(port_id)));
  }
  return text.empty() ? "none" : text;
}

std::expected<std::vector<PortInfo>, Error> resolvePorts(const std::vector<PortSelector>& selectors) {
  if (rte_eth_dev_count_avail() == 0) {
    return std::unexpected(
        Error("no DPDK ports found: bind the NICs to a DPDK driver (dpdk-devbind.py -b uio_pci_generic 0000:00:04.0, "
              "or driver_override + drivers_probe) and allow them (--eal -a 0000:00:04.0), or add virtual devices "
              "(--eal --vdev net_null0)"));
  }
  std::vector<PortInfo> ports;
  if (selectors.empty()) {
    std::uint16_t port_id = 0;
    RTE_ETH_FOREACH_DEV(port_id) { ports.push_back(makeInfo(static_cast<std::uint16_t>(ports.size()), port_id)); }
    return ports;
  }
  std::vector<std::string> missing;
  for (const auto& selector : selectors) {
    bool found = false;
    std::uint16_t port_id = 0;
    RTE_ETH_FOREACH_DEV(port_id) {
      if (!found && matches(selector, port_id)) {
        ports.push_back(makeInfo(static_cast<std::uint16_t>(ports.size()), port_id));
        found = true;
      }
    }
    if (!found) missing.push_back(selector.text);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return std::unexpected(Error(fmt::format(
        "requested port{} not found: {}. Available: {}. Check the NIC is bound to uio_pci_generic or vfio-pci "
        "(dpdk-devbind.py --status) and not excluded by the EAL allow list (--eal -a ADDRESS)",
        missing.size() == 1 ? "" : "s", list, describeAvailablePorts())));
  }
  return ports;
}

PortSet::~PortSet() { shutdown(); }

std::expected<void, Error> PortSet::setup(std::vector<PortInfo> ports, const Config& config,
                                          std::vector<std::string>& warnings) {
  ports_ = std::move(ports);

  // One pool per socket, sized for every ring on it plus what workers hold in flight; its mbufs
  // hold a whole frame of the largest MTU on that socket (frames forwarded between ports of
  // different MTUs come from the RX port's pool), so no port needs scatter.
  std::map<int, std::uint32_t> needed;
  std::map<int, std::uint32_t> data_rooms;
  for (const auto& p : ports_) {
    needed[p.socket] += p.rx_queues * config.rxd + p.tx_queues * (config.txd + 2 * config.burst) +
                        (p.rx_queues + p.tx_queues) * kPoolCache;
    const std::uint32_t frame_bytes =
        config.mtuOf(p.index) + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + kVlanOverhead + kVirtioNetHeader;
    data_rooms[p.socket] = std::max({data_rooms[p.socket], static_cast<std::uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE),
                                     static_cast<std::uint32_t>(RTE_PKTMBUF_HEADROOM + frame_bytes)});
  }
  for (const auto& [socket, count] : needed) {
    const std::uint32_t data_room = data_rooms.at(socket);
    const std::uint32_t mbufs = config.mbufs != 0 ? config.mbufs : std::max(kMinPoolMbufs, count + count / 2);
    const std::string name = fmt::format("vnf_fwd_s{}", socket);
    rte_mempool* pool =
        rte_pktmbuf_pool_create(name.c_str(), mbufs, kPoolCache, 0, static_cast<std::uint16_t>(data_room), socket);
    if (pool == nullptr) {
      return std::unexpected(Error(fmt::format(
          "cannot create the mbuf pool on NUMA socket {} ({} mbufs of {} bytes): {}. Reserve more hugepages "
          "on that node (echo 512 > /sys/devices/system/node/node{}/hugepages/hugepages-2048kB/nr_hugepages) "
          "or lower --mbufs/--rxd/--txd",
          socket, mbufs, data_room, rte_strerror(rte_errno), socket)));
    }
    pools_[socket] = pool;
  }

  for (const auto& p : ports_) {
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(p.port_id, &info); rc != 0) {
      return std::unexpected(
          Error(fmt::format("port {} ({}): cannot read device info: {}", p.index, p.name, rte_strerror(-rc))));
    }
    if (p.rx_queues > info.max_rx_queues || p.tx_queues > info.max_tx_queues) {
      return std::unexpected(Error(fmt::format(
          "port {} ({}) needs {} RX and {} TX queues but supports {} and {}: lower --rxq, or use fewer worker "
          "lcores (--eal -l); each worker that sends on a port needs its own TX queue",
          p.index, p.name, p.rx_queues, p.tx_queues, info.max_rx_queues, info.max_tx_queues)));
    }
    rte_eth_conf conf{};
    const std::uint32_t mtu = config.mtuOf(p.index);
    conf.rxmode.mtu = mtu;  // rte_eth_dev_configure passes it to the PMD (virtio: checked against its max_mtu)
    if (mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN > info.max_rx_pktlen || mtu > info.max_mtu) {
      const std::uint32_t limit =
          std::min<std::uint32_t>(info.max_mtu, info.max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN);
      return std::unexpected(Error(fmt::format(
          "port {} ({}) supports MTU up to {}, its MTU is {}: lower --mtu (or --port-mtu {}=MTU) to {} or less; "
          "for a virtio NIC the host sets the limit (libvirt <mtu size='N'/> on the interface)",
          p.index, p.name, limit, mtu, p.index, limit)));
    }
    if (p.rx_queues > 1) {
      const std::uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
      if (rss != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
      } else {
        warnings.push_back(
            fmt::format("port {} ({}) has no RSS: {} RX queues are set up but the device "
                        "chooses which one receives",
                        p.index, p.name, p.rx_queues));
      }
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;  // one pool, no refcounts: cheaper TX free
    }
    if (int rc = rte_eth_dev_configure(p.port_id, p.rx_queues, p.tx_queues, &conf); rc != 0) {
      return std::unexpected(Error(fmt::format("port {} ({}): configure with {} RX / {} TX queues, MTU {} failed: {}",
                                               p.index, p.name, p.rx_queues, p.tx_queues, mtu, rte_strerror(-rc))));
    }
    configured_.push_back(p.port_id);
    std::uint16_t rxd = config.rxd;
    std::uint16_t txd = config.txd;
    rte_eth_dev_adjust_nb_rx_tx_desc(p.port_id, &rxd, &txd);
    if (rxd != config.rxd || txd != config.txd) {
      warnings.push_back(
          fmt::format("port {} ({}): ring sizes adjusted to the device limits: --rxd {} -> {}, "
                      "--txd {} -> {}",
                      p.index, p.name, config.rxd, rxd, config.txd, txd));
    }
    rte_mempool* pool = pools_.at(p.socket);
    for (std::uint16_t q = 0; q < p.rx_queues; ++q) {
      if (int rc = rte_eth_rx_queue_setup(p.port_id, q, rxd, p.socket, nullptr, pool); rc != 0) {
        return std::unexpected(
            Error(fmt::format("port {} ({}): RX queue {} with {} descriptors failed: {}; "
                              "try another --rxd",
                              p.index, p.name, q, rxd, rte_strerror(-rc))));
      }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (std::uint16_t q = 0; q < p.tx_queues; ++q) {
      if (int rc = rte_eth_tx_queue_setup(p.port_id, q, txd, p.socket, &txconf); rc != 0) {
        return std::unexpected(
            Error(fmt::format("port {} ({}): TX queue {} with {} descriptors failed: {}; "
                              "try another --txd",
                              p.index, p.name, q, txd, rte_strerror(-rc))));
      }
    }
    if (int rc = rte_eth_dev_start(p.port_id); rc != 0) {
      return std::unexpected(Error(fmt::format("port {} ({}): start failed: {}", p.index, p.name, rte_strerror(-rc))));
    }
    started_.push_back(p.port_id);
    // Most PMDs apply rxmode.mtu at configure; set it again so a PMD that does not still filters at it.
    if (int rc = rte_eth_dev_set_mtu(p.port_id, static_cast<std::uint16_t>(mtu)); rc != 0 && rc != -ENOTSUP) {
      warnings.push_back(
          fmt::format("port {} ({}): setting MTU {} failed ({}); vnf-fwd still drops frames "
                      "over it and counts them as mtu_drops",
                      p.index, p.name, mtu, rte_strerror(-rc)));
    }
    if (int rc = rte_eth_promiscuous_enable(p.port_id); rc != 0 && rc != -ENOTSUP) {
      warnings.push_back(
          fmt::format("port {} ({}): promiscuous mode not enabled ({}): frames to other MACs "
                      "may be filtered by the NIC",
                      p.index, p.name, rte_strerror(-rc)));
    }
  }
  return {};
}

std::vector<std::string> PortSet::waitForLinks(std::uint32_t timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::vector<std::string> down;
    for (const auto& p : ports_) {
      rte_eth_link link{};
      if (rte_eth_link_get_nowait(p.port_id, &link) != 0 || link.link_status == RTE_ETH_LINK_DOWN) {
        down.push_back(fmt::format("port {} ({})", p.index, p.name));
      }
    }
    if (down.empty() || std::chrono::steady_clock::now() >= deadline) return down;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::uint64_t PortSet::sendFirst(std::uint16_t bursts, std::uint16_t burst_size, std::uint16_t frame_bytes) {
  std::uint64_t sent_total = 0;
  std::vector<rte_mbuf*> pkts(burst_size);
  for (const auto& p : ports_) {
    for (std::uint16_t b = 0; b < bursts; ++b) {
      if (rte_pktmbuf_alloc_bulk(pools_.at(p.socket), pkts.data(), burst_size) != 0) return sent_total;
      for (auto* m : pkts) {
        auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
        std::memset(data, 0, frame_bytes);
        const std::uint8_t header[14] = {
            0x02,     0,        0,        0,    0,   static_cast<std::uint8_t>(p.port_id), p.mac[0], p.mac[1], p.mac[2],
            p.mac[3], p.mac[4], p.mac[5], 0x08, 0x00};
        std::memcpy(data, header, sizeof(header));
        m->data_len = frame_bytes;
        m->pkt_len = frame_bytes;
      }
      const std::uint16_t sent = rte_eth_tx_burst(p.port_id, 0, pkts.data(), burst_size);
      if (sent < burst_size) rte_pktmbuf_free_bulk(pkts.data() + sent, burst_size - sent);
      sent_total += sent;
    }
  }
  return sent_total;
}

void PortSet::shutdown() {
  for (auto port_id : started_) rte_eth_dev_stop(port_id);
  started_.clear();
  for (auto port_id : configured_) rte_eth_dev_close(port_id);
  configured_.clear();
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
  pools_.clear();
}

}  // namespace vnf::fwd
