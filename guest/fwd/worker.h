// Per-lcore forwarding state and loop. Each worker owns its RX queues and one TX
// queue on every port it sends to, so no queue is shared and nothing is locked.
// Counters are single-writer relaxed atomics, read by the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "config.h"
#include "packet_logic.h"

namespace vnf::fwd {

// Bumps a counter only this thread writes: a plain load and store, no locked instruction.
inline void addRelaxed(std::atomic<std::uint64_t>& counter, std::uint64_t value) {
  counter.store(counter.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

// One TX queue this worker fills, with its partial-burst buffer.
struct alignas(RTE_CACHE_LINE_SIZE) TxSlot {
  std::uint16_t port_id = 0;
  std::uint16_t queue = 0;
  std::uint16_t index = 0;  // selected-port index
  std::uint16_t count = 0;  // frames waiting in buffer
  std::atomic<std::uint64_t> tx{0};
  std::atomic<std::uint64_t> tx_full_drops{0};
  rte_mbuf* buffer[2 * kMaxBurst] = {};
};

// What arrived on one RX queue, by VLAN and by size (packet_logic.h): 32 KiB, single writer.
struct FrameClassCounters {
  std::atomic<std::uint64_t> vlan[kVlanIds + 1] = {};  // [kUntaggedSlot] = untagged
  std::atomic<std::uint64_t> size[kSizeClasses] = {};
};

// One RX queue this worker polls, and where its frames go.
struct alignas(RTE_CACHE_LINE_SIZE) RxItem {
  std::uint16_t port_id = 0;
  std::uint16_t queue = 0;
  std::uint16_t index = 0;                  // selected-port index
  std::uint16_t tx_slot = 0;                // into WorkerState::tx
  std::uint32_t max_frame = 1514;           // maxUntaggedFrame(smaller MTU of RX and TX port): longer are dropped
  MacHeader header{};                       // mac and l2fwd modes: destination and source written into each frame
  std::atomic<std::uint64_t> rx{0};         // every frame received, including mtu_drops
  std::atomic<std::uint64_t> mtu_drops{0};  // received frames longer than the ports' MTU allows (freed)
  FrameClassCounters classes;               // every frame received (mtu_drops included), last: off the hot line
};

struct alignas(RTE_CACHE_LINE_SIZE) WorkerState {
  unsigned lcore = 0;
  Mode mode = Mode::kIo;
  std::uint16_t burst = 32;
  std::uint64_t drain_tsc = 0;  // TSC cycles between drains of partial bursts
  const std::atomic<bool>* stop = nullptr;
  std::vector<RxItem> rx;
  std::vector<TxSlot> tx;
};

// rte_eal_remote_launch entry point; arg is a WorkerState*. Returns 0 when *stop is set,
// after sending or freeing (and counting) every buffered frame.
int workerMain(void* arg);

}  // namespace vnf::fwd
