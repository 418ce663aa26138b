#include "forwarder.h"

#include <cstdio>
#include <cstring>
#include <map>

#include <fmt/core.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

namespace vnf::fwd {
namespace {

struct Direction {
  std::uint16_t from = 0;
  std::uint16_t to = 0;
};

std::vector<PortPair> defaultPairs(std::size_t port_count) {
  std::vector<PortPair> pairs;
  if (port_count == 1) return {PortPair{0, 0}};
  for (std::size_t i = 0; i + 1 < port_count; i += 2) {
    pairs.push_back(PortPair{static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(i + 1)});
  }
  return pairs;
}

}  // namespace

Forwarder::Forwarder(const Config& config, Loggers loggers) : config_(config), loggers_(std::move(loggers)) {}

Forwarder::~Forwarder() {
  stop();
  server_.close();
  ports_.shutdown();
}

std::expected<std::unique_ptr<Forwarder>, Error> Forwarder::create(const Config& config, Loggers loggers) {
  auto ports = resolvePorts(config.ports);
  if (!ports) return std::unexpected(ports.error());
  std::unique_ptr<Forwarder> forwarder(new Forwarder(config, std::move(loggers)));
  if (auto planned = forwarder->plan(std::move(*ports)); !planned) return std::unexpected(planned.error());
  return forwarder;
}

std::expected<void, Error> Forwarder::plan(std::vector<PortInfo> ports) {
  const std::size_t count = ports.size();
  if (config_.pairs.empty() && count > 1 && count % 2 != 0) {
    return std::unexpected(Error(fmt::format(
        "{} ports selected and no --pair given: the default pairs 0-1, 2-3, ... need an even count. Available: "
        "{}. Select ports with --port, or pair them with --pair A-B (A-A forwards a port to itself)",
        count, describeAvailablePorts())));
  }
  std::vector<PortPair> pairs = config_.pairs.empty() ? defaultPairs(count) : config_.pairs;
  std::vector<std::string> problems;
  for (const auto& pair : pairs) {
    if (pair.a >= count || pair.b >= count) {
      problems.push_back(fmt::format("--pair {}-{} uses a port index beyond the {} ports found ({})", pair.a, pair.b,
                                     count, describeAvailablePorts()));
    }
  }
  for (const auto& [index, mac] : config_.peer_macs) {
    if (index >= count) {
      problems.push_back(
          fmt::format("--peer-mac {}={} names port index {}, but {} port{} selected ({}): add "
                      "the port or fix the index",
                      index, formatMac(mac), index, count, count == 1 ? " is" : "s are", describeAvailablePorts()));
    }
  }
  for (const auto& [index, mtu] : config_.port_mtus) {
    if (index >= count) {
      problems.push_back(
          fmt::format("--port-mtu {}={} names port index {}, but {} port{} selected ({}): add "
                      "the port or fix the index",
                      index, mtu, index, count, count == 1 ? " is" : "s are", describeAvailablePorts()));
    }
  }
  if (config_.mode == Mode::kMac) {
    for (std::uint16_t i = 0; i < count; ++i) {
      if (!config_.peer_macs.contains(i)) {
        problems.push_back(
            fmt::format("--mode mac needs the peer MAC of port {} ({}): add --peer-mac {}=MAC", i, ports[i].name, i));
      }
    }
  }
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) { lcores.push_back(lcore); }
  if (lcores.empty()) {
    problems.push_back(
        "vnf-fwd needs at least 2 lcores (1 control, 1 or more workers), EAL has 1: pass e.g. "
        "--eal -l 0-1 (or --eal --lcores=0@0,1@0 on a single CPU)");
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n  - ") + p;
    return std::unexpected(Error(message));
  }

