// In-process functional tests on net_ring ports (rte_eth_from_rings): the test
// feeds a port's RX ring and reads another port's TX ring while the real
// forwarder runs on a worker lcore. EAL runs with --no-huge --no-pci.
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "forwarder.hpp"
#include "logging.hpp"

namespace vnf::fwd {
namespace {

constexpr unsigned kFrames = 1000;
constexpr auto kTimeout = std::chrono::seconds(20);

struct RingPort {
    std::string name;
    rte_ring* rx = nullptr;  // the test enqueues here; the port receives from it
    rte_ring* tx = nullptr;  // the port transmits here; the test dequeues
};

RingPort makeRingPort(const std::string& name, unsigned tx_ring_size) {
    RingPort port{name};
    port.rx = rte_ring_create((name + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    port.tx = rte_ring_create((name + "_tx").c_str(), tx_ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    EXPECT_NE(nullptr, port.rx);
    EXPECT_NE(nullptr, port.tx);
    const int port_id = rte_eth_from_rings(name.c_str(), &port.rx, 1, &port.tx, 1, 0);
    EXPECT_GE(port_id, 0);
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

// Frame i: distinct length (64..1518), every third VLAN-tagged, payload a function of i.
std::vector<std::uint8_t> frameBytes(unsigned i) {
    std::vector<std::uint8_t> bytes(64 + (i * 37) % 1455);
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
        pool_ = rte_pktmbuf_pool_create(("tp" + std::to_string(counter_)).c_str(), 4095, 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(nullptr, pool_);
    }

    void TearDown() override {
        forwarder_.reset();  // stops workers, closes the ports
        for (auto& port : ports_) {
            freeRing(port.rx);
            freeRing(port.tx);
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

    void inject(const RingPort& port, unsigned count) {
        for (unsigned i = 0; i < count; ++i) {
            rte_mbuf* m = rte_pktmbuf_alloc(pool_);
            ASSERT_NE(nullptr, m);
            const auto bytes = frameBytes(i);
            auto* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
            ASSERT_NE(nullptr, data);
            std::memcpy(data, bytes.data(), bytes.size());
            while (rte_ring_enqueue(port.rx, m) != 0) std::this_thread::yield();
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
        const unsigned n = rte_ring_dequeue_burst(ports_[1].tx, reinterpret_cast<void**>(burst), 64, nullptr);
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
    EXPECT_NE(std::string::npos, log.find(fmt::format("warning vnf-fwd: ring buffer full on port 1 ({}): tx_full_drops +",
                                                      ports_[1].name)))
        << log;
    EXPECT_NE(std::string::npos, log.find("use a larger TX ring (--txd, now 512, max 32768)")) << log;
    EXPECT_NE(std::string::npos, log.find(fmt::format("total {}", kFrames - 63))) << log;
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
    std::vector<std::string> args{"fwd_ring_tests", "-l", "0-1", "--no-huge", "-m", "256", "--no-pci",
                                  prefix, "--log-level=lib.eal:warning"};
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
