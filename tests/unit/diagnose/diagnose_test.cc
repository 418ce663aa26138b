// diagnose on recorded fixtures (tests/data/diagnose/2node-igb-faults: one VNF per fault, one
// healthy), its bad inputs, and the ethtool ioctls on interfaces without ethtool support.
#include "diagnose/diagnose.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "diagnose/context.h"
#include "diagnose/ethtool.h"
#include "prep/netlink.h"
#include "tests/unit/golden.h"
#include "tests/unit/test_util.h"

namespace vnf::diagnose {
namespace {

const std::filesystem::path kFixture = test::dataDir() / "diagnose" / "2node-igb-faults";

Result<Report> runOn(const std::string& answers, std::vector<std::string> names, bool all, int window_ms) {
  auto fs = HostFs::open(kFixture / "root");
  EXPECT_TRUE(fs);
  auto probe = loadRecordedProbe(answers);
  if (!probe) return std::unexpected(probe.error());
  Request r;
  r.names = std::move(names);
  r.all = all;
  r.window = std::chrono::milliseconds(window_ms);
  return runDiagnose(*fs, **probe, r);
}

std::vector<const Finding*> find(const Report& r, const std::string& vnf, const std::string& check) {
  std::vector<const Finding*> out;
  for (const auto& f : r.findings)
    if (f.vnf == vnf && f.check == check) out.push_back(&f);
  return out;
}

Severity worst(const Report& r, const std::string& vnf, const std::string& check) {
  Severity s = Severity::kOk;
  for (const auto* f : find(r, vnf, check)) s = std::max(s, f->severity);
  return s;
}

struct FaultCase {
  const char* vnf;
  const char* check;
  Severity severity;
  const char* seen;  // a part of what was seen
  const char* fix;   // a part of the fix
};

class Faults : public testing::TestWithParam<FaultCase> {};

TEST_P(Faults, FoundWithNumbersAndFix) {
  const auto& c = GetParam();
  auto r = runOn((kFixture / "answers.json").string(), {}, true, 2000);
  ASSERT_TRUE(r) << r.error().message;
  auto fs = find(*r, c.vnf, c.check);
  ASSERT_FALSE(fs.empty()) << "no " << c.check << " finding for " << c.vnf;
  auto it =
      std::find_if(fs.begin(), fs.end(), [&](const Finding* f) { return f->seen.find(c.seen) != std::string::npos; });
  ASSERT_NE(it, fs.end()) << c.check << " for " << c.vnf << " does not say \"" << c.seen
                          << "\"; first: " << fs.front()->seen;
  EXPECT_EQ((*it)->severity, c.severity) << (*it)->seen;
  EXPECT_NE((*it)->fix.find(c.fix), std::string::npos) << (*it)->fix;
  EXPECT_FALSE((*it)->where.empty());
  EXPECT_FALSE((*it)->meaning.empty());
}

INSTANTIATE_TEST_SUITE_P(
    EachFault, Faults,
    testing::Values(
        FaultCase{"dmar", "iommu.dmar", Severity::kFail, "2 IOMMU fault records name VF 0000:83:10.1", "vnfctl doctor"},
        FaultCase{"vlan", "vlan.vf", Severity::kFail, "VF 2 (0000:83:10.2) of ens3f0 has VLAN 300, the spec says 200",
                  "ip link set dev ens3f0 vf 2 vlan 200"},
        FaultCase{"jumbo", "mtu.pf", Severity::kFail, "PF ens2f0 MTU 1500, the spec wants 9000",
                  "ip link set dev ens2f0 mtu 9000"},
        FaultCase{"remote", "numa.vf", Severity::kFail,
                  "VF 0000:83:10.3 is on node 1, the VNF's vCPUs and memory on node 0", "vnfctl launch SPEC --replace"},
        FaultCase{"remote", "numa.threads", Severity::kFail, "(CPU 0/KVM) on 2", "vnfctl verify remote"},
        FaultCase{"remote", "numa.memory", Severity::kFail, "0% of the guest's memory on node 1",
                  "vnfctl verify remote"},
        FaultCase{"rings", "rings.size", Severity::kWarn, "ens1f0 RX ring 256 of max 4096",
                  "vnfctl tune --nic ens1f0 --rings max"},
        FaultCase{"rings", "numa.irq", Severity::kWarn, "42->0-3", "vnfctl tune --nic ens1f0 --irq-affinity local"},
        FaultCase{"rings", "path.drops", Severity::kFail, "PF ens1f0 rx (rx_missed_errors +5000), ",
                  "vnfctl tune rings --rings max"},
        FaultCase{"rings", "offload.checksum", Severity::kWarn, "ens1f0 (the PF of the VNF's VF): off: rx-checksum",
                  "ethtool -K ens1f0 rx on"},
        FaultCase{"rings", "offload.tunnel", Severity::kInfo,
                  "ens1f0: off or missing: tx-udp_tnl-segmentation, rx-udp_tunnel-port-offload",
                  "if the VNF's traffic is VXLAN/Geneve: ethtool -K ens1f0"},
        FaultCase{"taps", "forward.rule", Severity::kFail,
                  "rule handle 6 in chain ip filter FORWARD rejects traffic on vnf9a (counter 3 packets)",
                  "nft delete rule ip filter FORWARD handle 6"},
        FaultCase{"", "forward.legacy", Severity::kWarn,
                  "legacy (xtables) iptables tables exist: iptables nat, iptables filter", "iptables-legacy-save"},
        FaultCase{"taps", "mtu.path", Severity::kFail,
                  "port eth9 (on the path of tap vnf9a via bridge br9) has MTU 1500", "ip link set dev eth9 mtu 9000"},
        FaultCase{"taps", "forward.rule", Severity::kFail,
                  "rule handle 5 in chain ip filter FORWARD drops traffic on vnf9a (counter 42 packets)",
                  "nft delete rule ip filter FORWARD handle 5"},
        FaultCase{"taps", "forward.policy", Severity::kFail, "policy drop and no accept for vnf9a",
                  "nft insert rule ip filter FORWARD iifname \"br9\" accept"},
        FaultCase{"taps", "forward.br_netfilter", Severity::kWarn, "bridge-nf-call-iptables = 1",
                  "sysctl -w net.bridge.bridge-nf-call-iptables=0"},
        FaultCase{"taps", "rings.tap", Severity::kWarn,
                  "tap vnf9a tx_dropped 10 (guest port 0, forwarder RX ring 64 descriptors)",
                  "guest.forwarder.rx_descriptors (now 64; 64..4096"},
        FaultCase{"taps", "rings.forwarder", Severity::kWarn,
                  "guest port 0: imissed 3, rx_nombuf 0, tx_full_drops 0 (rings: rxd 64, txd 1024)",
                  "raise the spec's guest.forwarder.rx_descriptors (now 64"},
        FaultCase{"tagged", "vlan.guest", Severity::kFail,
                  "guest port 0 (VF 0000:83:10.4) received: untagged 10, VLAN 104 990; the VF's VLAN (IFLA_VF_VLAN) "
                  "0, the spec's 104",
                  "ip link set dev ens3f0 vf 4 vlan 104"},
        FaultCase{"jumbo", "mtu.guest", Severity::kWarn,
                  "guest port 0 (MTU 1500) dropped 50 frames over the MTU of its RX or TX port; 50 received frames "
                  "of 1519 bytes or more",
                  "raise the spec's mtu"},
        FaultCase{"taps", "rings.guest_log", Severity::kWarn, "Ring Buffer Full on port 0", "guest.forwarder"},
        FaultCase{"taps", "path.drops", Severity::kFail, "tap vnf9a -> guest (tx_dropped +4000), 200000 packets/s",
                  "raise the spec's guest.forwarder.rx_descriptors (now 64"},
        FaultCase{"stopped", "vnf.state", Severity::kFail, "the domain is shut off", "vnfctl start stopped"},
        FaultCase{"", "thermal.throttle", Severity::kFail, "cpu5/thermal_throttle/core_throttle_count +18", "cooling"},
        FaultCase{"", "thermal.temperature", Severity::kWarn,
                  "thermal_zone0 (x86_pkg_temp) 99.0 C >= passive trip 95.0 C", "cooling"}),
    [](const auto& info) {
      // The index: one check may have several faults (two forward.rule findings for taps).
      std::string n = std::string(info.param.vnf) + "_" + info.param.check + "_" + std::to_string(info.index);
      std::replace_if(
          n.begin(), n.end(), [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
      return n;
    });

TEST(Diagnose, HealthyVnfHasNothingWorseThanInfo) {
  auto r = runOn((kFixture / "answers.json").string(), {"good"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  std::size_t ok = 0;
  for (const auto& f : r->findings) {
    if (f.vnf != "good") continue;
    EXPECT_LE(f.severity, Severity::kInfo) << f.check << ": " << f.seen;
    ok += f.severity == Severity::kOk;
  }
  // state, dmar, vlan, mtu.pf, mtu.guest, forward (no taps: none), numa vf/threads/memory/irq, rings, offload, path
  EXPECT_GE(ok, 11u);
  EXPECT_EQ(worst(*r, "good", "path.drops"), Severity::kOk);
}

TEST(Diagnose, PacketsDyingAtTheGuestRingNameTheForwardersRingAndItsSize) {
  auto r = runOn((kFixture / "answers.json").string(), {"taps"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "taps", "path.drops");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->meaning,
            "packets die at the guest forwarder's RX ring (guest port 0, 64 descriptors), seen at tap vnf9a -> guest: "
            "the guest's virtio RX ring was full (the forwarder polls too slowly, or its ring is small)");
  EXPECT_NE(f[0]->fix.find("a virtio port uses at most its virtqueue's size"), std::string::npos) << f[0]->fix;
}

TEST(Diagnose, GuestVlansAsTheSpecWantsAreOk) {
  auto r = runOn((kFixture / "answers.json").string(), {"good"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "good", "vlan.guest");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kOk);
  EXPECT_EQ(f[0]->seen,
            "guest port 0 (VF 0000:83:10.0) received: untagged 10; the VF's VLAN (IFLA_VF_VLAN) 100, the spec's 100");
}

TEST(Diagnose, GoldenReport) {
  auto r = runOn((kFixture / "answers.json").string(), {}, true, 2000);
  ASSERT_TRUE(r) << r.error().message;
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& f : r->findings) j.push_back(toJson(f));
  std::string text = j.dump(1) + "\n";
  // Paths of this checkout would make the file machine-specific.
  for (const auto& p : {kFixture.string() + "/root", kFixture.string() + "/answers.json"}) {
    for (auto at = text.find(p); at != std::string::npos; at = text.find(p))
      text.replace(at, p.size(), p.ends_with("root") ? "FIXTURE_ROOT" : "ANSWERS");
  }
  test::expectGolden("diagnose/2node-igb-faults.json", text);
}

TEST(Diagnose, StaticOnlyHasNoSamplingFindings) {
  auto r = runOn((kFixture / "answers.json").string(), {}, true, 0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->hops.empty());
  EXPECT_TRUE(find(*r, "rings", "path.drops").empty());
  // Throttled since boot, but nobody saw it grow: a warning, not a failure.
  auto t = find(*r, "", "thermal.throttle");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]->severity, Severity::kWarn);
  EXPECT_NE(t[0]->seen.find("12 throttle events since boot"), std::string::npos) << t[0]->seen;
  EXPECT_EQ(diagnoseExitCode(r->findings), 1);
}

TEST(Diagnose, UnknownVnfSaysDidYouMean) {
  auto r = runOn((kFixture / "answers.json").string(), {"goood"}, false, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNoSuchVnf);
  EXPECT_EQ(r.error().message, "no VNF named 'goood' (9 VNFs managed here)");
  EXPECT_EQ(r.error().fix, "did you mean good? (vnfctl list shows them all)");
}

TEST(Diagnose, DuplicateNamesDiagnoseOnce) {
  auto once = runOn((kFixture / "answers.json").string(), {"vlan"}, false, 0);
  auto twice = runOn((kFixture / "answers.json").string(), {"vlan", "vlan"}, false, 0);
  ASSERT_TRUE(once && twice);
  EXPECT_EQ(once->findings.size(), twice->findings.size());
}

// Writes a copy of the fixture's answers with `edit` applied, next to it in a temp dir (domain XML
// files are copied as text into "xml").
// An edited copy of the fixture's answers in a temporary folder, removed when it goes out of scope
// (also when an ASSERT ends the test early).
struct EditedAnswers {
  std::filesystem::path dir;
  std::string path;
  EditedAnswers(std::filesystem::path d, std::string p) : dir(std::move(d)), path(std::move(p)) {}
  EditedAnswers(const EditedAnswers&) = delete;
  EditedAnswers& operator=(const EditedAnswers&) = delete;
  ~EditedAnswers() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::unique_ptr<EditedAnswers> editedAnswers(const std::string& tag, const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(test::readFile(kFixture / "answers.json"));
  for (auto& d : j["domains"]) {
    d["xml"] = test::readFile(kFixture / d["xml_file"].get<std::string>());
    d.erase("xml_file");
  }
  edit(j);
  auto dir = test::makeTempDir("diag-" + tag);
  auto path = dir / "answers.json";
  test::writeFile(path, j.dump());
  return std::make_unique<EditedAnswers>(dir, path.string());
}

TEST(Diagnose, NicWithoutEthtoolSupportIsAFindingNotAnError) {
  auto edited = editedAnswers("noethtool", [](nlohmann::json& j) {
    j["rings"]["ens3f0"] = {{"error", "not supported by its driver (Operation not supported)"}};
    j["features"]["ens3f0"] = {{"error", "not supported by its driver (Operation not supported)"}};
  });
  auto r = runOn(edited->path, {"good"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto rs = find(*r, "good", "rings.size");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]->severity, Severity::kInfo);
  EXPECT_EQ(rs[0]->seen, "rings on ens3f0: not supported by its driver (Operation not supported)");
  EXPECT_EQ(worst(*r, "good", "offload.tunnel"), Severity::kInfo);
}

TEST(Diagnose, DamagedDomainXmlIsAFinding) {
  auto edited = editedAnswers("badxml", [](nlohmann::json& j) {
    j["domains"] = nlohmann::json::array({{{"name", "broken"}, {"state", "running"}, {"xml", "<domain><metadata>"}},
                                          {{"name", "foreign"}, {"state", "running"}, {"xml", "<domain/>"}}});
  });
  auto r = runOn(edited->path, {}, true, 0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(worst(*r, "broken", "vnf.metadata"), Severity::kFail);
  auto f = find(*r, "foreign", "vnf.metadata");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->seen, "domain foreign has no vnfctl metadata: vnfctl does not manage it");
}

TEST(Diagnose, HostileCountersAreRefusedNotWrapped) {
  auto edited = editedAnswers("negative", [](nlohmann::json& j) {
    j["link_stats"]["ens1f0"] =
        nlohmann::json::array({{{"rx_packets", -5}}, {{"rx_packets", 18446744073709551615ull}}});
  });
  auto r = runOn(edited->path, {"rings"}, false, 1000);
  ASSERT_TRUE(r) << r.error().message;
  // The negative sample is refused: the PF hop has no packet count, so no rate is made up.
  for (const auto& h : r->hops) {
    if (h.hop == "PF ens1f0 rx") {
      EXPECT_EQ(h.packets_per_s, 0);
    }
  }
}

// A trunk arriving inside the VF's port VLAN (Q-in-Q, or a switch sending tags): a warning; a VF
// without a VLAN passing a trunk: information.
TEST(Diagnose, OtherTagsInsideAPortVlanWarnAndATrunkWithoutOneInforms) {
  auto edited = editedAnswers("qinq", [](nlohmann::json& j) {
    std::string stats = R"(VNF-FWD STATS {"ports": [{"index": 0, "rx": 30, "untagged": 10, "vlans": [{"vlan": 7,
        "frames": 5}, {"vlan": 8, "frames": 15}]}]})";
    std::erase(stats, '\n');
    j["serial_logs"]["/var/log/vnfctl/good.serial.log"] = stats;
    j["serial_logs"]["/var/log/vnfctl/rings.serial.log"] = stats;
  });
  auto r = runOn(edited->path, {"good", "rings"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto good = find(*r, "good", "vlan.guest");
  ASSERT_EQ(good.size(), 1u);
  EXPECT_EQ(good[0]->severity, Severity::kWarn);
  EXPECT_NE(good[0]->seen.find("untagged 10, VLAN 8 15, VLAN 7 5"), std::string::npos) << good[0]->seen;
  EXPECT_NE(good[0]->fix.find("nics[0].vlan"), std::string::npos) << good[0]->fix;
  auto trunk = find(*r, "rings", "vlan.guest");
  ASSERT_EQ(trunk.size(), 1u);
  EXPECT_EQ(trunk[0]->severity, Severity::kInfo);
}

// An image whose forwarder does not count VLANs, and counters that are not counters: no VLAN
// finding made up, no crash.
TEST(Diagnose, ForwarderStatsWithoutOrWithBrokenVlanCountsAreSkipped) {
  auto edited = editedAnswers("novlans", [](nlohmann::json& j) {
    j["serial_logs"]["/var/log/vnfctl/good.serial.log"] =
        R"(VNF-FWD STATS {"ports": [{"index": 0, "rx": 10, "mtu": 9000}]})";
    j["serial_logs"]["/var/log/vnfctl/tagged.serial.log"] =
        R"(VNF-FWD STATS {"ports": [{"index": 0, "rx": 10, "untagged": -1, "vlans": [{"vlan": 104, "frames": 3}]},)"
        R"( {"index": 1, "untagged": 1, "vlans": [{"vlan": 99999, "frames": 3}, {"vlan": "x"}, 5]}]})";
  });
  auto r = runOn(edited->path, {"good", "tagged"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(find(*r, "good", "vlan.guest").empty());
  EXPECT_TRUE(find(*r, "tagged", "vlan.guest").empty());  // port 0 refused; port 1 is no guest port of it
}

TEST(Diagnose, GoodVnfHasAHealthyOffloadFinding) {
  auto r = runOn((kFixture / "answers.json").string(), {"good"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "good", "offload.checksum");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kOk);
  EXPECT_EQ(f[0]->seen, "ens3f0: RX and TX checksum offload on");
  EXPECT_EQ(worst(*r, "good", "offload.tunnel"), Severity::kOk);
}

// rx_missed_errors is in the link statistics and in the driver's ethtool statistics with the same
// value: counted once. The VF's own counters (IFLA_VF_STATS) are a hop of their own.
TEST(Diagnose, PfCountersAreCountedOnceAndVfStatsAreAHop) {
  auto r = runOn((kFixture / "answers.json").string(), {"rings"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  const Hop* pf = nullptr;
  const Hop* vf_rx = nullptr;
  const Hop* vf_tx = nullptr;
  for (const auto& h : r->hops) {
    if (h.hop == "PF ens1f0 rx") pf = &h;
    if (h.hop == "VF 0000:81:10.0 rx") vf_rx = &h;
    if (h.hop == "VF 0000:81:10.0 tx") vf_tx = &h;
  }
  ASSERT_TRUE(pf && vf_rx && vf_tx);
  EXPECT_EQ(pf->drop_counters, "rx_missed_errors +5000");
  EXPECT_EQ(pf->dropped, 5000u);
  EXPECT_EQ(vf_rx->packets_per_s, 200000);
  EXPECT_EQ(vf_tx->packets_per_s, 200000);
  EXPECT_NE(vf_rx->where.find("RTM_GETLINK ens1f0 IFLA_VF_STATS (VF 0)"), std::string::npos) << vf_rx->where;
}

// VF 0 of ens3f0 (the "good" VNF's) drops 700 of 200,000 received over the window.
void growVfRxDrops(nlohmann::json& j) {
  j["vf_stats"]["ens3f0"] =
      nlohmann::json::array({{{"0", {{"rx_packets", 1000}, {"tx_packets", 1000}, {"rx_dropped", 0}}}},
                             {{"0", {{"rx_packets", 201000}, {"tx_packets", 190000}, {"rx_dropped", 700}}}}});
}

// A VF whose rx_dropped grows: the guest's RX ring behind it, with the forwarder's descriptor count.
TEST(Diagnose, VfRxDropsAreTheGuestRing) {
  auto edited = editedAnswers("vfdrop", [](nlohmann::json& j) { growVfRxDrops(j); });
  auto r = runOn(edited->path, {"good"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "good", "path.drops");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kFail);
  EXPECT_NE(f[0]->seen.find("VF 0000:83:10.0 rx (rx_dropped +700), 100000 packets/s"), std::string::npos) << f[0]->seen;
  EXPECT_NE(f[0]->meaning.find("guest port 0, 1024 descriptors"), std::string::npos) << f[0]->meaning;
  EXPECT_NE(f[0]->fix.find("guest.forwarder.rx_descriptors (now 1024"), std::string::npos) << f[0]->fix;
}

// The same drops on a VF passed as a PCI device (mode hostdev): the guest's own driver owns the
// ring, so the advice is not vnf-fwd's descriptors.
TEST(Diagnose, VfRxDropsOfAHostdevVfAreTheGuestDriversRing) {
  auto edited = editedAnswers("hostdevdrop", [](nlohmann::json& j) {
    growVfRxDrops(j);
    for (auto& d : j["domains"]) {
      if (d["name"] != "good") continue;
      auto xml = d["xml"].get<std::string>();
      const std::string spec = "<vnfctl:spec hash=\"0123456789abcdef\"/>";
      const auto at = xml.find(spec);
      ASSERT_NE(at, std::string::npos);
      xml.replace(at, spec.size(),
                  "<vnfctl:spec hash=\"0123456789abcdef\" recipe=\"3\"><vnfctl:field name=\"nics[0].mode\" "
                  "value=\"hostdev\"/></vnfctl:spec>");
      d["xml"] = xml;
    }
  });
  auto r = runOn(edited->path, {"good"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "good", "path.drops");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kFail);
  EXPECT_NE(f[0]->meaning.find("mode hostdev"), std::string::npos) << f[0]->meaning;
  EXPECT_EQ(f[0]->fix.find("rx_descriptors"), std::string::npos) << f[0]->fix;
  EXPECT_NE(f[0]->fix.find("ethtool -G"), std::string::npos) << f[0]->fix;
}

// A VNF with two taps as vnfctl renders it: the guest forwards port 0 <-> port 1 (vnf-fwd's
// default pairs).
std::string twoTapXml(const std::string& name) {
  return "<domain type=\"kvm\"><name>" + name +
         "</name><metadata><vnfctl:vnf xmlns:vnfctl=\"urn:vnfctl:domain:1\"><vnfctl:spec "
         "hash=\"0123456789abcdef\"/><vnfctl:tool version=\"0.1.0\"/><vnfctl:image hash=\"\"/><vnfctl:placement "
         "node=\"0\" memory-kib=\"524288\" page-size-kib=\"0\" hugepages=\"0\"><vnfctl:shared "
         "cpus=\"0\"/></vnfctl:placement></vnfctl:vnf></metadata><devices><interface type=\"ethernet\"><target "
         "dev=\"vnfpa\" managed=\"no\"/></interface><interface type=\"ethernet\"><target dev=\"vnfpb\" "
         "managed=\"no\"/></interface><serial type=\"file\"><source path=\"/var/log/vnfctl/" +
         name + ".serial.log\"/></serial></devices></domain>";
}

struct WayRates {
  std::uint64_t a_to_b;  // per second, what enters tap a and leaves by tap b
  std::uint64_t b_to_a;  // the other way
  std::uint64_t b_out;   // what tap b's rx counts of a_to_b (a fall when less)
};

std::unique_ptr<EditedAnswers> twoTapAnswers(const std::string& tag, WayRates w) {
  return editedAnswers(tag, [&](nlohmann::json& j) {
    j["domains"] = nlohmann::json::array({{{"name", "pair"}, {"state", "running"}, {"xml", twoTapXml("pair")}}});
    auto tap = [](std::uint64_t tx, std::uint64_t rx) {
      return nlohmann::json{{"tx_packets", tx}, {"rx_packets", rx}, {"tx_dropped", 0}, {"rx_dropped", 0}};
    };
    const std::uint64_t s = 2;  // the window's seconds
    j["link_stats"]["vnfpa"] = nlohmann::json::array({tap(1000, 1000), tap(1000 + w.a_to_b * s, 1000 + w.b_to_a * s)});
    j["link_stats"]["vnfpb"] = nlohmann::json::array({tap(1000, 1000), tap(1000 + w.b_to_a * s, 1000 + w.b_out * s)});
    auto stats = [](std::uint64_t rx0, std::uint64_t tx0, std::uint64_t rx1, std::uint64_t tx1) {
      nlohmann::json ports = nlohmann::json::array(
          {{{"index", 0}, {"rx", rx0}, {"tx", tx0}, {"imissed", 0}, {"rx_nombuf", 0}, {"tx_full_drops", 0}},
           {{"index", 1}, {"rx", rx1}, {"tx", tx1}, {"imissed", 0}, {"rx_nombuf", 0}, {"tx_full_drops", 0}}});
      return "VNF-FWD STATS " + nlohmann::json{{"ports", ports}}.dump() + "\n";
    };
    // Port 0 receives a_to_b and sends b_to_a; port 1 the reverse.
    j["serial_logs"]["/var/log/vnfctl/pair.serial.log"] =
        nlohmann::json::array({stats(1000, 1000, 1000, 1000), stats(1000 + w.a_to_b * s, 1000 + w.b_to_a * s,
                                                                    1000 + w.b_to_a * s, 1000 + w.a_to_b * s)});
  });
}

TEST(Diagnose, TwoTapVnfForwardingOneWayOrBothIsHealthy) {
  for (WayRates w : {WayRates{100000, 0, 100000}, WayRates{100000, 80000, 100000}}) {
    auto edited = twoTapAnswers("oneway", w);
    auto r = runOn(edited->path, {"pair"}, false, 2000);
    ASSERT_TRUE(r) << r.error().message;
    auto f = find(*r, "pair", "path.drops");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0]->severity, Severity::kOk) << w.b_to_a << ": " << f[0]->seen << " / " << f[0]->meaning;
  }
}

TEST(Diagnose, AFallAlongARealDirectionWarns) {
  auto edited = twoTapAnswers("fall", {100000, 0, 50000});
  auto r = runOn(edited->path, {"pair"}, false, 2000);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "pair", "path.drops");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kWarn);
  EXPECT_EQ(f[0]->seen,
            "100000 packets/s at guest port 1 tx but 50000 at guest -> tap vnfpb over 2.0 s, no drop counter grew");
}

// Forward-hook rules: which accepts let the VNF's traffic past a policy drop.
std::unique_ptr<EditedAnswers> chainAnswers(const std::string& tag, nlohmann::json expr) {
  return editedAnswers(tag, [&](nlohmann::json& j) {
    auto& items = j["nft"]["nftables"];
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& it : items)
      if (!it.contains("rule")) kept.push_back(it);
    kept.push_back(
        {{"rule", {{"family", "ip"}, {"table", "filter"}, {"chain", "FORWARD"}, {"handle", 9}, {"expr", expr}}}});
    items = kept;
  });
}

