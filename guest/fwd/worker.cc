#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

namespace vnf::fwd {
namespace {

// Sends what it can; frames the TX ring does not take are freed and counted.
inline void send(TxSlot& slot, rte_mbuf** pkts, std::uint16_t count) {
  const std::uint16_t sent = rte_eth_tx_burst(slot.port_id, slot.queue, pkts, count);
  addRelaxed(slot.tx, sent);
  if (sent < count) [[unlikely]] {
    rte_pktmbuf_free_bulk(pkts + sent, count - sent);
    addRelaxed(slot.tx_full_drops, count - sent);
  }
}

inline void flush(TxSlot& slot) {
  if (slot.count == 0) return;
  send(slot, slot.buffer, slot.count);
  slot.count = 0;
}

template <Mode kMode>
void loop(WorkerState& state) {
  rte_mbuf* pkts[kMaxBurst];
  const std::uint16_t burst = state.burst;
  RxItem* const items = state.rx.data();
  const std::size_t item_count = state.rx.size();
  TxSlot* const slots = state.tx.data();
  std::uint64_t last_drain = rte_rdtsc();
  std::uint32_t loops = 0;

  while (!state.stop->load(std::memory_order_relaxed)) {
    // The TX drain timer is checked every 16th loop: a loop takes well under a microsecond, so
    // the ~100 us drain stays on time, and the TSC read (costly in some VMs) leaves the hot path.
    if ((++loops & 15u) == 0) [[unlikely]] {
      const std::uint64_t now = rte_rdtsc();
      if (now - last_drain > state.drain_tsc) {
        for (auto& slot : state.tx) flush(slot);
        last_drain = now;
      }
    }
    for (std::size_t i = 0; i < item_count; ++i) {
      RxItem& item = items[i];
      std::uint16_t count = rte_eth_rx_burst(item.port_id, item.queue, pkts, burst);
      if (count == 0) continue;
      addRelaxed(item.rx, count);
      for (std::uint16_t k = 0; k < count; ++k) {
        addRelaxed(item.classes.vlan[vlanSlotOf(pkts[k])], 1);
        addRelaxed(item.classes.size[sizeClassOf(pkts[k]->pkt_len)], 1);
      }
      rte_mbuf* oversized[kMaxBurst];
      std::uint16_t oversized_count = 0;
      count = removeOverMtu(pkts, count, item.max_frame, oversized, oversized_count);
      if (oversized_count != 0) [[unlikely]] {
        rte_pktmbuf_free_bulk(oversized, oversized_count);
        addRelaxed(item.mtu_drops, oversized_count);
        if (count == 0) continue;
      }
      if constexpr (kMode == Mode::kMac || kMode == Mode::kL2fwd) {
        rewriteMacs(pkts, count, item.header);
      } else if constexpr (kMode == Mode::kMacSwap) {
        swapMacs(pkts, count);
      }
      TxSlot& slot = slots[item.tx_slot];
      if (slot.count == 0 && count == burst) {
        send(slot, pkts, count);  // full burst: no copy through the buffer
        continue;
      }
      for (std::uint16_t k = 0; k < count; ++k) slot.buffer[slot.count + k] = pkts[k];
      slot.count = static_cast<std::uint16_t>(slot.count + count);
      if (slot.count >= burst) flush(slot);
    }
  }
  for (auto& slot : state.tx) flush(slot);
}

}  // namespace

int workerMain(void* arg) {
  auto& state = *static_cast<WorkerState*>(arg);
  switch (state.mode) {
    case Mode::kIo: loop<Mode::kIo>(state); break;
    case Mode::kMac: loop<Mode::kMac>(state); break;
    case Mode::kMacSwap: loop<Mode::kMacSwap>(state); break;
    case Mode::kL2fwd: loop<Mode::kL2fwd>(state); break;
  }
  return 0;
}

}  // namespace vnf::fwd
