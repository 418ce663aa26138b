// Discovery on damaged host trees: a clear error naming the file and what was expected, or a
// documented fallback with a note; never a crash.
#include <filesystem>

#include <gtest/gtest.h>

#include "discovery/discover.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

class Damaged : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::makeTempDir("damaged");
    root_ = dir_ / "host";
    fs::copy(test::dataDir() / "hosts" / "2socket-ht-x710-node1", root_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void put(const std::string& path, const std::string& text) { test::writeFile(root_ / path, text); }
  Result<HostTopology> discover() {
    auto hfs = HostFs::open(root_);
    if (!hfs) return std::unexpected(hfs.error());
    return discoverHost(*hfs);
  }
  static std::string notesOf(const HostTopology& h) {
    std::string out;
    for (const auto& n : h.notes) out += n.path + ": " + n.message + "\n";
    return out;
  }
  fs::path dir_, root_;
};

TEST_F(Damaged, GarbageNumaNodeFallsBackToUnknownWithANote) {
  put("sys/devices/pci0000:81/0000:81:00.0/numa_node", "abc\n");
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->findNic("ens2f0")->numa_node, -1);
  EXPECT_EQ(notesOf(*h),
            "/sys/bus/pci/devices/0000:81:00.0/numa_node: expected an integer >= -1, found 'abc'; treated as -1\n");
}

// Wrapped and out-of-range values read the same for every command: one limit, in discovery.
struct OddValue {
  const char* file;
  const char* text;
  const char* note;
};

class OddValues : public Damaged, public testing::WithParamInterface<OddValue> {};

TEST_P(OddValues, AreNotedAndReadAsUnknown) {
  put(GetParam().file, GetParam().text);
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(notesOf(*h), GetParam().note);
}

INSTANTIATE_TEST_SUITE_P(
    Table, OddValues,
    testing::Values(
        OddValue{"sys/devices/pci0000:81/0000:81:00.0/numa_node", "999999\n",
                 "/sys/bus/pci/devices/0000:81:00.0/numa_node: NUMA node 999999 is not a node of this host (nodes "
                 "0,1); treated as unknown (-1)\n"},
        OddValue{"sys/devices/pci0000:81/0000:81:00.0/numa_node", "4294967295\n",
                 "/sys/bus/pci/devices/0000:81:00.0/numa_node: NUMA node 4294967295 is not a node of this host "
                 "(nodes 0,1); treated as unknown (-1)\n"},
        OddValue{"sys/devices/pci0000:81/0000:81:00.0/sriov_numvfs", "4294967295\n",
                 "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs: says 4294967295 VFs, more than sriov_totalvfs 64; "
                 "treated as 8 (the virtfn links found)\n"},
        OddValue{"sys/devices/pci0000:81/0000:81:00.0/sriov_totalvfs", "4294967295\n",
                 "/sys/bus/pci/devices/0000:81:00.0/sriov_totalvfs: expected an integer from 0 to 65535, found "
                 "'4294967295'; treated as -1\n"},
        OddValue{"sys/devices/pci0000:81/0000:81:00.0/net/ens2f0/mtu", "4294967295\n",
                 "/sys/bus/pci/devices/0000:81:00.0/net/ens2f0/mtu: expected an integer from 0 to 2147483647, found "
                 "'4294967295'; treated as -1\n"}));

TEST_F(Damaged, WrappedNumaNodeAndNumVfsReadAsUnknownAndTheLinks) {
  put("sys/devices/pci0000:81/0000:81:00.0/numa_node", "4294967295\n");
  put("sys/devices/pci0000:81/0000:81:00.0/sriov_numvfs", "4294967295\n");
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  const auto* pf = h->findNic("ens2f0");
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf->numa_node, -1);
  ASSERT_TRUE(pf->sriov);
  EXPECT_EQ(pf->sriov->num_vfs, 8);
  EXPECT_EQ(pf->sriov->vfs.size(), 8u);
}

