#include "planning/plan.h"

#include <gtest/gtest.h>

#include "discovery/discover.h"
#include "spec/load.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

HostTopology host(const std::string& name) {
  auto fs = HostFs::open(test::dataDir() / "hosts" / name);
  auto h = discoverHost(*fs);
  EXPECT_TRUE(h) << h.error().message;
  return *h;
}

VnfSpec spec(const std::string& yaml) {
  auto s = parseSpecYaml(yaml, "test.yaml");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

std::vector<VnfSpec> instances(const std::string& yaml) { return expandCount(spec(yaml)); }

const char* kFw = "name: fw\nvcpus: 4\nmemory: 4G\nnics:\n  - pf: ens2f0\n";

TEST(Plan, NicOnNode1OfTwoPutsEverythingOnNode1) {
  auto h = host("2socket-ht-x710-node1");
  auto plan = planAll(h, {}, instances(kFw));
  ASSERT_TRUE(plan) << plan.error().message;
  const auto& p = plan->front();
  EXPECT_EQ(p.node, 1);
  EXPECT_EQ(p.vcpu_pins, (std::vector<int>{9, 25, 10, 26})) << "whole cores, SMT pairs, after housekeeping core 8";
  EXPECT_EQ(p.emulator_cpus, (std::vector<int>{8, 24})) << "emulator on node 1's housekeeping core";
  EXPECT_EQ(p.guest_cores, 2);
  EXPECT_EQ(p.guest_threads, 2);
  EXPECT_EQ(p.hugepages, 4u);
  ASSERT_EQ(p.vfs.size(), 1u);
  EXPECT_EQ(p.vfs[0].vf.str(), "0000:81:02.0");
  EXPECT_EQ(p.vfs[0].vf_driver, "vfio-pci") << "prepared VFs first";
  EXPECT_EQ(p.reasons.front(), "nic0 0000:81:00.0 (ens2f0) is local to node 1");
}

TEST(Plan, SameInputSamePlacement) {
  auto h = host("2socket-ht-x710-node1");
  auto a = planAll(h, {}, instances("name: fw\nvcpus: 3\nmemory: 2G\ncount: 3\nnics:\n  - pf: ens2f0\n"));
  auto b = planAll(h, {}, instances("name: fw\nvcpus: 3\nmemory: 2G\ncount: 3\nnics:\n  - pf: ens2f0\n"));
  ASSERT_TRUE(a && b);
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].vcpu_pins, (*b)[i].vcpu_pins);
    EXPECT_EQ((*a)[i].vfs[0].vf, (*b)[i].vfs[0].vf);
  }
  // An odd vCPU count leaves the last core's other thread unused, never shared with the next VNF.
  EXPECT_EQ((*a)[0].vcpu_pins, (std::vector<int>{9, 25, 10}));
  EXPECT_EQ((*a)[1].vcpu_pins, (std::vector<int>{11, 27, 12}));
  EXPECT_EQ((*a)[0].guest_threads, 1);
}

