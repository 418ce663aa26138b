// Counter reports: JSON schema, rate line and ring-full warnings.
#include <gtest/gtest.h>

#include "stats_report.h"

namespace vnf::fwd {
namespace {

Snapshot twoPorts(double uptime_s, std::uint64_t rx, std::uint64_t tx_full, std::uint64_t imissed,
                  std::uint64_t nombuf) {
  Snapshot s;
  s.uptime_s = uptime_s;
  s.mode = Mode::kMac;
  for (std::uint16_t i = 0; i < 2; ++i) {
    PortCounters p;
    p.index = i;
    p.port_id = i;
    p.name = i == 0 ? "0000:00:04.0" : "0000:00:05.0";
    p.mac = "52:54:00:00:00:0" + std::to_string(i);
    p.link_up = true;
    p.rx = rx;
    p.tx = rx - tx_full;
    p.rx_bytes = rx * 64;
    p.tx_bytes = (rx - tx_full) * 64;
    p.tx_full_drops = i == 1 ? tx_full : 0;
    p.imissed = i == 0 ? imissed : 0;
    p.rx_nombuf = i == 0 ? nombuf : 0;
    p.rx_queues.push_back(QueueCounters{0, 1, rx, 0});
    p.tx_queues.push_back(QueueCounters{0, 1, p.tx, p.tx_full_drops});
    s.ports.push_back(p);
  }
  return s;
}

TEST(StatsReport, JsonFollowsTheDocumentedSchema) {
  const auto json = toJson(twoPorts(2.5, 1000, 10, 3, 2));
  EXPECT_EQ("vnf-fwd-stats", json["schema"]);
  EXPECT_EQ(1, json["version"]);
  EXPECT_EQ("mac", json["mode"]);
  EXPECT_DOUBLE_EQ(2.5, json["uptime_s"].get<double>());
  ASSERT_EQ(2u, json["ports"].size());
  const auto& p0 = json["ports"][0];
  for (const char* key : {"index",    "port_id",  "name",      "mac",       "socket",        "link_up",  "rx",
                          "tx",       "drops",    "imissed",   "rx_nombuf", "tx_full_drops", "ierrors",  "oerrors",
                          "rx_bytes", "tx_bytes", "rx_queues", "mtu",       "mtu_drops",     "tx_queues"}) {
    EXPECT_TRUE(p0.contains(key)) << key;
  }
  EXPECT_EQ("0000:00:04.0", p0["name"]);
  EXPECT_EQ(5u, p0["drops"].get<std::uint64_t>());  // imissed 3 + rx_nombuf 2
  EXPECT_EQ(1000u, p0["rx_queues"][0]["rx"].get<std::uint64_t>());
  EXPECT_EQ(10u, json["ports"][1]["tx_queues"][0]["tx_full_drops"].get<std::uint64_t>());
  EXPECT_EQ(2000u, json["totals"]["rx"].get<std::uint64_t>());
  EXPECT_EQ(15u, json["totals"]["drops"].get<std::uint64_t>());
}

TEST(StatsReport, RateLineGivesMppsGbpsAndDrops) {
  const auto line = rateLine(twoPorts(1.0, 0, 0, 0, 0), twoPorts(2.0, 1000000, 500, 0, 0));
  EXPECT_EQ(
      "rate: rx 2.000 Mpps 1.408 Gbps, tx 1.999 Mpps 1.407 Gbps, drops 500 pps "
      "(imissed 0, rx_nombuf 0, tx_full 500 in 1.00 s)",
      line);
}

TEST(StatsReport, NoWarningWhileCountersStayFlat) {
  Config config;
  EXPECT_TRUE(ringFullWarnings(twoPorts(1, 100, 5, 1, 1), twoPorts(2, 200, 5, 1, 1), config).empty());
}

TEST(StatsReport, RisingTxFullWarnsWithCounterRateAndRemedy) {
  Config config;
  config.txd = 512;
  const auto warnings = ringFullWarnings(twoPorts(1.0, 100, 0, 0, 0), twoPorts(1.5, 200, 50, 0, 0), config);
  ASSERT_EQ(1u, warnings.size());
  EXPECT_EQ(
      "ring buffer full on port 1 (0000:00:05.0): tx_full_drops +50 (100 pps over 0.50 s, total 50); the TX "
      "ring was full, the link or its peer is slower than the offered load: use a larger TX ring (--txd, now "
      "512, max 32768) or give the peer more cores",
      warnings[0]);
}

TEST(StatsReport, RisingImissedAndNombufWarnSeparately) {
  Config config;
  const auto warnings = ringFullWarnings(twoPorts(1.0, 100, 0, 0, 0), twoPorts(2.0, 200, 0, 7, 3), config);
  ASSERT_EQ(2u, warnings.size());
  EXPECT_EQ(
      "ring buffer full on port 0 (0000:00:04.0): imissed +7 (7 pps over 1.00 s, total 7); the RX ring "
      "overflowed because the workers poll too slowly: give vnf-fwd more cores (--eal -l) with more queues "
      "(--rxq, now 1) or a larger RX ring (--rxd, now 1024, max 32768)",
      warnings[0]);
  EXPECT_EQ(
      "ring buffer full on port 0 (0000:00:04.0): rx_nombuf +3 (3 pps over 1.00 s, total 3); the mbuf pool "
      "ran empty: raise --mbufs (now auto) or shrink the rings (--rxd 1024, --txd 1024)",
      warnings[1]);
}

TEST(StatsReport, SummaryListsEveryPortAndTotals) {
  const auto text = summaryText(twoPorts(3.0, 100, 4, 0, 0));
  EXPECT_NE(std::string::npos, text.find("vnf-fwd summary after 3.0 s, mode mac:"));
  EXPECT_NE(std::string::npos, text.find("port 1 0000:00:05.0 52:54:00:00:00:01: rx 100 tx 96 drops 4"));
  EXPECT_NE(std::string::npos, text.find("total: rx 200 tx 192 drops 4"));
}

TEST(StatsReport, MtuDropsArePerPortInTheJsonTotalsDropsAndSummary) {
  Snapshot snap = twoPorts(1.0, 100, 0, 0, 0);
  snap.ports[0].mtu = 9000;
  snap.ports[0].mtu_drops = 7;
  const auto json = toJson(snap);
  EXPECT_EQ(9000u, json["ports"][0]["mtu"].get<std::uint32_t>());
  EXPECT_EQ(7u, json["ports"][0]["mtu_drops"].get<std::uint64_t>());
  EXPECT_EQ(7u, json["ports"][0]["drops"].get<std::uint64_t>());
  EXPECT_EQ(1500u, json["ports"][1]["mtu"].get<std::uint32_t>());
  EXPECT_EQ(0u, json["ports"][1]["mtu_drops"].get<std::uint64_t>());
  EXPECT_EQ(7u, json["totals"]["mtu_drops"].get<std::uint64_t>());
  EXPECT_EQ(7u, json["totals"]["drops"].get<std::uint64_t>());
  EXPECT_NE(std::string::npos, statsLine(snap).find("\"mtu_drops\":7")) << statsLine(snap);
  EXPECT_NE(std::string::npos,
            summaryText(snap).find("port 0 0000:00:04.0 52:54:00:00:00:00: rx 100 tx 100 drops 7 (imissed 0, "
                                   "rx_nombuf 0, tx_full_drops 0, ierrors 0, mtu_drops 7, oerrors 0)"))
      << summaryText(snap);
}

TEST(StatsReport, VlanAndSizeCountsAreInTheJsonAndTheSummary) {
  Snapshot snap = twoPorts(1.0, 100, 0, 0, 0);
  snap.ports[0].vlan_frames = {{100, 40}, {200, 35}};
  snap.ports[0].untagged_frames = 25;
  snap.ports[0].size_frames = {10, 20, 0, 0, 0, 60, 10};
  snap.ports[0].rxd = 64;
  snap.ports[0].txd = 512;
  const auto json = toJson(snap);
  const auto& p0 = json["ports"][0];
  EXPECT_EQ(25u, p0["untagged"].get<std::uint64_t>());
  ASSERT_EQ(2u, p0["vlans"].size());
  EXPECT_EQ(100, p0["vlans"][0]["vlan"].get<int>());
  EXPECT_EQ(40u, p0["vlans"][0]["frames"].get<std::uint64_t>());
  EXPECT_EQ(200, p0["vlans"][1]["vlan"].get<int>());
  EXPECT_EQ(35u, p0["vlans"][1]["frames"].get<std::uint64_t>());
  ASSERT_EQ(7u, p0["sizes"].size());
  EXPECT_EQ("64", p0["sizes"][0]["class"]);
  EXPECT_EQ("1519-max", p0["sizes"][6]["class"]);
  EXPECT_EQ(60u, p0["sizes"][5]["frames"].get<std::uint64_t>());
  EXPECT_EQ(64, p0["rxd"].get<int>());
  EXPECT_EQ(512, p0["txd"].get<int>());
  EXPECT_TRUE(json["ports"][1]["vlans"].empty());
  EXPECT_NE(std::string::npos,
            summaryText(snap).find("received by VLAN: untagged 25, vlan 100 40, vlan 200 35; by size (bytes with "
                                   "FCS): 64 10, 65-127 20, 128-255 0, 256-511 0, 512-1023 0, 1024-1518 60, "
                                   "1519-max 10; rings rxd 64 txd 512"))
      << summaryText(snap);
}

TEST(StatsReport, SummaryListsAtMost16VlansAndSaysHowManyMore) {
  Snapshot snap = twoPorts(1.0, 100, 0, 0, 0);
  for (std::uint16_t v = 1; v <= 20; ++v) snap.ports[0].vlan_frames[v] = v;
  const std::string text = summaryText(snap);
  EXPECT_NE(std::string::npos, text.find("vlan 16 16, ... (4 more VLANs)")) << text;
  EXPECT_EQ(std::string::npos, text.find("vlan 17 17")) << text;
  EXPECT_EQ(20u, toJson(snap)["ports"][0]["vlans"].size());
}

}  // namespace
}  // namespace vnf::fwd
