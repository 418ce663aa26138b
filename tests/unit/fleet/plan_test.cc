// The fleet planner on snapshot host trees: spreading, keeping what exists, scale down, anti-affinity,
// VFs per instance, fleet-wide MAC uniqueness, determinism, and why it does not fit.
#include "fleet/plan.h"

#include <gtest/gtest.h>

#include <set>

#include "discovery/discover.h"
#include "domain/render.h"
#include "lifecycle/render.h"
#include "spec/load.h"
#include "tests/unit/test_util.h"

namespace vnf::fleet {
namespace {

HostTopology tree(const std::string& name) {
  auto fs = HostFs::open(test::dataDir() / "hosts" / name);
  EXPECT_TRUE(fs);
  auto h = discoverHost(*fs);
  EXPECT_TRUE(h) << h.error().message;
  return *h;
}

HostView view(const std::string& name, const std::string& shape) {
  HostView v;
  v.name = name;
  v.snapshot = shape;
  v.topology = tree(shape);
  return v;
}

VnfSpec spec(const std::string& yaml) {
  auto s = parseSpecYaml(yaml, "test.yaml");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

// 2 dedicated vCPUs (one SMT core), 1 GiB of normal memory, no NIC: fits anywhere there is a core.
const char* kSmall = "name: web\nvcpus: 2\nmemory: 1G\nhugepages: none\n";
// One VF of ens2f0 (the X710 on node 1 of the two-socket tree, 8 VFs made).
const char* kVf = "name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\nnics:\n  - pf: ens2f0\n";

std::map<std::string, int> perHost(const FleetPlan& p) {
  std::map<std::string, int> n;
  for (const auto& i : p.instances) ++n[i.host];
  return n;
}

TEST(FleetPlan, SpreadsByFreeCpusAndNamesInstancesInOrder) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "2socket-ht-x710-node1"),
                              view("c", "1socket-isolcpus-rt")};
  auto plan = planFleet(hosts, {spec(kSmall), 6, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->fits());
  ASSERT_EQ(plan->instances.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(plan->instances[i].name, "web-" + std::to_string(i + 1));
    EXPECT_EQ(plan->instances[i].uuid, lifecycle::nameUuid("web-" + std::to_string(i + 1)));
    EXPECT_FALSE(plan->instances[i].existing);
  }
  // a and b have 28 of 28 CPUs free (32 minus one housekeeping core per node), c 12 of 12 (isolated
  // 2-7,10-15): all shares are whole, so a (most CPUs, first), then b (whole share), then c.
  EXPECT_EQ(plan->instances[0].host, "a");
  EXPECT_EQ(plan->instances[1].host, "b");
  EXPECT_EQ(plan->instances[2].host, "c");
  auto n = perHost(*plan);
  EXPECT_EQ(n["a"] + n["b"] + n["c"], 6);
  EXPECT_LE(std::abs(n["a"] - n["b"]), 1);
  ASSERT_EQ(plan->hosts.size(), 3u);
  EXPECT_EQ(plan->hosts[0].free_cpus_before, 28);
  EXPECT_EQ(plan->hosts[0].free_cpus_after, 28 - 2 * n["a"]);
}

TEST(FleetPlan, SameInputSameAnswer) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "amd-epyc-2socket-nps2")};
  auto one = planFleet(hosts, {spec(kSmall), 9, ""});
  auto two = planFleet(hosts, {spec(kSmall), 9, ""});
  ASSERT_TRUE(one && two);
  ASSERT_EQ(one->instances.size(), two->instances.size());
  for (std::size_t i = 0; i < one->instances.size(); ++i) {
    EXPECT_EQ(one->instances[i].host, two->instances[i].host);
    EXPECT_EQ(one->instances[i].placement.vcpu_pins, two->instances[i].placement.vcpu_pins);
    EXPECT_EQ(one->instances[i].macs.size(), two->instances[i].macs.size());
  }
}

