// What to do with a burst of frames: rewrite or swap the Ethernet addresses.
// Pure functions over rte_mbuf memory (DPDK headers only, no EAL): unit-tested
// with hand-built mbufs. Only the first 12 bytes of a frame are written, so
// VLAN tags (0x8100/0x88a8 after the source MAC) and payload pass unchanged.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

namespace vnf::fwd {

// Destination then source MAC, in wire order: written with one 12-byte copy.
struct MacHeader {
  std::uint8_t bytes[12];
};

inline constexpr std::uint16_t kPrefetchAhead = 3;
inline constexpr std::uint16_t kMinRewriteLength = 12;  // shorter frames are forwarded untouched

inline MacHeader makeMacHeader(const std::uint8_t (&dst)[6], const std::uint8_t (&src)[6]) {
  MacHeader header{};
  std::memcpy(header.bytes, dst, 6);
  std::memcpy(header.bytes + 6, src, 6);
  return header;
}

// l2fwd's convention: destination 02:00:00:00:00:<tx port id>.
inline void l2fwdDestination(std::uint16_t tx_port_id, std::uint8_t (&dst)[6]) {
  const std::uint8_t value[6] = {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(tx_port_id & 0xff)};
  std::memcpy(dst, value, 6);
}

// Writes header (destination, source) into the first 12 bytes of each frame.
inline void rewriteMacs(rte_mbuf* const* pkts, std::uint16_t count, const MacHeader& header) {
  for (std::uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  }
  for (std::uint16_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    if (m->data_len < kMinRewriteLength) [[unlikely]]
      continue;
    std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), header.bytes, sizeof(header.bytes));
  }
}

inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;
inline constexpr std::uint32_t kVlanTagBytes = 4;

// Longest frame (without FCS) a port of MTU `mtu` takes untagged: MTU + 14-byte Ethernet header.
inline constexpr std::uint32_t maxUntaggedFrame(std::uint32_t mtu) { return mtu + 14; }

// Moves frames longer than their port's MTU allows out of pkts, keeping the order of the
// rest: a frame may be max_untagged bytes (maxUntaggedFrame), plus 4 per VLAN tag
// (0x8100/0x88a8, up to two) at its start. Frames that fit are decided on pkt_len alone;
// only longer ones have their headers read. Oversized frames go to dropped[dropped_count...]
// (the caller frees them). Returns how many frames stay in pkts.
inline std::uint16_t removeOverMtu(rte_mbuf** pkts, std::uint16_t count, std::uint32_t max_untagged, rte_mbuf** dropped,
                                   std::uint16_t& dropped_count) {
  std::uint16_t kept = 0;
  for (std::uint16_t i = 0; i < count; ++i) {
    rte_mbuf* m = pkts[i];
    std::uint32_t allowed = max_untagged;
    if (m->pkt_len > allowed) [[unlikely]] {
      const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
      for (std::uint32_t offset = 12; offset + 2 <= m->data_len && allowed < max_untagged + 2 * kVlanTagBytes;
           offset += kVlanTagBytes) {
        const auto type = static_cast<std::uint16_t>(data[offset] << 8 | data[offset + 1]);
        if (type != kEtherTypeVlan && type != kEtherTypeQinQ) break;
        allowed += kVlanTagBytes;
      }
      if (m->pkt_len > allowed) {
        dropped[dropped_count++] = m;
        continue;
      }
    }
    pkts[kept++] = m;
  }
  return kept;
}

// Exchanges destination and source MAC of each frame (testpmd's macswap).
inline void swapMacs(rte_mbuf* const* pkts, std::uint16_t count) {
  for (std::uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  }
  for (std::uint16_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    if (m->data_len < kMinRewriteLength) [[unlikely]]
      continue;
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    std::uint8_t dst[6];
    std::memcpy(dst, data, 6);
    std::memcpy(data, data + 6, 6);
    std::memcpy(data + 6, dst, 6);
  }
}

}  // namespace vnf::fwd