TEST(Diagnose, OnlyAnAcceptForTheVnfOrForEverythingPassesAPolicyDrop) {
  const nlohmann::json counter = {{"counter", {{"packets", 1}, {"bytes", 60}}}};
  const nlohmann::json accept = {{"accept", nullptr}};
  const nlohmann::json ct = {{"match",
                              {{"op", "in"},
                               {"left", {{"ct", {{"key", "state"}}}}},
                               {"right", nlohmann::json::array({"established", "related"})}}}};
  const nlohmann::json physdev = {{"xt", {{"type", "match"}, {"name", "physdev"}}}};
  const nlohmann::json mine = {
      {"match", {{"op", "=="}, {"left", {{"meta", {{"key", "iifname"}}}}}, {"right", "vnf9*"}}}};
  struct Case {
    const char* what;
    nlohmann::json expr;
    bool policy_finding;
  };
  for (const auto& c : {Case{"ct state accept", {ct, counter, accept}, true},
                        Case{"xt physdev accept", {physdev, counter, accept}, true},
                        Case{"counter accept (catch-all)", {counter, accept}, false},
                        Case{"iifname vnf9* accept", {mine, counter, accept}, false}}) {
    auto edited = chainAnswers("chain", c.expr);
    auto r = runOn(edited->path, {"taps"}, false, 0);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(!find(*r, "taps", "forward.policy").empty(), c.policy_finding) << c.what;
  }
  // An xt REJECT for everything forwarded: the VNF's traffic is rejected.
  auto edited = chainAnswers("xtreject", {counter, {{"xt", {{"type", "target"}, {"name", "REJECT"}}}}});
  auto r = runOn(edited->path, {"taps"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "taps", "forward.rule");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->severity, Severity::kFail);
  EXPECT_EQ(f[0]->seen, "rule handle 9 in chain ip filter FORWARD rejects forwarded traffic (counter 1 packets)");
}

