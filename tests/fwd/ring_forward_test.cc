// In-process functional tests on net_ring ports (rte_eth_from_rings): the test
// feeds a port's RX ring and reads another port's TX ring while the real
// forwarder runs on a worker lcore. EAL runs with --no-huge --no-pci.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "forwarder.h"
#include "logging.h"

namespace vnf::fwd {
namespace {

constexpr unsigned kFrames = 1000;
constexpr auto kTimeout = std::chrono::seconds(20);

struct RingPort {
  std::string name;
  std::vector<rte_ring*> rx;  // per queue: the test enqueues here; the port receives from it
  std::vector<rte_ring*> tx;  // per queue: the port transmits here; the test dequeues
};

RingPort makeRingPort(const std::string& name, unsigned tx_ring_size, unsigned queues = 1, unsigned numa_node = 0) {
  RingPort port{name, {}, {}};
  for (unsigned q = 0; q < queues; ++q) {
    port.rx.push_back(rte_ring_create(fmt::format("{}_rx{}", name, q).c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
    port.tx.push_back(
        rte_ring_create(fmt::format("{}_tx{}", name, q).c_str(), tx_ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
    EXPECT_NE(nullptr, port.rx.back());
    EXPECT_NE(nullptr, port.tx.back());
  }
  const int port_id = rte_eth_from_rings(name.c_str(), port.rx.data(), queues, port.tx.data(), queues, numa_node);
  EXPECT_GE(port_id, 0) << "rte_eth_from_rings(" << name << ", numa node " << numa_node
                        << "): " << rte_strerror(rte_errno);
  port.name = "net_ring_" + name;  // the ethdev name net_ring gives it
  // net_ring ports have MAC 00:00:00:00:00:00 and cannot change it; the input frames carry source
  // 02:aa:00:00:00:01, so a source rewrite is still visible. The pcap tests use distinct port MACs.
  return port;
}

void freeRing(rte_ring* ring) {
  rte_mbuf* m = nullptr;
  while (rte_ring_dequeue(ring, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
  rte_ring_free(ring);
}

// Frame i: distinct length (64..1514, what MTU 1500 takes untagged), every third VLAN-tagged,
// payload a function of i.
std::vector<std::uint8_t> frameBytes(unsigned i) {
  std::vector<std::uint8_t> bytes(64 + (i * 37) % 1451);
  for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::uint8_t>(i * 13 + k);
  const std::uint8_t src[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
  std::memcpy(bytes.data() + 6, src, 6);
  if (i % 3 == 0) {
    const std::uint8_t tag[6] = {0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
    std::memcpy(bytes.data() + 12, tag, 6);
  }
  bytes[bytes.size() - 2] = static_cast<std::uint8_t>(i >> 8);  // sequence number in the last 2 bytes
  bytes[bytes.size() - 1] = static_cast<std::uint8_t>(i);
  return bytes;
}

class RingForward : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vnf-fwd-ring-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
    std::filesystem::create_directories(dir_);
    pool_ =
        rte_pktmbuf_pool_create(("tp" + std::to_string(counter_)).c_str(), 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(nullptr, pool_);
  }

  void TearDown() override {
    forwarder_.reset();  // stops workers, closes the ports
    for (auto& port : ports_) {
      for (rte_ring* ring : port.rx) freeRing(ring);
      for (rte_ring* ring : port.tx) freeRing(ring);
    }
    if (pool_ != nullptr) {
      // Every mbuf the forwarder received came back: sent ones via the TX rings (freed above),
      // dropped ones freed by the worker.
      EXPECT_EQ(4095u, rte_mempool_avail_count(pool_)) << "mbufs leaked";
      rte_mempool_free(pool_);
    }
    std::filesystem::remove_all(dir_);
  }

  Config baseConfig(Mode mode) {
    Config config;
    config.mode = mode;
    config.stats_interval_ms = 50;
    config.link_wait_ms = 0;
    config.rxd = 512;
    config.txd = 512;
    config.log_file = (dir_ / "vnf-app.log").string();
    config.stats_socket = "";
    for (const auto& port : ports_) config.ports.push_back(PortSelector{SelectorKind::kName, port.name, {}});
    return config;
  }

  void startForwarder(const Config& config) {
    auto loggers = makeLoggers(config);
    ASSERT_TRUE(loggers.has_value()) << loggers.error().message;
    auto forwarder = Forwarder::create(config, *loggers);
    ASSERT_TRUE(forwarder.has_value()) << forwarder.error().message;
    forwarder_ = std::move(*forwarder);
    auto started = forwarder_->start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
  }

  // Frames first..first+count-1 (frameBytes) into RX queue `queue` of `port`.
  void inject(const RingPort& port, unsigned count, unsigned queue = 0, unsigned first = 0) {
    for (unsigned i = first; i < first + count; ++i) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      ASSERT_NE(nullptr, m);
      const auto bytes = frameBytes(i);
      auto* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
      ASSERT_NE(nullptr, data);
      std::memcpy(data, bytes.data(), bytes.size());
      while (rte_ring_enqueue(port.rx.at(queue), m) != 0) std::this_thread::yield();
    }
  }

  std::string logText() const {
    std::ifstream in(dir_ / "vnf-app.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  rte_mempool* pool_ = nullptr;
  std::vector<RingPort> ports_;
  std::unique_ptr<Forwarder> forwarder_;
  static inline int counter_ = 0;
};

struct ModeCase {
  Mode mode;
  const char* name;
};

class RingForwardModes : public RingForward, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(RingForwardModes, EveryFrameArrivesOnThePeerPortWithTheExpectedMacs) {
  const Mode mode = GetParam().mode;
  ports_.push_back(makeRingPort(fmt::format("ra{}", counter_), 4096));
  ports_.push_back(makeRingPort(fmt::format("rb{}", counter_), 4096));
  Config config = baseConfig(mode);
  const MacBytes peer0{0x02, 0xbb, 0, 0, 0, 0x10};
  const MacBytes peer1{0x02, 0xbb, 0, 0, 0, 0x11};
  if (mode == Mode::kMac) config.peer_macs = {{0, peer0}, {1, peer1}};
  startForwarder(config);
  ASSERT_NE(nullptr, forwarder_);
  const auto& info = forwarder_->ports();
  ASSERT_EQ(2u, info.size());

  inject(ports_[0], kFrames);
  std::vector<rte_mbuf*> out;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (out.size() < kFrames && std::chrono::steady_clock::now() < deadline) {
    rte_mbuf* burst[64];
    const unsigned n = rte_ring_dequeue_burst(ports_[1].tx[0], reinterpret_cast<void**>(burst), 64, nullptr);
    out.insert(out.end(), burst, burst + n);
    forwarder_->controlTick(n == 0 ? 1 : 0);
  }
  ASSERT_EQ(kFrames, out.size()) << "frames missing after " << kTimeout.count() << " s";

  std::uint8_t expected_dst[6] = {};
  std::memcpy(expected_dst, peer1.data(), 6);
  if (mode == Mode::kL2fwd) l2fwdDestination(info[1].port_id, expected_dst);
  for (unsigned i = 0; i < kFrames; ++i) {
    auto expected = frameBytes(i);
    if (mode == Mode::kMac || mode == Mode::kL2fwd) {
      std::memcpy(expected.data(), expected_dst, 6);
      std::memcpy(expected.data() + 6, info[1].mac.data(), 6);
    } else if (mode == Mode::kMacSwap) {
      std::uint8_t dst[6];
      std::memcpy(dst, expected.data(), 6);
      std::memcpy(expected.data(), expected.data() + 6, 6);
      std::memcpy(expected.data() + 6, dst, 6);
    }
    ASSERT_EQ(expected.size(), out[i]->pkt_len) << "frame " << i;
    const auto* data = rte_pktmbuf_mtod(out[i], const std::uint8_t*);
    ASSERT_EQ(0, std::memcmp(expected.data(), data, expected.size())) << "frame " << i << " differs";
  }
  rte_pktmbuf_free_bulk(out.data(), static_cast<unsigned>(out.size()));

  forwarder_->stop();
  const Snapshot snap = forwarder_->snapshot();
  EXPECT_EQ(kFrames, snap.ports[0].rx);
  EXPECT_EQ(0u, snap.ports[0].tx);
  EXPECT_EQ(0u, snap.ports[1].rx);
  EXPECT_EQ(kFrames, snap.ports[1].tx);
  EXPECT_EQ(0u, snap.ports[1].drops());
  ASSERT_EQ(1u, snap.ports[0].rx_queues.size());
  EXPECT_EQ(kFrames, snap.ports[0].rx_queues[0].packets);
  ASSERT_EQ(1u, snap.ports[1].tx_queues.size());
  EXPECT_EQ(kFrames, snap.ports[1].tx_queues[0].packets);
  EXPECT_EQ(std::string::npos, logText().find("ring buffer full")) << logText();
}

INSTANTIATE_TEST_SUITE_P(Modes, RingForwardModes,
                         ::testing::Values(ModeCase{Mode::kIo, "io"}, ModeCase{Mode::kMac, "mac"},
                                           ModeCase{Mode::kMacSwap, "macswap"}, ModeCase{Mode::kL2fwd, "l2fwd"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(RingForward, FullTxRingDropsAreFreedCountedAndLoggedAsRingBufferFull) {
  ports_.push_back(makeRingPort(fmt::format("ra{}", counter_), 4096));
  ports_.push_back(makeRingPort(fmt::format("rb{}", counter_), 64));  // holds 63 frames; nobody drains it
  Config config = baseConfig(Mode::kIo);
  startForwarder(config);
  ASSERT_NE(nullptr, forwarder_);

  inject(ports_[0], kFrames);
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  bool warned = false;
  while (!warned && std::chrono::steady_clock::now() < deadline) {
    forwarder_->controlTick(10);
    const Snapshot snap = forwarder_->snapshot();
    warned = snap.ports[1].tx + snap.ports[1].tx_full_drops == kFrames &&
             logText().find("ring buffer full on port 1") != std::string::npos;
  }
  forwarder_->stop();
  const Snapshot snap = forwarder_->snapshot();
  EXPECT_EQ(kFrames, snap.ports[0].rx);
  EXPECT_EQ(63u, snap.ports[1].tx);
  EXPECT_EQ(kFrames - 63, snap.ports[1].tx_full_drops);
  EXPECT_EQ(kFrames - 63, snap.ports[1].drops());
  const std::string log = logText();
  EXPECT_NE(std::string::npos,
            log.find(fmt::format("warning vnf-fwd: ring buffer full on port 1 ({}): tx_full_drops +", ports_[1].name)))
      << log;
  EXPECT_NE(std::string::npos, log.find("use a larger TX ring (--txd, now 512, max 32768)")) << log;
  EXPECT_NE(std::string::npos, log.find(fmt::format("total {}", kFrames - 63))) << log;
}

// Two RX queues per port and two workers (EAL lcores 1 and 2): each worker polls one queue of
// each port, so the queues of one port are spread over both workers; each worker sends on its own
// TX queue. net_ring has no RSS, so the test fills both RX queues itself.
TEST_F(RingForward, QueuesOfOnePortAreSpreadOverWorkersAndEveryFrameArrivesOnce) {
  ASSERT_EQ(2u, rte_lcore_count() - 1) << "the EAL arguments in main() give 2 workers";
  ports_.push_back(makeRingPort(fmt::format("qa{}", counter_), 4096, 2));
  ports_.push_back(makeRingPort(fmt::format("qb{}", counter_), 4096, 2));
  Config config = baseConfig(Mode::kMacSwap);
  config.rxq = 2;
  startForwarder(config);
  ASSERT_NE(nullptr, forwarder_);

  inject(ports_[0], kFrames / 2, 0, 0);
  inject(ports_[0], kFrames / 2, 1, kFrames / 2);
  std::vector<int> seen(kFrames, 0);
  std::vector<unsigned> per_tx_queue(2, 0);
  unsigned received = 0;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (received < kFrames && std::chrono::steady_clock::now() < deadline) {
    unsigned got = 0;
    for (unsigned q = 0; q < 2; ++q) {
      rte_mbuf* burst[64];
      const unsigned n = rte_ring_dequeue_burst(ports_[1].tx[q], reinterpret_cast<void**>(burst), 64, nullptr);
      for (unsigned k = 0; k < n; ++k) {
        const auto* data = rte_pktmbuf_mtod(burst[k], const std::uint8_t*);
        const unsigned seq = (data[burst[k]->pkt_len - 2] << 8) | data[burst[k]->pkt_len - 1];
        if (seq < kFrames) ++seen[seq];
      }
      rte_pktmbuf_free_bulk(burst, n);
      per_tx_queue[q] += n;
      got += n;
    }
    received += got;
    forwarder_->controlTick(got == 0 ? 1 : 0);
  }
  forwarder_->stop();
  ASSERT_EQ(kFrames, received) << "frames missing after " << kTimeout.count() << " s";
  for (unsigned i = 0; i < kFrames; ++i) EXPECT_EQ(1, seen[i]) << "frame " << i;
  EXPECT_EQ(kFrames / 2, per_tx_queue[0]);
  EXPECT_EQ(kFrames / 2, per_tx_queue[1]);

  const Snapshot snap = forwarder_->snapshot();
  ASSERT_EQ(2u, snap.ports[0].rx_queues.size());
  EXPECT_EQ(kFrames / 2, snap.ports[0].rx_queues[0].packets);
  EXPECT_EQ(kFrames / 2, snap.ports[0].rx_queues[1].packets);
  EXPECT_NE(snap.ports[0].rx_queues[0].lcore, snap.ports[0].rx_queues[1].lcore)
      << "both RX queues of port 0 are polled by lcore " << snap.ports[0].rx_queues[0].lcore;
  ASSERT_EQ(2u, snap.ports[1].tx_queues.size());
  EXPECT_EQ(kFrames, snap.ports[1].tx);
  EXPECT_EQ(0u, snap.ports[1].drops());
  EXPECT_NE(std::string::npos, logText().find(fmt::format("port 0 ({}) has no RSS: 2 RX queues", ports_[0].name)))
      << logText();
}

// A port on a NUMA node no worker is on: the forwarder warns, naming the nodes and the fix. EAL runs
// with --no-huge, which gives memory on node 0 only, so the mbuf pool on the port's node cannot be
// made either: that error must name the node and how to give it memory.
TEST_F(RingForward, PortOnAnotherNodeThanItsWorkerIsWarnedAboutAndItsPoolNeedsMemoryThere) {
  unsigned node = 0;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) { node = std::max(node, rte_lcore_to_socket_id(lcore) + 1); }
  ports_.push_back(makeRingPort(fmt::format("na{}", counter_), 64, 1, node));
  std::uint16_t port_id = 0;
  ASSERT_EQ(0, rte_eth_dev_get_port_by_name(ports_[0].name.c_str(), &port_id));
  ASSERT_EQ(static_cast<int>(node), rte_eth_dev_socket_id(port_id));
  Config config = baseConfig(Mode::kIo);
  auto loggers = makeLoggers(config);
  ASSERT_TRUE(loggers.has_value());
  auto forwarder = Forwarder::create(config, *loggers);
  ASSERT_FALSE(forwarder.has_value());
  EXPECT_NE(std::string::npos,
            forwarder.error().message.find(fmt::format("cannot create the mbuf pool on NUMA socket {}", node)))
      << forwarder.error().message;
  EXPECT_NE(std::string::npos,
            forwarder.error().message.find(fmt::format("/sys/devices/system/node/node{}/hugepages", node)))
      << forwarder.error().message;
  const std::string log = logText();
  EXPECT_NE(std::string::npos, log.find(fmt::format("polls port 0 ({}) on node {}: every frame crosses the "
                                                    "interconnect; pin the worker to a CPU of node {}",
                                                    ports_[0].name, node, node)))
      << log;
  rte_eth_dev_close(port_id);  // no forwarder took the port
}

// Port 0 has MTU 1000 (--port-mtu 0=1000), port 1 the default 1500. Frames longer than 1014 bytes
// (1018 with a VLAN tag) that arrive on port 0 are dropped, freed (TearDown checks the pool is
// whole again) and counted as port 0's mtu_drops; every other frame arrives intact and in order.
TEST_F(RingForward, FramesOverThePortMtuAreDroppedFreedAndCountedAsMtuDrops) {
  ports_.push_back(makeRingPort(fmt::format("ma{}", counter_), 4096));
  ports_.push_back(makeRingPort(fmt::format("mb{}", counter_), 4096));
  Config config = baseConfig(Mode::kIo);
  config.port_mtus = {{0, 1000}};
  startForwarder(config);
  ASSERT_NE(nullptr, forwarder_);

  std::vector<unsigned> expected_out;
  for (unsigned i = 0; i < kFrames; ++i) {
    const std::size_t allowed = 1000 + 14 + (i % 3 == 0 ? 4 : 0);
    if (frameBytes(i).size() <= allowed) expected_out.push_back(i);
  }
  const std::uint64_t expected_drops = kFrames - expected_out.size();
  ASSERT_EQ(662u, expected_out.size()) << "frameBytes changed: recount";

  inject(ports_[0], kFrames);
  std::vector<rte_mbuf*> out;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    rte_mbuf* burst[64];
    const unsigned n = rte_ring_dequeue_burst(ports_[1].tx[0], reinterpret_cast<void**>(burst), 64, nullptr);
    out.insert(out.end(), burst, burst + n);
    forwarder_->controlTick(n == 0 ? 1 : 0);
    const Snapshot snap = forwarder_->snapshot();
    if (snap.ports[0].rx == kFrames && out.size() == snap.ports[1].tx) break;
  }
  forwarder_->stop();
  rte_mbuf* burst[64];
  for (unsigned n; (n = rte_ring_dequeue_burst(ports_[1].tx[0], reinterpret_cast<void**>(burst), 64, nullptr)) > 0;) {
    out.insert(out.end(), burst, burst + n);
  }
  ASSERT_EQ(expected_out.size(), out.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    const auto expected = frameBytes(expected_out[k]);
    ASSERT_EQ(expected.size(), out[k]->pkt_len) << "frame " << expected_out[k];
    ASSERT_EQ(0, std::memcmp(expected.data(), rte_pktmbuf_mtod(out[k], const std::uint8_t*), expected.size()))
        << "frame " << expected_out[k] << " differs";
  }
  rte_pktmbuf_free_bulk(out.data(), static_cast<unsigned>(out.size()));

  const Snapshot snap = forwarder_->snapshot();
  EXPECT_EQ(kFrames, snap.ports[0].rx);
  EXPECT_EQ(expected_drops, snap.ports[0].mtu_drops);
  EXPECT_EQ(expected_drops, snap.ports[0].drops());
  EXPECT_EQ(1000u, snap.ports[0].mtu);
  EXPECT_EQ(1500u, snap.ports[1].mtu);
  EXPECT_EQ(0u, snap.ports[1].mtu_drops);
  EXPECT_EQ(expected_out.size(), snap.ports[1].tx);
  const auto json = toJson(snap);
  EXPECT_EQ(expected_drops, json["ports"][0]["mtu_drops"].get<std::uint64_t>());
  EXPECT_EQ(expected_drops, json["totals"]["mtu_drops"].get<std::uint64_t>());
}

// Port 1 (the egress) has MTU 1500, port 0 (the ingress) 9000: frames from port 0 are held to the
// smaller, the egress port's. Input: frames of VLAN 100, VLAN 200 and untagged, of every RFC 2819
// size class (including jumbo frames that port 0's MTU takes but port 1's does not). The counts per
// VLAN, per size class and of MTU drops must match what was sent, in the snapshot and the JSON.
TEST_F(RingForward, CountsFramesPerVlanAndSizeClassAndDropsOverTheEgressMtu) {
  ports_.push_back(makeRingPort(fmt::format("va{}", counter_), 4096));
  ports_.push_back(makeRingPort(fmt::format("vb{}", counter_), 4096));
  Config config = baseConfig(Mode::kIo);
  config.mtu = 9000;
  config.port_mtus = {{1, 1500}};
  startForwarder(config);
  ASSERT_NE(nullptr, forwarder_);

  // pkt_len (no FCS) of each frame: each class; 2000 and 4000 exceed MTU 1500, 1518 does untagged.
  const std::vector<std::uint32_t> lengths = {60, 100, 200, 400, 800, 1200, 1514, 1518, 2000, 4000};
  struct Sent {
    std::uint32_t length;
    int vlan;  // -1 untagged
  };
  std::vector<Sent> sent;
  for (int round = 0; round < 30; ++round) {
    for (const std::uint32_t length : lengths)
      sent.push_back({length, round % 3 == 0 ? -1 : (round % 3 == 1 ? 100 : 200)});
  }
  std::map<int, std::uint64_t> want_vlan;
  std::array<std::uint64_t, kSizeClasses> want_size{};
  std::uint64_t want_mtu_drops = 0;
  for (const auto& f : sent) {
    ++want_vlan[f.vlan];
    ++want_size[sizeClassOf(f.length)];
    if (f.length > 1500 + 14 + (f.vlan >= 0 ? 4 : 0)) ++want_mtu_drops;
  }
  ASSERT_EQ(70u, want_mtu_drops) << "lengths changed: recount";  // 2000 and 4000 always, 1518 untagged
  rte_mempool* jumbo =
      rte_pktmbuf_pool_create(fmt::format("tj{}", counter_).c_str(), 1023, 0, 0, RTE_PKTMBUF_HEADROOM + 4096, 0);
  ASSERT_NE(nullptr, jumbo);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(jumbo);
    ASSERT_NE(nullptr, m);
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    ASSERT_NE(nullptr, rte_pktmbuf_append(m, static_cast<std::uint16_t>(sent[i].length)));
    std::memset(data, static_cast<int>(i), sent[i].length);
    data[12] = 0x08;
    data[13] = 0x00;
    if (sent[i].vlan >= 0) {
      data[12] = 0x81;
      data[13] = 0x00;
      data[14] = static_cast<std::uint8_t>(sent[i].vlan >> 8);
      data[15] = static_cast<std::uint8_t>(sent[i].vlan);
    }
    while (rte_ring_enqueue(ports_[0].rx[0], m) != 0) std::this_thread::yield();
  }
  std::uint64_t out = 0;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    rte_mbuf* burst[64];
    const unsigned n = rte_ring_dequeue_burst(ports_[1].tx[0], reinterpret_cast<void**>(burst), 64, nullptr);
    rte_pktmbuf_free_bulk(burst, n);
    out += n;
    forwarder_->controlTick(n == 0 ? 1 : 0);
    // rx counts a burst when the worker takes it, tx when it has sent it: wait for every frame that
    // fits to come out (a short count ends at the deadline and fails below), not for rx == tx.
    if (forwarder_->snapshot().ports[0].rx == sent.size() && out >= sent.size() - want_mtu_drops) break;
  }
  forwarder_->stop();
  const Snapshot snap = forwarder_->snapshot();
  forwarder_.reset();
  EXPECT_EQ(1023u, rte_mempool_avail_count(jumbo)) << "mbufs leaked";
  rte_mempool_free(jumbo);

  const PortCounters& p0 = snap.ports[0];
  EXPECT_EQ(sent.size(), p0.rx);
  EXPECT_EQ(want_mtu_drops, p0.mtu_drops);
  EXPECT_EQ(sent.size() - want_mtu_drops, out);
  EXPECT_EQ(sent.size() - want_mtu_drops, snap.ports[1].tx);
  EXPECT_EQ(want_vlan[-1], p0.untagged_frames);
  const std::map<std::uint16_t, std::uint64_t> tagged{{100, want_vlan[100]}, {200, want_vlan[200]}};
  EXPECT_EQ(tagged, p0.vlan_frames);
  EXPECT_EQ(want_size, p0.size_frames);
  EXPECT_EQ((std::array<std::uint64_t, kSizeClasses>{30, 30, 30, 30, 30, 60, 90}), p0.size_frames);
  EXPECT_EQ(0u, snap.ports[1].rx);
  EXPECT_TRUE(snap.ports[1].vlan_frames.empty());
  const auto json = toJson(snap);
  EXPECT_EQ(want_vlan[100], json["ports"][0]["vlans"][0]["frames"].get<std::uint64_t>());
  EXPECT_EQ(200, json["ports"][0]["vlans"][1]["vlan"].get<int>());
  EXPECT_EQ(90u, json["ports"][0]["sizes"][6]["frames"].get<std::uint64_t>());
  EXPECT_EQ(want_mtu_drops, json["totals"]["mtu_drops"].get<std::uint64_t>());
  EXPECT_EQ(512, json["ports"][0]["rxd"].get<int>());
}

// validateOptions checks --peer-mac indexes against the --port list; with the ports EAL found
// (no --port), the forwarder checks them at start.
TEST_F(RingForward, PeerMacBeyondThePortsFoundFailsAtStartWithIndexAndCount) {
  ports_.push_back(makeRingPort(fmt::format("pa{}", counter_), 64));
  ports_.push_back(makeRingPort(fmt::format("pb{}", counter_), 64));
  Config config = baseConfig(Mode::kMac);
  config.peer_macs = {{0, {0x02, 0, 0, 0, 0, 0x01}}, {1, {0x02, 0, 0, 0, 0, 0x02}}, {2, {0x02, 0, 0, 0, 0, 0x03}}};
  auto loggers = makeLoggers(config);
  ASSERT_TRUE(loggers.has_value());
  auto forwarder = Forwarder::create(config, *loggers);
  ASSERT_FALSE(forwarder.has_value());
  EXPECT_EQ(fmt::format("--peer-mac 2=02:00:00:00:00:03 names port index 2, but 2 ports are selected ({}): add the "
                        "port or fix the index",
                        describeAvailablePorts()),
            forwarder.error().message);
  for (const auto& port : ports_) {  // no forwarder owns the ring ports: release them here
    std::uint16_t port_id = 0;
    ASSERT_EQ(0, rte_eth_dev_get_port_by_name(port.name.c_str(), &port_id));
    rte_eth_dev_close(port_id);
  }
}

TEST_F(RingForward, UnknownPortSelectorFailsWithTheAvailablePorts) {
  ports_.push_back(makeRingPort(fmt::format("ra{}", counter_), 64));
  Config config = baseConfig(Mode::kIo);
  config.ports = {PortSelector{SelectorKind::kPci, "0000:00:09.0", {}}};
  auto loggers = makeLoggers(config);
  ASSERT_TRUE(loggers.has_value());
  auto forwarder = Forwarder::create(config, *loggers);
  ASSERT_FALSE(forwarder.has_value());
  EXPECT_NE(std::string::npos, forwarder.error().message.find("requested port not found: 0000:00:09.0. Available: "))
      << forwarder.error().message;
  EXPECT_NE(std::string::npos, forwarder.error().message.find(ports_[0].name)) << forwarder.error().message;
  // No forwarder owns the ring port: release it here.
  std::uint16_t port_id = 0;
  ASSERT_EQ(0, rte_eth_dev_get_port_by_name(ports_[0].name.c_str(), &port_id));
  rte_eth_dev_close(port_id);
}

}  // namespace
}  // namespace vnf::fwd

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=vnf-fwd-ring-" + std::to_string(::getpid());
  // Main lcore and two workers (lcore 1 on CPU 1, lcore 2 on CPU 0: the machine may have two CPUs).
  std::vector<std::string> args{"fwd_ring_tests", "--lcores=0@0,1@1,2@0",       "--no-huge", "-m", "256", "--no-pci",
                                prefix,           "--log-level=lib.eal:warning"};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