  std::vector<Direction> directions;
  std::vector<bool> paired(count, false);
  for (const auto& pair : pairs) {
    directions.push_back({pair.a, pair.b});
    if (pair.a != pair.b) directions.push_back({pair.b, pair.a});
    paired[pair.a] = paired[pair.b] = true;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!paired[i]) {
      loggers_.main->warn("port {} ({}) is in no --pair: it is started but not polled", i, ports[i].name);
    }
  }

  // Spread (direction, queue) over workers round-robin, direction-major: with as many queues as
  // workers, worker q polls queue q of every port, so the queues of one port (its RSS spread) land
  // on different workers.
  const std::size_t item_count = directions.size() * config_.rxq;
  const std::size_t worker_count = std::min(lcores.size(), item_count);
  for (std::size_t w = worker_count; w < lcores.size(); ++w) {
    loggers_.main->warn("lcore {} has no RX queue to poll ({} queues for {} workers): raise --rxq to use it", lcores[w],
                        item_count, lcores.size());
  }
  const std::uint64_t drain_tsc = rte_get_tsc_hz() / 1000000 * config_.drain_us;
  for (std::size_t w = 0; w < worker_count; ++w) {
    auto state = std::make_unique<WorkerState>();
    state->lcore = lcores[w];
    state->mode = config_.mode;
    state->burst = config_.burst;
    state->drain_tsc = drain_tsc;
    state->stop = &stop_workers_;
    workers_.push_back(std::move(state));
  }
  // Sizes first: vectors of atomics cannot grow after filling.
  std::vector<std::vector<std::pair<std::uint16_t, Direction>>> assigned(worker_count);
  std::size_t next = 0;
  for (const auto& d : directions) {
    for (std::uint16_t q = 0; q < config_.rxq; ++q) assigned[next++ % worker_count].push_back({q, d});
  }
  std::vector<std::uint16_t> tx_queue_count(count, 0);
  for (std::size_t w = 0; w < worker_count; ++w) {
    WorkerState& state = *workers_[w];
    std::map<std::uint16_t, std::uint16_t> slot_of;  // selected index -> slot
    std::vector<std::uint16_t> slot_ports;
    for (const auto& [q, d] : assigned[w]) {
      if (!slot_of.contains(d.to)) {
        slot_of[d.to] = static_cast<std::uint16_t>(slot_ports.size());
        slot_ports.push_back(d.to);
      }
    }
    state.rx = std::vector<RxItem>(assigned[w].size());
    state.tx = std::vector<TxSlot>(slot_ports.size());
    for (std::size_t s = 0; s < slot_ports.size(); ++s) {
      const PortInfo& port = ports[slot_ports[s]];
      state.tx[s].port_id = port.port_id;
      state.tx[s].index = port.index;
      state.tx[s].queue = tx_queue_count[port.index]++;
    }
    for (std::size_t i = 0; i < assigned[w].size(); ++i) {
      const auto& [q, d] = assigned[w][i];
      const PortInfo& rx_port = ports[d.from];
      const PortInfo& tx_port = ports[d.to];
      RxItem& item = state.rx[i];
      item.port_id = rx_port.port_id;
      item.queue = q;
      item.index = rx_port.index;
      item.tx_slot = slot_of.at(d.to);
      // A frame must fit the port it leaves by (the egress MTU) and the one it came in on (what that
      // port promised its peer); pairs from the spec normally have the same MTU on both.
      item.max_frame = maxUntaggedFrame(std::min(config_.mtuOf(rx_port.index), config_.mtuOf(tx_port.index)));
      std::uint8_t dst[6] = {};
      std::uint8_t src[6] = {};
      std::memcpy(src, tx_port.mac.data(), 6);
      if (config_.mode == Mode::kMac) {
        std::memcpy(dst, config_.peer_macs.at(d.to).data(), 6);
      } else {
        l2fwdDestination(tx_port.port_id, dst);
      }
      item.header = makeMacHeader(dst, src);
      const int lcore_socket = static_cast<int>(rte_lcore_to_socket_id(state.lcore));
      if (rte_eth_dev_socket_id(rx_port.port_id) >= 0 && lcore_socket != rx_port.socket) {
        loggers_.main->warn(
            "lcore {} on NUMA node {} polls port {} ({}) on node {}: every frame crosses the "
            "interconnect; pin the worker to a CPU of node {} (--eal -l)",
            state.lcore, lcore_socket, rx_port.index, rx_port.name, rx_port.socket, rx_port.socket);
      }
    }
  }
  for (auto& port : ports) {
    port.rx_queues = config_.rxq;
    port.tx_queues = std::max<std::uint16_t>(1, tx_queue_count[port.index]);
  }
  std::vector<std::string> warnings;
  auto setup = ports_.setup(std::move(ports), config_, warnings);
  for (const auto& w : warnings) loggers_.main->warn("{}", w);
  if (!setup) return std::unexpected(setup.error());
  return {};
}

std::expected<void, Error> Forwarder::start() {
  if (config_.link_wait_ms > 0) {
    const auto down = ports_.waitForLinks(config_.link_wait_ms);
    for (const auto& name : down) {
      loggers_.main->warn("{}: link still down after {} ms (--link-wait-ms); forwarding starts anyway", name,
                          config_.link_wait_ms);
    }
  }
  if (!config_.stats_socket.empty()) {
    if (auto opened = server_.open(config_.stats_socket); !opened) return std::unexpected(opened.error());
  }
  if (config_.tx_first > 0) {
    const std::uint64_t sent = ports_.sendFirst(config_.tx_first, config_.burst, config_.tx_first_size);
    loggers_.main->info("tx-first: sent {} frames of {} bytes", sent, config_.tx_first_size);
  }
  started_at_ = std::chrono::steady_clock::now();
  next_report_ = started_at_ + std::chrono::milliseconds(config_.stats_interval_ms);
  next_stats_line_ = started_at_ + std::chrono::milliseconds(config_.stats_line_ms);
  last_report_ = snapshot();
  stop_workers_.store(false);
  for (auto& state : workers_) {
    if (int rc = rte_eal_remote_launch(workerMain, state.get(), state->lcore); rc != 0) {
      stop();
      return std::unexpected(Error(fmt::format("cannot launch the worker on lcore {}: error {}", state->lcore, rc)));
    }
    launched_ = true;
  }
  for (const auto& state : workers_) {
    loggers_.main->info("worker lcore {}: {} RX queue{}, {} TX queue{}", state->lcore, state->rx.size(),
                        state->rx.size() == 1 ? "" : "s", state->tx.size(), state->tx.size() == 1 ? "" : "s");
  }
  return {};
}