// Legacy iptables tables in a host snapshot: warn with a filter table, inform without, nothing when
// the files are missing or empty.
TEST(Diagnose, LegacyIptablesTablesAreNamed) {
  struct Case {
    const char* v4;
    const char* v6;
    std::optional<Severity> want;
    const char* seen;
  };
  for (const auto& c : {Case{nullptr, nullptr, std::nullopt, ""}, Case{"", "", std::nullopt, ""},
                        Case{"", "mangle\nraw\n", Severity::kInfo, "ip6tables mangle, ip6tables raw"},
                        Case{"nat\n", "filter\n", Severity::kWarn, "iptables nat, ip6tables filter"}}) {
    auto root = test::makeTempDir("diag-legacy");
    EditedAnswers cleanup(root, "");
    std::filesystem::create_directories(root / "proc/net");
    if (c.v4) test::writeFile(root / "proc/net/ip_tables_names", c.v4);
    if (c.v6) test::writeFile(root / "proc/net/ip6_tables_names", c.v6);
    auto fs = HostFs::open(root);
    ASSERT_TRUE(fs);
    auto probe = loadRecordedProbe((kFixture / "answers.json").string());
    ASSERT_TRUE(probe);
    Request req;
    req.names = {"taps"};
    auto r = runDiagnose(*fs, **probe, req);
    ASSERT_TRUE(r) << r.error().message;
    auto f = find(*r, "", "forward.legacy");
    if (!c.want) {
      EXPECT_TRUE(f.empty()) << f.front()->seen;
      continue;
    }
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0]->severity, *c.want);
    EXPECT_EQ(f[0]->seen, std::string("legacy (xtables) iptables tables exist: ") + c.seen);
    EXPECT_NE(f[0]->where.find("/proc/net/ip6_tables_names under " + root.string()), std::string::npos);
  }
  // A VNF without taps: legacy tables do not see VF traffic.
  auto r = runOn((kFixture / "answers.json").string(), {"good"}, false, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(find(*r, "", "forward.legacy").empty());
}

