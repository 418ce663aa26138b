// The manifest on the guest's kernel command line: data-port MTUs and the forwarder mode.
#include "domain/manifest.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace vnf {
namespace {

using test::addVf;
using test::dedicatedPlacement;
using test::dedicatedSpec;
using test::mac;
using test::make;
using test::tap;

const std::vector<MacAddress> kTwoPorts{mac("52:54:00:00:00:01"), mac("52:54:00:00:00:02")};

// The command line from vnf.ports on, without the CPU and hugepage parts that do not concern these tests.
std::string portPart(const std::string& cmdline) {
  const auto begin = cmdline.find(" vnf.ports=");
  const auto end = cmdline.find(" vnf.local_cpus=");
  if (begin == std::string::npos || end == std::string::npos) return "";
  return cmdline.substr(begin + 1, end - begin - 1);
}

TEST(Manifest, MtuPerDataPortVfsInSpecOrderThenTaps1500WhereTheSpecGivesNone) {
  VnfSpec spec = dedicatedSpec();
  Placement placement = dedicatedPlacement();
  addVf(spec, placement, make<NicSpec>([](auto& n) { n.mtu = 9000; }), "0000:3b:00.0", "0000:3b:02.0", 0, "iavf");
  addVf(spec, placement, make<NicSpec>([](auto& n) {
          n.hostdev = true;
          n.mtu = 4000;
        }),
        "0000:3b:00.0", "0000:3b:02.1", 1, "vfio-pci");  // plain <hostdev>: not a data port the guest is told about
  addVf(spec, placement, NicSpec{}, "0000:3b:00.1", "0000:3b:0a.0", 0, "iavf");
  spec.tap_nics = {tap("vnftap0", std::nullopt, 9216), tap("vnftap1")};
  spec.guest.forwarder_mode = "macswap";
  const std::vector<MacAddress> ports{mac("52:54:00:00:00:01"), mac("52:54:00:00:00:02"), mac("52:54:00:00:00:03"),
                                      mac("52:54:00:00:00:04")};
  EXPECT_EQ((std::vector<int>{9000, 1500, 9216, 1500}), dataPortMtus(spec));
  EXPECT_EQ(
      "vnf.ports=52:54:00:00:00:01,52:54:00:00:00:02,52:54:00:00:00:03,52:54:00:00:00:04 "
      "vnf.mtu=9000,1500,9216,1500 vnf.mode=macswap",
      portPart(manifestCmdline(spec, placement, HostTopology{}, ports)));
}

TEST(Manifest, NoForwarderModeIsIoWithoutPeersAndMacWithThem) {
  VnfSpec spec = dedicatedSpec();
  spec.tap_nics = {tap("vnftap0"), tap("vnftap1", std::nullopt, 9000)};
  spec.guest.forwarder_mode = "";
  EXPECT_EQ("vnf.ports=52:54:00:00:00:01,52:54:00:00:00:02 vnf.mtu=1500,9000 vnf.mode=io",
            portPart(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, kTwoPorts)));

  spec.guest.peer_macs = {mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0b")};
  EXPECT_EQ(
      "vnf.ports=52:54:00:00:00:01,52:54:00:00:00:02 vnf.mtu=1500,9000 vnf.mode=mac "
      "vnf.peers=02:00:00:00:00:0a,02:00:00:00:00:0b",
      portPart(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, kTwoPorts)));
}

TEST(Manifest, AnExplicitModeIsKept) {
  VnfSpec spec = dedicatedSpec();
  spec.tap_nics = {tap("vnftap0"), tap("vnftap1")};
  spec.guest.forwarder_mode = "l2fwd";
  EXPECT_EQ("vnf.ports=52:54:00:00:00:01,52:54:00:00:00:02 vnf.mtu=1500,1500 vnf.mode=l2fwd",
            portPart(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, kTwoPorts)));
}

TEST(Manifest, NoDataPortsNoPortKeys) {
  const std::string cmdline = manifestCmdline(dedicatedSpec(), dedicatedPlacement(), HostTopology{}, {});
  EXPECT_EQ("console=ttyS0 quiet vnf.name=fw vnf.local_cpus=0-3 vnf.hugepages=4", cmdline);
}

