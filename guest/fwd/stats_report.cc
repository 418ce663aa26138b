#include "stats_report.h"

#include <fmt/core.h>

namespace vnf::fwd {
namespace {

struct Totals {
  std::uint64_t rx = 0, tx = 0, rx_bytes = 0, tx_bytes = 0, imissed = 0, rx_nombuf = 0, tx_full = 0, errors = 0,
                mtu_drops = 0;

  std::uint64_t drops() const { return imissed + rx_nombuf + tx_full + errors + mtu_drops; }
};

Totals totals(const Snapshot& snapshot) {
  Totals t;
  for (const auto& p : snapshot.ports) {
    t.rx += p.rx;
    t.tx += p.tx;
    t.rx_bytes += p.rx_bytes;
    t.tx_bytes += p.tx_bytes;
    t.imissed += p.imissed;
    t.rx_nombuf += p.rx_nombuf;
    t.tx_full += p.tx_full_drops;
    t.errors += p.ierrors;
    t.mtu_drops += p.mtu_drops;
  }
  return t;
}

// Counters can only go backwards if a port was reset; treat that as no change.
std::uint64_t delta(std::uint64_t before, std::uint64_t after) { return after > before ? after - before : 0; }

nlohmann::json queueJson(const QueueCounters& q, bool tx) {
  nlohmann::json j{{"queue", q.queue}, {"lcore", q.lcore}, {tx ? "tx" : "rx", q.packets}};
  if (tx) j["tx_full_drops"] = q.tx_full_drops;
  return j;
}

nlohmann::json vlanJson(const PortCounters& p) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [vlan, frames] : p.vlan_frames) out.push_back({{"vlan", vlan}, {"frames", frames}});
  return out;
}

nlohmann::json sizeJson(const PortCounters& p) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t k = 0; k < kSizeClasses; ++k) {
    out.push_back({{"class", kSizeClassNames[k]}, {"frames", p.size_frames[k]}});
  }
  return out;
}

// At most this many VLAN ids in the summary line of a port (the JSON has them all).
constexpr std::size_t kSummaryVlans = 16;

}  // namespace

nlohmann::json toJson(const Snapshot& snapshot) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : snapshot.ports) {
    nlohmann::json rxq = nlohmann::json::array();
    nlohmann::json txq = nlohmann::json::array();
    for (const auto& q : p.rx_queues) rxq.push_back(queueJson(q, false));
    for (const auto& q : p.tx_queues) txq.push_back(queueJson(q, true));
    ports.push_back({{"index", p.index},
                     {"port_id", p.port_id},
                     {"name", p.name},
                     {"mac", p.mac},
                     {"socket", p.socket},
                     {"link_up", p.link_up},
                     {"mtu", p.mtu},
                     {"mtu_drops", p.mtu_drops},
                     {"rx", p.rx},
                     {"tx", p.tx},
                     {"drops", p.drops()},
                     {"imissed", p.imissed},
                     {"rx_nombuf", p.rx_nombuf},
                     {"tx_full_drops", p.tx_full_drops},
                     {"ierrors", p.ierrors},
                     {"oerrors", p.oerrors},
                     {"rx_bytes", p.rx_bytes},
                     {"tx_bytes", p.tx_bytes},
                     {"rxd", p.rxd},
                     {"txd", p.txd},
                     {"untagged", p.untagged_frames},
                     {"vlans", vlanJson(p)},
                     {"sizes", sizeJson(p)},
                     {"rx_queues", rxq},
                     {"tx_queues", txq}});
  }
  const Totals t = totals(snapshot);
  return {{"schema", "vnf-fwd-stats"},
          {"version", kStatsSchemaVersion},
          {"mode", modeName(snapshot.mode)},
          {"uptime_s", snapshot.uptime_s},
          {"ports", ports},
          {"totals",
           {{"rx", t.rx},
            {"tx", t.tx},
            {"drops", t.drops()},
            {"imissed", t.imissed},
            {"rx_nombuf", t.rx_nombuf},
            {"tx_full_drops", t.tx_full},
            {"mtu_drops", t.mtu_drops}}}};
}

std::string statsLine(const Snapshot& snapshot) { return "VNF-FWD STATS " + toJson(snapshot).dump(); }