// kern.log is read from its end only; the DMAR finding says which log it read.
TEST(Diagnose, KernLogIsReadFromItsTailAndNamedAsTheSource) {
  auto root = test::makeTempDir("diag-kernlog");
  EditedAnswers cleanup(root, "");
  std::filesystem::create_directories(root / "var/log");
  std::string text(100, 'x');
  text += "\nfirst whole line\nDMAR: second\n";
  test::writeFile(root / "var/log/kern.log", text);
  auto fs = HostFs::open(root);
  ASSERT_TRUE(fs);
  auto log = readKernLogTail(*fs, 40);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_EQ(log->records, (std::vector<std::string>{"first whole line", "DMAR: second"}));
  EXPECT_EQ(log->source, "/var/log/kern.log (its last 40 bytes)");
  auto whole = readKernLogTail(*fs, 1 << 20);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->records.size(), 3u);
  EXPECT_EQ(whole->source, "/var/log/kern.log");
  // A log of exactly the limit is whole: its first line is a record, not a cut one.
  auto exact = readKernLogTail(*fs, text.size());
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->records.size(), 3u);
  EXPECT_EQ(exact->source, "/var/log/kern.log");
  // A window that begins right after a newline loses no line either.
  auto aligned = readKernLogTail(*fs, std::string("first whole line\nDMAR: second\n").size());
  ASSERT_TRUE(aligned);
  EXPECT_EQ(aligned->records, (std::vector<std::string>{"first whole line", "DMAR: second"}));
  ASSERT_EQ(::mkfifo((root / "var/log/fifo").c_str(), 0600), 0);
  std::filesystem::remove(root / "var/log/kern.log");
  std::filesystem::create_symlink("fifo", root / "var/log/kern.log");
  EXPECT_FALSE(readKernLogTail(*fs, 40));  // refused, never blocks

  auto edited = editedAnswers("kernlog", [](nlohmann::json& j) { j["kmsg_source"] = "/var/log/kern.log"; });
  auto r = runOn(edited->path, {"dmar"}, false, 0);
  ASSERT_TRUE(r) << r.error().message;
  auto f = find(*r, "dmar", "iommu.dmar");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->where.rfind("kernel log (/var/log/kern.log), recorded in ", 0), 0u) << f[0]->where;
}