TEST(FleetPlan, EachInstanceGetsItsOwnVfAndItsDerivedMac) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1")};
  auto plan = planFleet(hosts, {spec(kVf), 3, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  std::set<int> vfs;
  for (const auto& i : plan->instances) {
    ASSERT_EQ(i.placement.vfs.size(), 1u);
    EXPECT_EQ(i.placement.node, 1);
    vfs.insert(i.placement.vfs[0].vf_index);
    ASSERT_EQ(i.macs.size(), 1u);
    EXPECT_EQ(i.macs[0].label, "vf0");
    EXPECT_EQ(i.macs[0].mac, derivedMac(lifecycle::nameUuid(i.name), "vf0"));
    EXPECT_TRUE(i.macs[0].derived);
  }
  EXPECT_EQ(vfs.size(), 3u) << "three different VFs";
}

TEST(FleetPlan, ExistingInstancesStayWhereTheyAreAndExtrasAreRemovedHighestFirst) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "2socket-ht-x710-node1")};
  // web-2 lives on b (it would have gone to b anyway), web-1 on b too (a would be first), web-5 and
  // web-4 on a: with --count 3 they go.
  auto pin = [](const std::string& name, std::vector<int> cpus, int node) {
    ExistingInstance e{name, "shut off", {}, {}};
    e.placement.node = node;
    e.placement.vcpu_pins = cpus;
    e.placement.memory_kib = 1024 * 1024;
    return e;
  };
  hosts[1].instances = {pin("web-1", {2, 18}, 0), pin("web-2", {3, 19}, 0)};
  hosts[1].holdings.cpus = {2, 18, 3, 19};
  hosts[0].instances = {pin("web-4", {2, 18}, 0), pin("web-5", {3, 19}, 0), pin("webby-1", {4, 20}, 0)};
  hosts[0].holdings.cpus = {2, 18, 3, 19, 4, 20};
  auto plan = planFleet(hosts, {spec(kSmall), 3, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->instances.size(), 3u);
  EXPECT_EQ(plan->instances[0].host, "b");
  EXPECT_TRUE(plan->instances[0].existing);
  EXPECT_EQ(plan->instances[0].placement.vcpu_pins, (std::vector<int>{2, 18}));
  EXPECT_EQ(plan->instances[1].host, "b");
  EXPECT_TRUE(plan->instances[1].existing);
  EXPECT_FALSE(plan->instances[2].existing);
  EXPECT_EQ(plan->instances[2].host, "b") << "b has 24 free CPUs, a 22 (web-4, web-5 and webby-1 hold 6)";
  ASSERT_EQ(plan->remove.count("a"), 1u);
  EXPECT_EQ(plan->remove.at("a"), (std::vector<std::string>{"web-5", "web-4"}));
  EXPECT_EQ(plan->remove.count("b"), 0u);
}

TEST(FleetPlan, AnInstanceOnTwoHostsIsKeptOnTheFirstAndRemovedFromTheOther) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "2socket-ht-x710-node1")};
  hosts[0].instances = {{"web-1", "running", {}, {}}};
  hosts[1].instances = {{"web-1", "shut off", {}, {}}};
  auto plan = planFleet(hosts, {spec(kSmall), 1, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->instances.size(), 1u);
  EXPECT_EQ(plan->instances[0].host, "a");
  EXPECT_EQ(plan->remove.at("b"), (std::vector<std::string>{"web-1"}));
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_EQ(plan->notes[0], "web-1 exists on a and on b: kept on a, listed for removal from b");
}

// Both copies of web-1 have the MACs derived from its name: the one the plan removes is named as
// such, with no advice to redefine either (the removal ends the collision).
TEST(FleetPlan, TheCopyOfAnInstanceThePlanRemovesIsNoMacCollisionToRedefine) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "2socket-ht-x710-node1")};
  const MacAddress mac = derivedMac(lifecycle::nameUuid("web-1"), "tap0");
  for (auto& h : hosts) {
    h.instances = {{"web-1", "shut off", {}, {{"tap0", mac, true, false, true}}}};
    h.macs = {{mac, "web-1"}};
  }
  const char* tapped = "name: web\nvcpus: 2\nmemory: 1G\nhugepages: none\ntaps:\n  - tap: t0\n";
  auto plan = planFleet(hosts, {spec(tapped), 1, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->remove.at("b"), (std::vector<std::string>{"web-1"}));
  ASSERT_EQ(plan->notes.size(), 2u);
  EXPECT_EQ(plan->notes[1], "web-1 on a: its MAC " + formatMac(mac) +
                                " (tap0) is also used by domain web-1 on b, "
                                "which this plan removes");
  // A foreign domain with that MAC is a collision to mend, as before.
  hosts[1].instances.clear();
  hosts[1].macs = {{mac, "other"}};
  auto foreign = planFleet(hosts, {spec(tapped), 1, ""});
  ASSERT_TRUE(foreign);
  ASSERT_EQ(foreign->notes.size(), 1u);
  EXPECT_NE(foreign->notes[0].find("is also used by domain other on b: redefine one of them"), std::string::npos)
      << foreign->notes[0];
}