// vnf-fwd's pool for the data ports (guest/fwd/ports.cc: 1024 RX + 1024 TX descriptors, 2 bursts
// and 2 caches of 512 per port, times 1.5, at least 8192 mbufs) plus 4 pages for the EAL. The
// demo's shape (two 1500-byte taps) boots with 15; it failed with 11 and booted with 13.
TEST(Manifest, GuestHugepagesAreWhatTheForwarderNeedsForItsPortsAndMtus) {
  VnfSpec spec = dedicatedSpec();
  spec.memory_mib = 512;
  EXPECT_EQ(guestHugepages(spec), 4u);  // no data ports: the EAL's own
  spec.tap_nics = {tap("vnftap0")};
  EXPECT_EQ(guestHugepages(spec), 14u);  // 8192 mbufs of 2176 + 192 bytes: 19.4 MB = 10 pages
  spec.tap_nics = {tap("vnftap0"), tap("vnftap1")};
  EXPECT_EQ(guestHugepages(spec), 15u);  // 9408 mbufs: 22.3 MB = 11 pages
  spec.guest.rx_descriptors = 4096;      // 2 x (4096 + 1024 + 64 + 1024) x 1.5 = 18624 mbufs: 44 MB
  EXPECT_EQ(guestHugepages(spec), 26u);
  spec.guest.rx_descriptors = 64;  // below the 8192-mbuf floor
  spec.guest.tx_descriptors = 64;
  EXPECT_EQ(guestHugepages(spec), 14u);
  spec.guest.rx_descriptors.reset();
  spec.guest.tx_descriptors.reset();
  spec.tap_nics[1].mtu = 9000;  // every mbuf holds a 9000-byte frame: 88 MB
  EXPECT_EQ(guestHugepages(spec), 46u);
  spec.memory_mib = 128;  // never more than half the guest's memory
  EXPECT_EQ(guestHugepages(spec), 32u);
  EXPECT_NE(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, kTwoPorts).find(" vnf.hugepages=32"),
            std::string::npos);
}

TEST(Manifest, TheKernelIsQuiet) {
  VnfSpec spec = dedicatedSpec();
  const std::string cmdline = manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, {});
  EXPECT_TRUE(cmdline.starts_with("console=ttyS0 quiet ")) << cmdline;
}

TEST(Manifest, ForwarderDescriptorsReachTheCommandLineOnlyWhenSetAndOnlyWithDataPorts) {
  VnfSpec spec = dedicatedSpec();
  spec.tap_nics = {tap("vnftap0"), tap("vnftap1")};
  const std::vector<MacAddress> ports{*parseMac("52:54:00:00:00:01"), *parseMac("52:54:00:00:00:02")};
  const std::string plain = manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, ports);
  EXPECT_EQ(plain.find("vnf.rxd"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("vnf.txd"), std::string::npos) << plain;
  spec.guest.rx_descriptors = 64;
  spec.guest.tx_descriptors = 2048;
  EXPECT_EQ(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, ports),
            "console=ttyS0 quiet vnf.name=fw vnf.ports=52:54:00:00:00:01,52:54:00:00:00:02 vnf.mtu=1500,1500 "
            "vnf.mode=io vnf.rxd=64 vnf.txd=2048 vnf.local_cpus=0-3 vnf.hugepages=15");
  spec.guest.tx_descriptors.reset();
  EXPECT_NE(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, ports).find("vnf.mode=io vnf.rxd=64 vnf.local"),
            std::string::npos);
  // No data port, no forwarder: nothing to size.
  spec.tap_nics.clear();
  EXPECT_EQ(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, {}),
            "console=ttyS0 quiet vnf.name=fw vnf.local_cpus=0-3 vnf.hugepages=4");
}

TEST(Manifest, FastBootAddsTheKernelOptionsThatWeakenHardeningAndNothingElseDoes) {
  VnfSpec spec = dedicatedSpec();
  const std::string plain = manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, {});
  for (const char* option : {"init_on_alloc", "cryptomgr", "mitigations"})
    EXPECT_EQ(plain.find(option), std::string::npos) << plain;
  spec.guest.fast_boot = true;
  EXPECT_EQ(manifestCmdline(spec, dedicatedPlacement(), HostTopology{}, {}),
            "console=ttyS0 quiet vnf.name=fw vnf.local_cpus=0-3 vnf.hugepages=4 init_on_alloc=0 cryptomgr.notests "
            "mitigations=off");
}

}  // namespace
}  // namespace vnf