TEST(RecordedProbe, RefusesWhatIsNotAnAnswersFile) {
  auto dir = test::makeTempDir("diag-bad");
  EditedAnswers cleanup(dir, "");
  test::writeFile(dir / "notjson", "{");
  test::writeFile(dir / "schema", R"({"schema": "vnfctl.doctor/v1"})");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto a = loadRecordedProbe((dir / "notjson").string());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kBadContent);
  auto b = loadRecordedProbe((dir / "schema").string());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message,
            (dir / "schema").string() +
                " is not a recorded-answers file: its \"schema\" is not \"vnfctl.diagnose-answers/v1\"");
  auto c = loadRecordedProbe((dir / "fifo").string());  // would block a naive reader forever
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kInvalidArgument);
  auto d = loadRecordedProbe("/dev/zero");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::kInvalidArgument);
}

TEST(ForwarderStats, LastCompleteLineWins) {
  std::string text = "VNF-FWD STATS {\"uptime_s\": 1}\nnoise\nVNF-FWD STATS {\"uptime_s\": 2}\nVNF-FWD STATS {\"upt";
  auto j = lastForwarderStats(text);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["uptime_s"], 2);
  EXPECT_FALSE(lastForwarderStats("no stats here"));
}

// The API's indicators take the last two whole lines (oldest first) for the rates.
TEST(ForwarderStats, TheLastTwoWholeLinesOldestFirst) {
  std::string text =
      "VNF-FWD STATS {\"uptime_s\": 1}\nVNF-FWD STATS {\"uptime_s\": 2}\nnoise\nVNF-FWD STATS {\"uptime_s\": 3}\n"
      "VNF-FWD STATS {\"upt";
  auto two = lastForwarderStats(text, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0]["uptime_s"], 2);
  EXPECT_EQ(two[1]["uptime_s"], 3);
  EXPECT_EQ(lastForwarderStats("VNF-FWD STATS {\"uptime_s\": 9}", 2).size(), 1u);
  EXPECT_TRUE(lastForwarderStats("nothing", 2).empty());
}

