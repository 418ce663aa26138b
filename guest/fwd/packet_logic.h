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
        if (m->data_len < kMinRewriteLength) [[unlikely]] continue;
        std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), header.bytes, sizeof(header.bytes));
    }
}

// Exchanges destination and source MAC of each frame (testpmd's macswap).
inline void swapMacs(rte_mbuf* const* pkts, std::uint16_t count) {
    for (std::uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    }
    for (std::uint16_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
        rte_mbuf* m = pkts[i];
        if (m->data_len < kMinRewriteLength) [[unlikely]] continue;
        auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
        std::uint8_t dst[6];
        std::memcpy(dst, data, 6);
        std::memcpy(data, data + 6, 6);
        std::memcpy(data + 6, dst, 6);
    }
}

}  // namespace vnf::fwd