TEST(Plan, SmtIsolateUsesOneThreadPerCoreAndExplainsAFullNode) {
  auto h = host("2socket-ht-x710-node1");
  auto ok = planAll(h, {}, instances("name: fw\nvcpus: 7\nmemory: 2G\nsmt_policy: isolate\nnics:\n  - pf: ens2f0\n"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->front().vcpu_pins, (std::vector<int>{9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(ok->front().guest_threads, 1);
  auto full = planAll(h, {}, instances("name: fw\nvcpus: 8\nmemory: 2G\nsmt_policy: isolate\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("node 1: 7 free cores for dedicated vCPUs (housekeeping CPUs 8,24 excluded), the "
                                      "VNF needs 8 (vcpus 8, smt_policy isolate); smt_policy prefer would use both "
                                      "threads of each core"),
            std::string::npos)
      << full.error().message;
  EXPECT_NE(full.error().message.find("node 0: NIC 0000:81:00.0 (ens2f0) is on node 1 and numa_affinity is required"),
            std::string::npos)
      << full.error().message;
}

TEST(Plan, SmtRequireNeedsSiblings) {
  auto h = host("2socket-ht-x710-node1");
  for (auto& c : h.cpus) c.siblings = {c.id};  // the same host with SMT off
  auto r = planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 2G\nsmt_policy: require\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("this node has no SMT siblings: use smt_policy prefer"), std::string::npos)
      << r.error().message;
}

TEST(Plan, EmulatorShareFollowsTheVcpus) {
  auto h = host("2socket-ht-x710-node1");
  auto r =
      planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 2G\nemulator_threads: share\nnics:\n  - pf: ens2f0\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->front().emulator_cpus, (std::vector<int>{9, 25}));
}

TEST(Plan, IsolatedCpusArePreferredAndTheRestIsHousekeeping) {
  auto h = host("1socket-isolcpus-rt");
  auto r = planAll(h, {}, instances("name: fw\nvcpus: 4\nmemory: 4G\nnics:\n  - pf: ens5f0\n"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->front().vcpu_pins, (std::vector<int>{2, 10, 3, 11}));
  EXPECT_EQ(r->front().emulator_cpus, (std::vector<int>{0, 1, 8, 9}));
}

TEST(Plan, TwoNicsOnDifferentNodesRequiredVsPreferred) {
  auto h = host("2socket-ht-x710-node1");
  // Move port 1 of the X710 (and a VF for it) to node 0.
  PciNic* pf1 = nullptr;
  for (auto& n : h.nics) {
    if (n.address.str() == "0000:81:00.1") pf1 = &n;
  }
  ASSERT_NE(pf1, nullptr);
  pf1->numa_node = 0;
  PciNic vf = *h.nic(*parsePciAddress("0000:81:02.4"));
  vf.address = *parsePciAddress("0000:81:0a.0");
  vf.physfn = pf1->address;
  vf.numa_node = 0;
  vf.vf_index = 0;
  pf1->sriov->vfs.push_back({0, vf.address});
  pf1->sriov->num_vfs = 1;
  h.nics.push_back(vf);
  std::sort(h.nics.begin(), h.nics.end(), [](const PciNic& a, const PciNic& b) { return a.address < b.address; });
  const char* two = "name: fw\nvcpus: 2\nmemory: 2G\nnics:\n  - pf: ens2f0\n  - pf: ens2f1\n";
  auto required = planAll(h, {}, instances(two));
  ASSERT_FALSE(required);
  EXPECT_NE(
      required.error().message.find("node 1: NIC 0000:81:00.1 (ens2f1) is on node 0 and numa_affinity is required"),
      std::string::npos)
      << required.error().message;
  EXPECT_NE(
      required.error().message.find("node 0: NIC 0000:81:00.0 (ens2f0) is on node 1 and numa_affinity is required"),
      std::string::npos);
  auto preferred = planAll(h, {}, instances(std::string(two) + "numa_affinity: preferred\n"));
  ASSERT_TRUE(preferred) << preferred.error().message;
  EXPECT_EQ(preferred->front().node, 0) << "tie on local NICs: more free cores... then the lowest node";
  EXPECT_NE(std::find(preferred->front().reasons.begin(), preferred->front().reasons.end(),
                      "nic0 0000:81:00.0 (ens2f0) is on node 1, remote (numa_affinity preferred: accepted)"),
            preferred->front().reasons.end());
}

TEST(Plan, HugepagesShortOnTheLocalNodeSaysHowToReserve) {
  auto h = host("2socket-ht-x710-node1");
  auto r = planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 8G\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message.find("node 1: 6 free 1G hugepages, the VNF needs 8 (8192 MiB): reserve more with: echo 10 > "
                             "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"),
      std::string::npos)
      << r.error().message;
}

TEST(Plan, CountFillsANodeExactlyAndOneMoreFails) {
  auto h = host("2socket-ht-x710-node1");
  const char* seven = "name: fw\nvcpus: 2\nmemory: 128M\nhugepages: 2M\ncount: 7\nnics:\n  - pf: ens2f0\n";
  auto full = planAll(h, {}, instances(seven));
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_EQ(full->size(), 7u);
  EXPECT_EQ(full->back().name, "fw-7");
  EXPECT_EQ(full->back().vcpu_pins, (std::vector<int>{15, 31}));
  auto over =
      planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 128M\nhugepages: 2M\ncount: 8\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("cannot place fw-8"), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find("node 1: 0 free cores for dedicated vCPUs"), std::string::npos)
      << over.error().message;
}

TEST(Plan, ExistingAllocationsAreRespected) {
  auto h = host("2socket-ht-x710-node1");
  Allocations used;
  used.cpus = {9};  // core [9,25] is taken by another VNF
  used.vfs = {*parsePciAddress("0000:81:02.0")};
  used.hugepages[{1, 1048576}] = 2;  // promised to a defined VNF
  auto r = planAll(h, used, instances(kFw));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->front().vcpu_pins, (std::vector<int>{10, 26, 11, 27}));
  EXPECT_EQ(r->front().vfs[0].vf.str(), "0000:81:02.1");
  auto more = planAll(h, used, instances("name: fw\nvcpus: 2\nmemory: 5G\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(more);
  EXPECT_NE(more.error().message.find("4 free 1G hugepages (2 promised to defined VNFs), the VNF needs 5"),
            std::string::npos)
      << more.error().message;
}

// 1socket-iommu-off: one node, MemTotal 64 GiB, 1024 x 2M hugepages reserved (2 GiB).
const char* kBig = "name: big\nvcpus: 2\nmemory: 60G\nhugepages: none\ncount: 10\n";

TEST(PlanMemory, TenSixtyGibVnfsOnOneSixtyFourGibNodeExactlyOneFits) {
  auto h = host("1socket-iommu-off");
  auto r = planAll(h, {}, instances(kBig));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kDoesNotFit);
  EXPECT_EQ(r.error().message,
            "cannot place big-2 (2 vCPUs, 61440 MiB): no NUMA node fits\n"
            "  node 0: 1024 MiB of normal memory free for VNFs (65536 MiB total - 2048 MiB reserved as hugepages - "
            "1024 MiB host reserve - 61440 MiB held by other VMs), the VNF asks 61440 MiB: remove a VM here, lower "
            "memory, use hugepages, or return reserved hugepages (lower nr_hugepages under "
            "/sys/devices/system/node/node0/hugepages/)");
  EXPECT_EQ(r.error().fix, "act on one of the node lines above; nothing was changed");
  auto one = planAll(h, {}, instances("name: big\nvcpus: 2\nmemory: 60G\nhugepages: none\n"));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(
      one->front().reasons.back(),
      "memory: 61440 MiB of node 0's normal pages (no hugepages asked; 62464 MiB free for VNFs before, 1024 after)");
}

TEST(PlanMemory, HostReserveIsKeptBack) {
  auto h = host("1socket-iommu-off");
  // 64 GiB - 2 GiB of hugepages = 62 GiB: fits only when the host keeps nothing back.
  const auto spec62 = instances("name: vm\nvcpus: 2\nmemory: 62G\nhugepages: none\n");
  auto kept = planAll(h, {}, spec62);
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().message,
            "cannot place vm (2 vCPUs, 63488 MiB): no NUMA node fits\n"
            "  node 0: 62464 MiB of normal memory free for VNFs (65536 MiB total - 2048 MiB reserved as hugepages - "
            "1024 MiB host reserve - 0 MiB held by other VMs), the VNF asks 63488 MiB: remove a VM here, lower "
            "memory, use hugepages, or return reserved hugepages (lower nr_hugepages under "
            "/sys/devices/system/node/node0/hugepages/)");
  Allocations none;
  none.host_reserve_kib = 0;
  auto all = planAll(h, none, spec62);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->front().memory_kib, 63488u * 1024);
}