// virtfnN must lead to a VF of this PF: not the PF itself, and the target's physfn points back.
struct BadVirtfn {
  const char* target;
  const char* note;
};

class BadVirtfns : public Damaged, public testing::WithParamInterface<BadVirtfn> {};

TEST_P(BadVirtfns, AreRejectedAndNotOffered) {
  auto link = root_ / "sys/devices/pci0000:81/0000:81:00.0/virtfn1";
  fs::remove(link);
  fs::create_symlink(GetParam().target, link);
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(notesOf(*h), GetParam().note);
  const auto* pf = h->findNic("ens2f0");
  ASSERT_NE(pf, nullptr);
  ASSERT_TRUE(pf->sriov);
  std::vector<int> indexes;
  for (const auto& vf : pf->sriov->vfs) indexes.push_back(vf.index);
  EXPECT_EQ(indexes, (std::vector<int>{0, 2, 3, 4, 5, 6, 7})) << "the bogus VF 1 is not offered to the planner";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadVirtfns,
    testing::Values(
        BadVirtfn{"../0000:81:00.0",
                  "/sys/bus/pci/devices/0000:81:00.0/virtfn1: points at 0000:81:00.0, the PF itself, not one of its "
                  "VFs; ignored\n"
                  "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs: says 8 VFs (of 64) but 7 virtfn links lead to its "
                  "VFs; those are used\n"},
        BadVirtfn{"../0000:81:00.1",
                  "/sys/bus/pci/devices/0000:81:00.0/virtfn1: points at 0000:81:00.1, whose physfn link is missing; "
                  "not a VF of 0000:81:00.0, ignored\n"
                  "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs: says 8 VFs (of 64) but 7 virtfn links lead to its "
                  "VFs; those are used\n"},
        BadVirtfn{"../../pci0000:18/0000:18:00.0",
                  "/sys/bus/pci/devices/0000:81:00.0/virtfn1: points at 0000:18:00.0, whose physfn link is missing; "
                  "not a VF of 0000:81:00.0, ignored\n"
                  "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs: says 8 VFs (of 64) but 7 virtfn links lead to its "
                  "VFs; those are used\n"}));

TEST_F(Damaged, VfWhosePhysfnPointsElsewhereIsRejected) {
  auto physfn = root_ / "sys/devices/pci0000:81/0000:81:02.1/physfn";
  fs::remove(physfn);
  fs::create_symlink("../0000:81:00.1", physfn);
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(notesOf(*h),
            "/sys/bus/pci/devices/0000:81:00.0/virtfn1: points at 0000:81:02.1, whose physfn points at "
            "'/sys/devices/pci0000:81/0000:81:00.1'; not a VF of 0000:81:00.0, ignored\n"
            "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs: says 8 VFs (of 64) but 7 virtfn links lead to its VFs; "
            "those are used\n");
}

TEST_F(Damaged, UnreadableCmdlineIsUnknownNotEmpty) {
  fs::remove(root_ / "proc/cmdline");
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->kernel.cmdline_error, "/proc/cmdline does not exist");
  EXPECT_EQ(notesOf(*h), "/proc/cmdline: /proc/cmdline does not exist; kernel parameters treated as unknown\n");
}

TEST_F(Damaged, TruncatedCpuListIsAnError) {
  put("sys/devices/system/node/node1/cpulist", "0-\n");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadContent);
  EXPECT_EQ(h.error().message,
            "/sys/devices/system/node/node1/cpulist: expected a CPU list such as '0-3,8-11', found '0-'");
  EXPECT_NE(h.error().fix.find("vnfctl snapshot"), std::string::npos);
}

TEST_F(Damaged, NegativeHugepageCountFallsBackToZero) {
  put("sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages", "-5\n");
  auto h = discover();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->nodes[1].pool(1048576)->total, 0u);
  EXPECT_EQ(notesOf(*h),
            "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages: expected an "
            "integer >= 0, found '-5'; treated as 0\n");
}

