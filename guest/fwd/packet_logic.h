// What to do with a burst of frames: rewrite or swap the Ethernet addresses.
// Pure functions over rte_mbuf memory (DPDK headers only, no EAL): unit-tested
// with hand-built mbufs. Only the first 12 bytes of a frame are written, so
// VLAN tags (0x8100/0x88a8 after the source MAC) and payload pass unchanged.
#pragma once

#include <cstddef>
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

// Per-RX-queue counts of what arrives: frames per VLAN id of the outer tag (0x8100 or 0x88a8 after
// the source MAC; untagged frames in their own slot) and per size class. A fixed array of
// 4096 + 1 counters (32 KiB per RX queue, bounded whatever the traffic) rather than a top-N: one
// store per frame, no search, no eviction. Size classes are RFC 2819's etherStatsPkts*Octets,
// which count the 4-byte FCS: DPDK's pkt_len has none, so a frame is classed by pkt_len + 4.
inline constexpr std::size_t kVlanIds = 4096;
inline constexpr std::size_t kUntaggedSlot = kVlanIds;  // index of the untagged counter
inline constexpr std::size_t kSizeClasses = 7;
// Upper bound (with FCS) of each class; the last is open-ended.
inline constexpr std::uint32_t kSizeClassMax[kSizeClasses] = {64, 127, 255, 511, 1023, 1518, 0xffffffffu};
inline constexpr const char* kSizeClassNames[kSizeClasses] = {"64",       "65-127",    "128-255", "256-511",
                                                              "512-1023", "1024-1518", "1519-max"};
inline constexpr std::uint32_t kFcsBytes = 4;

// Class of a frame of pkt_len bytes (without FCS): comparisons the compiler turns into flags and
// adds, no branch.
inline constexpr std::size_t sizeClassOf(std::uint32_t pkt_len) {
  const std::uint32_t wire = pkt_len + kFcsBytes;
  return static_cast<std::size_t>(wire > 64) + static_cast<std::size_t>(wire > 127) +
         static_cast<std::size_t>(wire > 255) + static_cast<std::size_t>(wire > 511) +
         static_cast<std::size_t>(wire > 1023) + static_cast<std::size_t>(wire > 1518);
}

// The counter slot of a frame: the VLAN id (0..4095) of its outer tag, or kUntaggedSlot. Reads
// bytes 12..15, which the NIC has just written (the PMD prefetched them).
inline std::size_t vlanSlotOf(const rte_mbuf* m) {
  if (m->data_len < 16) [[unlikely]]
    return kUntaggedSlot;
  const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const auto type = static_cast<std::uint16_t>(data[12] << 8 | data[13]);
  const bool tagged = type == kEtherTypeVlan || type == kEtherTypeQinQ;
  const auto vid = static_cast<std::size_t>((data[14] & 0x0f) << 8 | data[15]);
  return tagged ? vid : kUntaggedSlot;
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