TEST(PlanMemory, MemoryOthersHoldIsNotOffered) {
  auto h = host("1socket-iommu-off");
  Allocations used;
  used.memory_kib[0] = 8 * 1024 * 1024;    // a VM bound to node 0
  used.memory_kib[-1] = 32 * 1024 * 1024;  // a foreign VM bound to no node: may use node 0 too
  auto r = planAll(h, used, instances("name: vm\nvcpus: 2\nmemory: 22G\nhugepages: none\n"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cannot place vm (2 vCPUs, 22528 MiB): no NUMA node fits\n"
            "  node 0: 21504 MiB of normal memory free for VNFs (65536 MiB total - 2048 MiB reserved as hugepages - "
            "1024 MiB host reserve - 40960 MiB held by other VMs, 32768 MiB of it by VMs bound to no node), the VNF "
            "asks 22528 MiB: remove a VM here, lower memory, use hugepages, or return reserved hugepages (lower "
            "nr_hugepages under /sys/devices/system/node/node0/hugepages/)");
  auto fits = planAll(h, used, instances("name: vm\nvcpus: 2\nmemory: 21G\nhugepages: none\n"));
  ASSERT_TRUE(fits) << fits.error().message;
  // Hugepage VNFs do not draw on normal memory: the same host still places one.
  auto paged = planAll(h, used, instances("name: vm\nvcpus: 2\nmemory: 2G\nhugepages: 2M\n"));
  ASSERT_TRUE(paged) << paged.error().message;
}

// 2socket-x710-firmware-quirks: sriov_numvfs reads 4294967295 and virtfn3 points at the PF itself;
// `plan` sees the 3 real VFs that `vnfctl host` and doctor show, and never the PF as a VF.
TEST(Plan, OddSysfsValuesReadTheSameAsHostShowsThem) {
  auto h = host("2socket-x710-firmware-quirks");
  auto three = planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 1G\ncount: 3\nnics:\n  - pf: ens2f0\n"));
  ASSERT_TRUE(three) << three.error().message;
  EXPECT_EQ((*three)[2].vfs[0].vf.str(), "0000:81:02.2");
  auto four = planAll(h, {}, instances("name: fw\nvcpus: 2\nmemory: 1G\ncount: 4\nnics:\n  - pf: ens2f0\n"));
  ASSERT_FALSE(four);
  EXPECT_EQ(four.error().message,
            "cannot place fw-4:\n  nics[0].pf: 0000:81:00.0 (ens2f0) has no free VF (3 VFs, all in use); create "
            "more (up to 64) with: echo 64 > /sys/bus/pci/devices/0000:81:00.0/sriov_numvfs");
}

struct HostProblem {
  const char* yaml;
  const char* message;
};

class PlanBadInput : public testing::TestWithParam<HostProblem> {};

TEST_P(PlanBadInput, NamesTheProblem) {
  auto h = host("2socket-ht-x710-node1");
  Allocations used;
  if (std::string(GetParam().yaml).find("vf: 0") != std::string::npos) used.vfs = {*parsePciAddress("0000:81:02.0")};
  auto r = planAll(h, used, instances(GetParam().yaml));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(GetParam().message), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlanBadInput,
    testing::Values(
        HostProblem{"name: fw\nvcpus: 33\nmemory: 2G\n", "vcpus: 33 is more than the 32 online CPUs of this host"},
        HostProblem{"name: fw\nmemory: 2G\nnics:\n  - pf: eno1\n",
                    "nics[0].pf: 0000:18:00.0 (eno1) is not SR-IOV capable (driver igb, no sriov_totalvfs)"},
        HostProblem{
            "name: fw\nmemory: 2G\nnics:\n  - pf: ens9\n",
            "nics[0].pf: no NIC 'ens9' on this host; SR-IOV PFs here: 0000:81:00.0, ens2f0, 0000:81:00.1, ens2f1"},
        HostProblem{
            "name: fw\nmemory: 2G\nnics:\n  - pf: ens2f1\n",
            "nics[0].pf: 0000:81:00.1 (ens2f1) has no free VF (0 VFs, all in use: none created yet); create more "
            "(up to 64) with: echo 64 > /sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"},
        HostProblem{"name: fw\nmemory: 2G\nnics:\n  - pf: ens2f0\n    vf: 0\n",
                    "nics[0].vf: VF 0 of 0000:81:00.0 (ens2f0) is already used by another VNF"},
        HostProblem{"name: fw\nmemory: 2G\nnics:\n  - pf: ens2f0\n    vf: 12\n",
                    "nics[0].vf: 0000:81:00.0 (ens2f0) has no VF 12 (it has 8 VFs)"},
        HostProblem{"name: fw\nmemory: 2G\nnics:\n  - pf: 0000:81:02.4\n",
                    "is itself a VF of 0000:81:00.0; name its PF instead"}));

}  // namespace
}  // namespace vnf