TEST_F(Damaged, MissingOnlineCpuListIsAnError) {
  fs::remove(root_ / "sys/devices/system/cpu/online");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kNotFound);
  EXPECT_EQ(h.error().message, "/sys/devices/system/cpu/online does not exist");
}

TEST_F(Damaged, MissingCpuDirectoryIsNotALinuxTree) {
  fs::remove_all(root_ / "sys/devices/system/cpu");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("/sys/devices/system/cpu does not exist, so this is not a Linux host tree"),
            std::string::npos);
}

TEST_F(Damaged, GarbageCoreIdIsAnError) {
  put("sys/devices/system/cpu/cpu3/topology/core_id", "x\n");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, "/sys/devices/system/cpu/cpu3/topology/core_id: expected an integer >= 0, found 'x'");
}

TEST_F(Damaged, WrappedCoreIdIsAnErrorNotMinusOne) {
  put("sys/devices/system/cpu/cpu3/topology/core_id", "4294967295\n");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message,
            "/sys/devices/system/cpu/cpu3/topology/core_id: expected an integer from 0 to 2147483647, found "
            "'4294967295'");
}

TEST_F(Damaged, SiblingListWithoutTheCpuItselfIsAnError) {
  put("sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "4,20\n");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message,
            "/sys/devices/system/cpu/cpu3/topology/thread_siblings_list: expected a CPU list "
            "that includes CPU 3 itself, found '4,20'");
}

TEST_F(Damaged, NodeListingAnUnknownCpuIsAnError) {
  put("sys/devices/system/node/node1/cpulist", "8-15,24-40\n");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message,
            "/sys/devices/system/node/node1/cpulist lists CPU 32 which "
            "/sys/devices/system/cpu/cpu32 does not have");
}

TEST_F(Damaged, SymlinkLoopInPciIsANoteNotACrash) {
  auto dev = root_ / "sys/bus/pci/devices/0000:81:00.1";
  fs::remove(dev);
  fs::create_symlink("0000:81:00.1", dev);  // points at itself
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->findNic("ens2f1"), nullptr);
  EXPECT_NE(
      notesOf(*h).find("/sys/bus/pci/devices/0000:81:00.1/class: cannot read "
                       "/sys/bus/pci/devices/0000:81:00.1/class: too many levels of symbolic links; device ignored"),
      std::string::npos)
      << notesOf(*h);
}

TEST_F(Damaged, BinaryGarbageIsShownSafely) {
  put("sys/devices/pci0000:81/0000:81:00.0/sriov_numvfs", std::string("\x01\xff\x7f\n", 4));
  auto h = discover();
  ASSERT_TRUE(h);
  EXPECT_NE(notesOf(*h).find(std::string("found '") + std::string(3, '?') + "'"), std::string::npos) << notesOf(*h);
}

TEST_F(Damaged, DirectoryWhereAFileBelongs) {
  fs::remove(root_ / "sys/devices/system/cpu/online");
  fs::create_directory(root_ / "sys/devices/system/cpu/online");
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, "/sys/devices/system/cpu/online is a directory, expected a file");
}

TEST_F(Damaged, NoNumaDirectoryFallsBackToOneNode) {
  fs::remove_all(root_ / "sys/devices/system/node");
  auto h = discover();
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->nodes.size(), 1u);
  EXPECT_EQ(h->nodes[0].cpus.size(), 32u);
  EXPECT_EQ(h->cpu(31)->node, 0);
  EXPECT_NE(notesOf(*h).find("kernel without NUMA support"), std::string::npos);
}

TEST_F(Damaged, EmptyFilesEverywhereNeverCrash) {
  // Every regular file emptied: discovery must end in an error or a topology, not a crash.
  for (auto& e : fs::recursive_directory_iterator(root_)) {
    if (e.is_regular_file() && !e.is_symlink()) test::writeFile(e.path(), "");
  }
  auto h = discover();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, "/sys/devices/system/cpu/online: expected at least one online CPU, found ''");
}

}  // namespace
}  // namespace vnf