// The real ioctls on interfaces every test machine has: clear errors, never a crash.
TEST(Ethtool, UnsupportedAndMissingInterfacesAreClearErrors) {
  auto lo = ethtool::rings("lo");
  ASSERT_FALSE(lo);
  EXPECT_EQ(lo.error().code, Errc::kConflict) << lo.error().message;
  EXPECT_NE(lo.error().message.find("ETHTOOL_GRINGPARAM on lo: not supported by its driver"), std::string::npos)
      << lo.error().message;
  auto missing = ethtool::rings("vnfnosuch0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_EQ(missing.error().message, "ETHTOOL_GRINGPARAM: no network interface named vnfnosuch0");
  auto bad = ethtool::rings("a/b");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  auto toolong = ethtool::stats(std::string(40, 'x'));
  ASSERT_FALSE(toolong);
  EXPECT_EQ(toolong.error().code, Errc::kInvalidArgument);
  auto set = ethtool::setRings("lo", 4096, 4096);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code, Errc::kConflict);
}

// IFLA_VF_STATS through rtnetlink on interfaces every test machine has.
TEST(Netlink, VfStatsOfInterfacesWithoutVfsAndMissingOnes) {
  auto lo = prep::netlink::vfStats("lo");
  ASSERT_TRUE(lo) << lo.error().message;
  EXPECT_TRUE(lo->empty());
  auto missing = prep::netlink::vfStats("vnfnosuch0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound) << missing.error().message;
  auto bad = prep::netlink::vfStats(std::string(40, 'x'));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST(Ethtool, LoopbackFeaturesAreRead) {
  auto f = ethtool::features("lo");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->count("tx-checksum-ip-generic")) << "lo reports no tx-checksum-ip-generic feature";
  EXPECT_TRUE(f->at("loopback"));
}

}  // namespace
}  // namespace vnf::diagnose