std::string Forwarder::readyLine() const {
  std::string line = fmt::format("VNF-FWD READY mode={} workers={}", modeName(config_.mode), workers_.size());
  for (const auto& p : ports_.ports()) line += fmt::format(" port={},{},{}", p.index, p.name, formatMac(p.mac));
  return line;
}

Snapshot Forwarder::snapshot() const {
  Snapshot snap;
  snap.mode = config_.mode;
  snap.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  for (const auto& p : ports_.ports()) {
    PortCounters c;
    c.index = p.index;
    c.port_id = p.port_id;
    c.name = p.name;
    c.mac = formatMac(p.mac);
    c.socket = p.socket;
    c.mtu = config_.mtuOf(p.index);
    c.rxd = config_.rxd;
    c.txd = config_.txd;
    rte_eth_rxq_info rxq_info{};
    if (rte_eth_rx_queue_info_get(p.port_id, 0, &rxq_info) == 0 && rxq_info.nb_desc != 0) c.rxd = rxq_info.nb_desc;
    rte_eth_txq_info txq_info{};
    if (rte_eth_tx_queue_info_get(p.port_id, 0, &txq_info) == 0 && txq_info.nb_desc != 0) c.txd = txq_info.nb_desc;
    rte_eth_link link{};
    c.link_up = rte_eth_link_get_nowait(p.port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
    rte_eth_stats stats{};
    if (rte_eth_stats_get(p.port_id, &stats) == 0) {
      c.imissed = stats.imissed;
      c.rx_nombuf = stats.rx_nombuf;
      c.ierrors = stats.ierrors;
      c.oerrors = stats.oerrors;
      c.rx_bytes = stats.ibytes;
      c.tx_bytes = stats.obytes;
    }
    for (const auto& state : workers_) {
      for (const auto& item : state->rx) {
        if (item.index != p.index) continue;
        const std::uint64_t rx = item.rx.load(std::memory_order_relaxed);
        c.rx += rx;
        c.mtu_drops += item.mtu_drops.load(std::memory_order_relaxed);
        for (std::size_t v = 0; v < kVlanIds; ++v) {
          if (const std::uint64_t n = item.classes.vlan[v].load(std::memory_order_relaxed); n != 0) {
            c.vlan_frames[static_cast<std::uint16_t>(v)] += n;
          }
        }
        c.untagged_frames += item.classes.vlan[kUntaggedSlot].load(std::memory_order_relaxed);
        for (std::size_t k = 0; k < kSizeClasses; ++k) {
          c.size_frames[k] += item.classes.size[k].load(std::memory_order_relaxed);
        }
        c.rx_queues.push_back(QueueCounters{item.queue, state->lcore, rx, 0});
      }
      for (const auto& slot : state->tx) {
        if (slot.index != p.index) continue;
        const std::uint64_t tx = slot.tx.load(std::memory_order_relaxed);
        const std::uint64_t full = slot.tx_full_drops.load(std::memory_order_relaxed);
        c.tx += tx;
        c.tx_full_drops += full;
        c.tx_queues.push_back(QueueCounters{slot.queue, state->lcore, tx, full});
      }
    }
    snap.ports.push_back(std::move(c));
  }
  return snap;
}

void Forwarder::controlTick(int wait_ms) {
  server_.serve(wait_ms, [this] { return toJson(snapshot()).dump(); });
  const auto now = std::chrono::steady_clock::now();
  if (config_.stats_line_ms > 0 && now >= next_stats_line_) {
    next_stats_line_ = now + std::chrono::milliseconds(config_.stats_line_ms);
    const std::string line = statsLine(snapshot());
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  if (now < next_report_) return;
  next_report_ = now + std::chrono::milliseconds(config_.stats_interval_ms);
  Snapshot current = snapshot();
  for (const auto& warning : ringFullWarnings(last_report_, current, config_)) loggers_.main->warn("{}", warning);
  (config_.quiet_rate ? loggers_.file_only : loggers_.main)->info("{}", rateLine(last_report_, current));
  last_report_ = std::move(current);
}

void Forwarder::stop() {
  stop_workers_.store(true);
  if (launched_) {
    for (const auto& state : workers_) rte_eal_wait_lcore(state->lcore);
    launched_ = false;
  }
}

}  // namespace vnf::fwd
