#include "discovery/discover.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "discovery/snapshot.h"
#include "discovery/topology_json.h"
#include "tests/unit/golden.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

const char* const kHosts[] = {"1node-tcg-vm",      "2socket-ht-x710-node1", "amd-epyc-2socket-nps2",
                              "1socket-iommu-off", "1socket-isolcpus-rt",   "2socket-x710-firmware-quirks"};

Result<HostTopology> discoverTree(const fs::path& root) {
  auto hfs = HostFs::open(root);
  if (!hfs) return std::unexpected(hfs.error());
  return discoverHost(*hfs);
}

HostTopology mustDiscover(const std::string& name) {
  auto host = discoverTree(test::dataDir() / "hosts" / name);
  EXPECT_TRUE(host) << name << ": " << (host ? "" : host.error().message);
  return host ? *host : HostTopology{};
}

class GoldenHost : public testing::TestWithParam<const char*> {};

TEST_P(GoldenHost, JsonMatchesGolden) {
  auto host = mustDiscover(GetParam());
  test::expectGolden(std::string("host/") + GetParam() + ".json", toJson(host).dump(2) + "\n");
}

TEST_P(GoldenHost, EveryTreeSaysWhatItModels) {
  auto readme = test::readFile(test::dataDir() / "hosts" / GetParam() / "README");
  EXPECT_GT(readme.size(), 40u) << "each fake host tree has a README line saying what it models";
}

INSTANTIATE_TEST_SUITE_P(Trees, GoldenHost, testing::ValuesIn(kHosts));

TEST(Discover, TwoSocketServerWithVfsOnNode1) {
  auto h = mustDiscover("2socket-ht-x710-node1");
  ASSERT_EQ(h.nodes.size(), 2u);
  EXPECT_EQ(formatCpuList(h.nodes[1].cpus), "8-15,24-31");
  ASSERT_NE(h.cpu(9), nullptr);
  EXPECT_EQ(h.cpu(9)->siblings, (std::vector<int>{9, 25}));
  EXPECT_EQ(h.cpu(9)->package, 1);
  EXPECT_EQ(h.nodes[1].distances, (std::vector<int>{21, 10}));
  const auto* pf = h.findNic("ens2f0");
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf, h.findNic("0000:81:00.0"));
  EXPECT_EQ(pf, h.findNic("81:00.0"));
  EXPECT_EQ(pf->numa_node, 1);
  ASSERT_TRUE(pf->sriov);
  EXPECT_EQ(pf->sriov->total_vfs, 64);
  EXPECT_EQ(pf->sriov->num_vfs, 8);
  ASSERT_EQ(pf->sriov->vfs.size(), 8u);
  int vfio = 0;
  for (const auto& ref : pf->sriov->vfs) {
    const auto* vf = h.nic(ref.address);
    ASSERT_NE(vf, nullptr);
    EXPECT_EQ(vf->physfn, pf->address);
    EXPECT_EQ(vf->vf_index, ref.index);
    vfio += vf->driver == "vfio-pci";
    EXPECT_EQ(vf->netdevs.empty(), vf->driver == "vfio-pci");
    EXPECT_GE(vf->iommu_group, 0);
  }
  EXPECT_EQ(vfio, 4);
  EXPECT_TRUE(h.platform.vfio_pci_loaded);
  EXPECT_EQ(h.nodes[1].pool(1048576)->total, 8u);
  EXPECT_EQ(h.nodes[1].pool(1048576)->free, 6u);
  EXPECT_EQ(h.hugetlbfs.size(), 2u);
  EXPECT_EQ(h.hugetlbfs[0].page_size_kib, 1048576u) << "a mount without pagesize= uses the default size";
  EXPECT_EQ(h.hugetlbfs[1].page_size_kib, 2048u);
  EXPECT_TRUE(h.notes.empty()) << h.notes.front().path << ": " << h.notes.front().message;
  // The host bridge and the SATA controller are not network devices.
  EXPECT_EQ(h.nic(*parsePciAddress("0000:00:17.0")), nullptr);
}