namespace vnf::diagnose {
namespace {

// The path model from domain XML vnfctl renders (the render goldens), not only from fixtures.
TEST(VnfPath, FromRenderedGoldens) {
  auto taps = parseVnfPath(
      {"fw5", "running", test::readFile(test::dataDir() / "golden" / "domain" / "scenario-tcg-vm-taps.xml")});
  ASSERT_TRUE(taps) << taps.error().message;
  ASSERT_EQ(taps->taps.size(), 2u);
  EXPECT_EQ(taps->taps[0].dev, "vnf5a");
  EXPECT_FALSE(taps->taps[0].mtu);
  EXPECT_EQ(taps->taps[1].dev, "vnf5b");
  EXPECT_EQ(taps->taps[1].mtu, 1500);
  EXPECT_EQ(taps->serial_log, "/var/log/vnfctl/fw5.serial.log");
  EXPECT_TRUE(taps->meta.vfs.empty());

  auto vf = parseVnfPath(
      {"edge-fw", "running", test::readFile(test::dataDir() / "golden" / "domain" / "dedicated-smt-1g-vf.xml")});
  ASSERT_TRUE(vf) << vf.error().message;
  EXPECT_TRUE(vf->taps.empty());  // hostdev interfaces are VFs, not taps
  ASSERT_EQ(vf->meta.vfs.size(), 2u);
  EXPECT_EQ(vf->meta.vfs[0].vf.str(), "0000:81:02.0");
  EXPECT_EQ(vf->meta.vfs[0].vlan, 100);
  EXPECT_EQ(vf->meta.vfs[0].mtu, 9000);
  EXPECT_EQ(vf->meta.node, 1);
}

}  // namespace
}  // namespace vnf::diagnose
