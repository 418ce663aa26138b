// Decisions made before any XML exists: derived MACs and the spec/placement consistency checks.
#include <gtest/gtest.h>

#include "domain/build.h"
#include "tests/unit/domain/fixtures.h"

namespace vnf::test {
namespace {

TEST(DerivedMac, IsStableLocallyAdministeredAndPerNic) {
  const auto a = derivedMac(kUuid, "vf0");
  EXPECT_EQ(a, derivedMac(kUuid, "vf0"));
  EXPECT_EQ(formatMac(a).substr(0, 9), "52:54:00:");
  EXPECT_EQ(a[0] & 0x02, 0x02);  // locally administered
  EXPECT_EQ(a[0] & 0x01, 0x00);  // unicast
  EXPECT_NE(a, derivedMac(kUuid, "vf1"));
  EXPECT_NE(a, derivedMac("00000000-0000-0000-0000-000000000000", "vf0"));
  // Pinned: a change of the derivation would change every existing domain's MACs.
  // Value computed independently: python3 FNV-1a 64 over "<uuid>/mgmt", low 3 bytes.
  EXPECT_EQ(formatMac(derivedMac(kUuid, "mgmt")), "52:54:00:70:21:b1");
}

TEST(DerivedMac, NeverRepeatsAMacTheSpecGaveExplicitly) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  s.tap_nics = {tap("t0"), tap("t1", derivedMac(kUuid, "tap0"))};
  auto d = domain::buildDomain(inputFor(s, p));
  ASSERT_TRUE(d) << d.error().str();
  ASSERT_EQ(d->devices.ethernet_interfaces.size(), 2u);
  EXPECT_NE(d->devices.ethernet_interfaces[0].mac, d->devices.ethernet_interfaces[1].mac);
  EXPECT_EQ(d->devices.ethernet_interfaces[1].mac, derivedMac(kUuid, "tap0"));
}

TEST(BuildDomain, CollectsEveryInconsistencyInOneMessage) {
  auto s = dedicatedSpec();
  s.guest = {};
  s.nics.push_back(make<NicSpec>([](auto& n) { n.pf = "ens2f0"; }));
  auto p = dedicatedPlacement();
  p.vcpu_pins = {2, 3};
  p.guest_cores = 3;
  p.memory_kib = 3 * 1048576 + 2048;
  p.vfs.push_back(make<VfAssignment>([](auto& v) {
    v.nic_index = 4;
    v.pf = pci("0000:81:00.0");
    v.vf = pci("0000:81:10.0");
  }));
  auto in = inputFor(s, p);
  in.uuid = "not-a-uuid";
  auto d = domain::buildDomain(in);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(d.error().message,
            "cannot render the domain of 'fw':\n"
            "  uuid 'not-a-uuid' is not of the form 8-4-4-4-12 hex digits\n"
            "  dedicated policy: the placement pins 2 vCPUs, the spec asks for 4\n"
            "  guest topology 3 cores x 1 threads does not make the 4 vCPUs\n"
            "  memory 3147776 KiB is not a multiple of the 1048576 KiB page size\n"
            "  VF 0000:81:10.0 is assigned to nic 4, but the spec has 1 nics\n"
            "  nic 0 (pf ens2f0) has no VF in the placement\n"
            "  the guest has nothing to boot: give guest.kernel (with guest.initrd) or guest.disk");
  EXPECT_EQ(d.error().fix, "re-run the planner for this spec (vnfctl plan); the placement does not match it");
}

TEST(BuildDomain, SharedPolicyNeedsSharedCpusAndPlacementNeedsANode) {
  auto s = dedicatedSpec();
  s.cpu_policy = CpuPolicy::kShared;
  Placement p = dedicatedPlacement();
  p.node = -1;
  p.vcpu_pins.clear();
  auto d = domain::buildDomain(inputFor(s, p));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("placement node is -1: the placement was not made"), std::string::npos);
  EXPECT_NE(d.error().message.find("shared policy: the placement gives no shared CPUs for the vCPUs"),
            std::string::npos);
}

TEST(BuildDomain, MissingSpecOrPlacementIsAnError) {
  RenderInput in;
  auto d = domain::buildDomain(in);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "renderDomainXml needs both a spec and a placement");
}

TEST(BuildDomain, MemoryFallsBackToTheSpecWhenThePlacementLeftItOut) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  p.memory_kib = 0;
  auto d = domain::buildDomain(inputFor(s, p));
  ASSERT_TRUE(d) << d.error().str();
  EXPECT_EQ(d->memory_kib, 4096u * 1024);
}

TEST(BuildDomain, DiskFormatFollowsTheFileName) {
  EXPECT_EQ(domain::diskFormat("/img/a.qcow2"), "qcow2");
  EXPECT_EQ(domain::diskFormat("/img/a.img"), "raw");
  EXPECT_EQ(domain::diskFormat("/img/a.raw"), "raw");
}

}  // namespace
}  // namespace vnf::test