TEST(Discover, AmdWithTwoNodesPerSocket) {
  auto h = mustDiscover("amd-epyc-2socket-nps2");
  ASSERT_EQ(h.nodes.size(), 4u);
  EXPECT_EQ(h.nodes[0].distances, (std::vector<int>{10, 12, 32, 32}));
  EXPECT_EQ(h.cpu(4)->package, 0);
  EXPECT_EQ(h.cpu(4)->node, 1);
  EXPECT_EQ(h.cpu(8)->package, 1);
  EXPECT_TRUE(h.cpu_flags.svm);
  EXPECT_EQ(h.findNic("enp193s0f0np0")->numa_node, 3);
}

TEST(Discover, IommuOffHasNoGroups) {
  auto h = mustDiscover("1socket-iommu-off");
  EXPECT_EQ(h.platform.iommu_groups, 0);
  EXPECT_TRUE(h.platform.iommu_units.empty());
  EXPECT_FALSE(h.platform.vfio_pci_available);
  EXPECT_EQ(h.findNic("ens1f0")->iommu_group, -1);
}

TEST(Discover, IsolatedCpusAndRealtimeKernel) {
  auto h = mustDiscover("1socket-isolcpus-rt");
  EXPECT_EQ(formatCpuList(h.isolatedCpus()), "2-7,10-15");
  EXPECT_TRUE(h.cpu(3)->nohz_full);
  EXPECT_FALSE(h.cpu(1)->isolated);
  EXPECT_TRUE(h.kernel.preempt_rt);
  EXPECT_EQ(h.kernel.param("isolcpus"), "managed_irq,domain,2-7,10-15");
}

TEST(Discover, LiveHostSucceeds) {
  auto h = discoverTree("/");
  ASSERT_TRUE(h) << h.error().message;
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::size_t count = 0;
  for (const auto& c : h->cpus) count += c.online;
  EXPECT_EQ(static_cast<long>(count), online);
  EXPECT_GE(h->nodes.size(), 1u);
  EXPECT_FALSE(h->kernel.release.empty());
  for (const auto& c : h->cpus) {
    if (c.online) {
      EXPECT_GE(c.node, 0) << "cpu " << c.id << " has no node";
    }
  }
}

// What discovery read, written as a snapshot and discovered again, gives the same topology.
TEST(Snapshot, LiveHostRoundTrips) {
  auto hfs = HostFs::open("/");
  ASSERT_TRUE(hfs);
  hfs->startRecording();
  auto live = discoverHost(*hfs);
  ASSERT_TRUE(live) << live.error().message;
  auto dir = test::makeTempDir("snap");
  auto out = dir / "host";
  auto stats = writeSnapshot(*hfs->accessLog(), out, "test");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GT(stats->files, 5u);
  auto again = discoverTree(out);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(toJson(*live).dump(2), toJson(*again).dump(2));
  fs::remove_all(dir);
}

TEST(Snapshot, FakeTreeRoundTripsWithLinks) {
  auto hfs = HostFs::open(test::dataDir() / "hosts" / "2socket-ht-x710-node1");
  ASSERT_TRUE(hfs);
  hfs->startRecording();
  auto first = discoverHost(*hfs);
  ASSERT_TRUE(first);
  auto dir = test::makeTempDir("snap");
  ASSERT_TRUE(writeSnapshot(*hfs->accessLog(), dir / "copy", "test"));
  EXPECT_TRUE(fs::is_symlink(dir / "copy/sys/bus/pci/devices/0000:81:02.0"));
  auto again = discoverTree(dir / "copy");
  ASSERT_TRUE(again);
  EXPECT_EQ(toJson(*first).dump(2), toJson(*again).dump(2));
  fs::remove_all(dir);
}

TEST(Snapshot, RefusesAnExistingTarget) {
  auto dir = test::makeTempDir("snap");
  test::writeFile(dir / "keep", "mine");
  AccessLog log;
  log.files["/proc/cmdline"] = "x";
  auto stats = writeSnapshot(log, dir, "test");
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().message, "snapshot target " + dir.string() + " already exists");
  EXPECT_EQ(test::readFile(dir / "keep"), "mine");
  EXPECT_FALSE(fs::exists(dir / "proc"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vnf