TEST(FleetPlan, AntiAffinityPutsAtMostOnePerHostAndSaysWhyTheRestDoNotFit) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "1socket-iommu-off")};
  auto plan = planFleet(hosts, {spec(kSmall), 3, "web-ha"});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->fits());
  ASSERT_EQ(plan->instances.size(), 2u);
  EXPECT_NE(plan->instances[0].host, plan->instances[1].host);
  ASSERT_TRUE(plan->unplaced);
  EXPECT_EQ(plan->unplaced->name, "web-3");
  EXPECT_EQ(plan->unplaced->remaining, 1);
  EXPECT_EQ(plan->unplaced->why.at("a"), "anti-affinity group web-ha: the host already has web-1");
  EXPECT_EQ(plan->unplaced->why.at("b"), "anti-affinity group web-ha: the host already has web-2");
}

TEST(FleetPlan, WhenNothingFitsEachHostSaysWhyPerNode) {
  std::vector<HostView> hosts{view("a", "1socket-iommu-off")};
  auto plan = planFleet(hosts, {spec("name: big\nvcpus: 12\nmemory: 1G\nhugepages: none\n"), 1, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->unplaced);
  EXPECT_EQ(plan->unplaced->name, "big-1");
  ASSERT_EQ(plan->unplaced->why.count("a"), 1u);
  EXPECT_NE(plan->unplaced->why.at("a").find("node 0"), std::string::npos) << plan->unplaced->why.at("a");
}

TEST(FleetPlan, ACollidingMacIsRederivedAndCarriedAsAnOverride) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1")};
  // The host's libvirt already uses the MAC web-1 would derive.
  const MacAddress taken = derivedMac(lifecycle::nameUuid("web-1"), "tap0");
  hosts[0].macs = {{taken, "other"}};
  auto plan = planFleet(hosts, {spec("name: web\nvcpus: 2\nmemory: 1G\nhugepages: none\ntaps:\n  - tap: t0\n"), 2, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->instances.size(), 2u);
  ASSERT_EQ(plan->instances[0].macs.size(), 1u);
  EXPECT_FALSE(plan->instances[0].macs[0].derived);
  EXPECT_EQ(plan->instances[0].macs[0].mac, derivedMac(lifecycle::nameUuid("web-1"), "tap0#1"));
  EXPECT_TRUE(plan->instances[0].macs[0].in_overrides);
  EXPECT_TRUE(plan->instances[1].macs[0].derived);
  EXPECT_FALSE(plan->instances[1].macs[0].in_overrides);
  EXPECT_EQ(plan->mac_rederived, 1);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(
      plan->notes[0].find("web-1: the MAC derived for tap0 (" + formatMac(taken) + ") is used by domain other on a"),
      std::string::npos)
      << plan->notes[0];
}

TEST(FleetPlan, AKeptInstanceKeepsTheMacsItsDomainHas) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1")};
  const auto uuid = lifecycle::nameUuid("web-1");
  const MacAddress edited{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  // web-1 exists with a MAC edited by hand (its domain is the one using it on the host).
  ExistingInstance e{"web-1", "shut off", {}, {{"tap0", edited, false, false, true}}};
  hosts[0].instances.push_back(e);
  hosts[0].macs = {{edited, "web-1"}};
  auto plan = planFleet(hosts, {spec("name: web\nvcpus: 2\nmemory: 1G\nhugepages: none\ntaps:\n  - tap: t0\n"), 2, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->instances.size(), 2u);
  const auto& kept = plan->instances[0];
  ASSERT_EQ(kept.macs.size(), 1u);
  EXPECT_EQ(kept.macs[0].mac, edited) << "the real MAC, not the derived " << formatMac(derivedMac(uuid, "tap0"));
  EXPECT_FALSE(kept.macs[0].derived);
  EXPECT_TRUE(kept.macs[0].from_domain);
  EXPECT_FALSE(kept.macs[0].in_overrides) << "a hand-edited MAC is not the spec's: no override";
  EXPECT_EQ(plan->mac_rederived, 0) << "its own MAC is no collision";
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("web-1 on a: tap0 has the MAC 52:54:00:12:34:56, not the derived"), std::string::npos)
      << plan->notes[0];
  // A kept instance whose MAC was re-derived by an earlier plan keeps it in its overrides, so the
  // host's define sees the spec it was defined with.
  hosts[0].instances[0].macs[0].mac = derivedMac(uuid, "tap0#1");
  hosts[0].macs = {{derivedMac(uuid, "tap0#1"), "web-1"}};
  auto again =
      planFleet(hosts, {spec("name: web\nvcpus: 2\nmemory: 1G\nhugepages: none\ntaps:\n  - tap: t0\n"), 2, ""});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->instances[0].macs[0].in_overrides);
  EXPECT_TRUE(again->notes.empty()) << again->notes[0];
}