std::string rateLine(const Snapshot& previous, const Snapshot& current) {
  const double seconds = current.uptime_s - previous.uptime_s;
  if (seconds <= 0) return "rate: no interval";
  const Totals a = totals(previous);
  const Totals b = totals(current);
  const auto pps = [&](std::uint64_t x, std::uint64_t y) { return static_cast<double>(delta(x, y)) / seconds; };
  // Gbps on the wire counts 20 bytes of preamble and inter-frame gap and the 4-byte FCS per frame,
  // as a traffic generator reports it. Bytes come from the PMD; some virtual PMDs (net_null) count none.
  const auto gbps = [&](std::uint64_t bytes0, std::uint64_t bytes1, std::uint64_t pkts0, std::uint64_t pkts1) {
    const std::uint64_t bytes = delta(bytes0, bytes1);
    const std::uint64_t pkts = delta(pkts0, pkts1);
    if (bytes == 0 && pkts > 0) return std::string("n/a Gbps");
    return fmt::format("{:.3f} Gbps",
                       (static_cast<double>(bytes) + 24.0 * static_cast<double>(pkts)) * 8.0 / seconds / 1e9);
  };
  const std::uint64_t drops_a = a.drops();
  const std::uint64_t drops_b = b.drops();
  return fmt::format(
      "rate: rx {:.3f} Mpps {}, tx {:.3f} Mpps {}, drops {:.0f} pps "
      "(imissed {}, rx_nombuf {}, tx_full {} in {:.2f} s)",
      pps(a.rx, b.rx) / 1e6, gbps(a.rx_bytes, b.rx_bytes, a.rx, b.rx), pps(a.tx, b.tx) / 1e6,
      gbps(a.tx_bytes, b.tx_bytes, a.tx, b.tx), pps(drops_a, drops_b), delta(a.imissed, b.imissed),
      delta(a.rx_nombuf, b.rx_nombuf), delta(a.tx_full, b.tx_full), seconds);
}

std::vector<std::string> ringFullWarnings(const Snapshot& previous, const Snapshot& current, const Config& config) {
  std::vector<std::string> warnings;
  const double seconds = current.uptime_s - previous.uptime_s;
  for (std::size_t i = 0; i < current.ports.size() && i < previous.ports.size(); ++i) {
    const PortCounters& before = previous.ports[i];
    const PortCounters& now = current.ports[i];
    const auto report = [&](const char* counter, std::uint64_t x, std::uint64_t y, const std::string& remedy) {
      const std::uint64_t rise = delta(x, y);
      if (rise == 0) return;
      const double rate = seconds > 0 ? static_cast<double>(rise) / seconds : 0.0;
      warnings.push_back(
          fmt::format("ring buffer full on port {} ({}): {} +{} ({:.0f} pps over {:.2f} s, total {}); {}", now.index,
                      now.name, counter, rise, rate, seconds, y, remedy));
    };
    report("imissed", before.imissed, now.imissed,
           fmt::format("the RX ring overflowed because the workers poll too slowly: give vnf-fwd more cores "
                       "(--eal -l) with more queues (--rxq, now {}) or a larger RX ring (--rxd, now {}, max {})",
                       config.rxq, config.rxd, kMaxDescriptors));
    report("rx_nombuf", before.rx_nombuf, now.rx_nombuf,
           fmt::format("the mbuf pool ran empty: raise --mbufs (now {}) or shrink the rings (--rxd {}, --txd {})",
                       config.mbufs == 0 ? std::string("auto") : std::to_string(config.mbufs), config.rxd, config.txd));
    report("tx_full_drops", before.tx_full_drops, now.tx_full_drops,
           fmt::format("the TX ring was full, the link or its peer is slower than the offered load: use a larger "
                       "TX ring (--txd, now {}, max {}) or give the peer more cores",
                       config.txd, kMaxDescriptors));
  }
  return warnings;
}

std::string summaryText(const Snapshot& snapshot) {
  std::string text =
      fmt::format("vnf-fwd summary after {:.1f} s, mode {}:", snapshot.uptime_s, modeName(snapshot.mode));
  for (const auto& p : snapshot.ports) {
    text += fmt::format(
        "\n  port {} {} {}: rx {} tx {} drops {} (imissed {}, rx_nombuf {}, tx_full_drops {}, ierrors {}, "
        "mtu_drops {}, oerrors {})",
        p.index, p.name, p.mac, p.rx, p.tx, p.drops(), p.imissed, p.rx_nombuf, p.tx_full_drops, p.ierrors, p.mtu_drops,
        p.oerrors);
    std::string vlans = fmt::format("untagged {}", p.untagged_frames);
    std::size_t shown = 0;
    for (const auto& [vlan, frames] : p.vlan_frames) {
      if (shown++ == kSummaryVlans) {
        vlans += fmt::format(", ... ({} more VLANs)", p.vlan_frames.size() - kSummaryVlans);
        break;
      }
      vlans += fmt::format(", vlan {} {}", vlan, frames);
    }
    std::string sizes;
    for (std::size_t k = 0; k < kSizeClasses; ++k) {
      sizes += fmt::format("{}{} {}", k == 0 ? "" : ", ", kSizeClassNames[k], p.size_frames[k]);
    }
    text += fmt::format("\n    received by VLAN: {}; by size (bytes with FCS): {}; rings rxd {} txd {}", vlans, sizes,
                        p.rxd, p.txd);
  }
  const Totals t = totals(snapshot);
  text += fmt::format("\n  total: rx {} tx {} drops {}", t.rx, t.tx, t.drops());
  return text;
}

}  // namespace vnf::fwd