TEST(FleetPlan, AClosedHostTakesNothingNewKeepsItsInstancesAndSaysWhy) {
  std::vector<HostView> hosts{view("a", "2socket-ht-x710-node1"), view("b", "2socket-ht-x710-node1")};
  hosts[0].closed = "what 1 of its domains holds is unknown: domain 'x' is damaged";
  hosts[0].instances.push_back({"web-2", "running", {}, {}});
  auto plan = planFleet(hosts, {spec(kSmall), 3, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->instances.size(), 3u);
  EXPECT_EQ(plan->instances[0].host, "b");
  EXPECT_EQ(plan->instances[1].host, "a");
  EXPECT_TRUE(plan->instances[1].existing);
  EXPECT_EQ(plan->instances[2].host, "b");
  ASSERT_FALSE(plan->notes.empty());
  EXPECT_EQ(plan->notes[0], "host a: nothing new is placed there: " + hosts[0].closed);
  auto none = planFleet({hosts[0]}, {spec(kSmall), 3, ""});
  ASSERT_TRUE(none);
  ASSERT_TRUE(none->unplaced);
  EXPECT_EQ(none->unplaced->why.at("a"), hosts[0].closed);
}

TEST(FleetPlan, FiveHundredInstancesHaveFiveHundredDistinctMacs) {
  std::vector<HostView> hosts;
  for (int i = 0; i < 4; ++i) hosts.push_back(view("h" + std::to_string(i), "amd-epyc-2socket-nps2"));
  auto plan = planFleet(hosts, {spec("name: m\nvcpus: 1\ncpu_policy: shared\nmemory: 64M\nhugepages: none\n"
                                     "taps:\n  - tap: a\n  - tap: b\n"),
                                500, ""});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->fits()) << plan->unplaced->why.begin()->second;
  std::set<MacAddress> macs;
  for (const auto& i : plan->instances)
    for (const auto& m : i.macs) macs.insert(m.mac);
  EXPECT_EQ(macs.size(), 1000u);
}

TEST(FleetPlan, BadRequestsNameTheValueAndTheLimit) {
  std::vector<HostView> hosts{view("a", "1socket-iommu-off"), view("a", "1socket-iommu-off")};
  auto dup = planFleet(hosts, {spec(kSmall), 1, ""});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(dup.error().message, "host 'a' is listed twice in the inventory");
  hosts.pop_back();
  auto big = planFleet(hosts, {spec(kSmall), kMaxFleetCount + 1, ""});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "--count 100001 is outside 0..100000");
  auto fixed = planFleet(
      hosts, {spec("name: w\nmemory: 1G\nhugepages: none\ntaps:\n  - tap: a\n    mac: 52:54:00:00:00:01\n"), 2, ""});
  ASSERT_FALSE(fixed);
  EXPECT_EQ(fixed.error().message, "w: NIC tap0 has the fixed MAC 52:54:00:00:00:01, which 2 instances would share");
  auto none = planFleet({}, {spec(kSmall), 1, ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "the inventory has no hosts");
}

TEST(FleetPlan, InstanceIndexReadsOnlyTheFamily) {
  EXPECT_EQ(instanceIndex("web", "web-12"), 12);
  EXPECT_EQ(instanceIndex("web", "web-0"), 0);
  EXPECT_EQ(instanceIndex("web", "web-012"), 0);
  EXPECT_EQ(instanceIndex("web", "webby-1"), 0);
  EXPECT_EQ(instanceIndex("web", "web-1x"), 0);
  EXPECT_EQ(instanceIndex("web", "web-"), 0);
  EXPECT_EQ(instanceIndex("web", "web-9999999"), 0);
}

}  // namespace
}  // namespace vnf::fleet
