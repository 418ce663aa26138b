#include "doctor/doctor.h"

#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "discovery/discover.h"
#include "tests/unit/golden.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

HostTopology load(const std::string& name) {
  auto hfs = HostFs::open(test::dataDir() / "hosts" / name);
  EXPECT_TRUE(hfs);
  auto h = discoverHost(*hfs);
  EXPECT_TRUE(h) << h.error().message;
  return *h;
}

std::map<std::string, Check> byId(const std::vector<Check>& checks) {
  std::map<std::string, Check> out;
  for (const auto& c : checks) out[c.id] = c;
  return out;
}

class DoctorGolden : public testing::TestWithParam<const char*> {};

TEST_P(DoctorGolden, VerdictsMatchGolden) {
  auto checks = runDoctor(load(GetParam()), DoctorInputs{});
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& c : checks) {
    j.push_back({{"id", c.id}, {"verdict", verdictName(c.verdict)}, {"detail", c.detail}, {"fix", c.fix}});
  }
  test::expectGolden(std::string("doctor/") + GetParam() + ".json", j.dump(2) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Trees, DoctorGolden,
                         testing::Values("1node-tcg-vm", "2socket-ht-x710-node1", "amd-epyc-2socket-nps2",
                                         "1socket-iommu-off", "1socket-isolcpus-rt", "2socket-x710-firmware-quirks"));

// A kernel command line that could not be read is unknown, not "intel_iommu not set".
TEST(Doctor, UnreadableCmdlineIsReportedAsSuch) {
  auto c = byId(runDoctor(load("2socket-x710-firmware-quirks"), DoctorInputs{}));
  EXPECT_EQ(c["iommu.cmdline"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["iommu.cmdline"].detail,
            "could not read the kernel command line (/proc/cmdline does not exist), so intel_iommu/amd_iommu and "
            "iommu=pt are unknown");
  EXPECT_EQ(c["iommu.cmdline"].fix,
            "make /proc/cmdline readable (mount proc, or run doctor as root) and run it again; for a --host-root "
            "tree, capture the host again with 'vnfctl snapshot'");
}

// This CI-class machine: one node, no IOMMU, no SR-IOV, nested /dev/kvm. Not all green.
TEST(Doctor, SingleNodeVmIsJudgedTruthfully) {
  auto c = byId(runDoctor(load("1node-tcg-vm"), DoctorInputs{}));
  EXPECT_EQ(c["cpu.virt"].verdict, Verdict::kFail);
  EXPECT_EQ(c["kvm.device"].verdict, Verdict::kWarn);
  EXPECT_NE(c["kvm.device"].detail.find("domain type 'qemu' (TCG)"), std::string::npos);
  EXPECT_EQ(c["iommu.firmware"].verdict, Verdict::kFail);
  EXPECT_EQ(c["iommu.groups"].verdict, Verdict::kFail);
  EXPECT_EQ(c["vfio.pci"].verdict, Verdict::kFail);
  EXPECT_EQ(c["sriov.nics"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["kernel.version"].verdict, Verdict::kPass);
  EXPECT_EQ(c["libvirt.reachable"].verdict, Verdict::kSkip);
}

TEST(Doctor, TunedServerPassesTheNfvChecks) {
  auto c = byId(runDoctor(load("2socket-ht-x710-node1"), DoctorInputs{}));
  for (const char* id :
       {"kernel.version", "cpu.virt", "kvm.device", "iommu.firmware", "iommu.cmdline", "iommu.groups", "vfio.pci",
        "hugepages.1g", "hugepages.reserved", "hugetlbfs.mounted", "sriov.nics", "numa.nic_local_cores"}) {
    EXPECT_EQ(c[id].verdict, Verdict::kPass) << id << ": " << c[id].detail;
    EXPECT_EQ(c[id].fix, "") << id;
  }
  EXPECT_EQ(c["cpu.isolated"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["cpu.isolated"].fix,
            "add isolcpus=1-7,9-15,17-23,25-31 nohz_full=1-7,9-15,17-23,25-31 rcu_nocbs=1-7,9-15,17-23,25-31 to "
            "GRUB_CMDLINE_LINUX in /etc/default/grub, then run: update-grub && reboot");
}

TEST(Doctor, IommuOffGivesTheExactFix) {
  auto c = byId(runDoctor(load("1socket-iommu-off"), DoctorInputs{}));
  EXPECT_EQ(c["iommu.cmdline"].verdict, Verdict::kFail);
  EXPECT_EQ(c["iommu.cmdline"].fix,
            "add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, then run: update-grub && reboot");
  EXPECT_EQ(c["iommu.groups"].verdict, Verdict::kFail);
  EXPECT_EQ(c["sriov.nics"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["sriov.nics"].fix, "echo 64 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs");
  EXPECT_EQ(c["hugepages.1g"].verdict, Verdict::kPass);
  EXPECT_EQ(doctorExitCode(runDoctor(load("1socket-iommu-off"), DoctorInputs{})), 1);
}

TEST(Doctor, AmdIommuIsOnByDefault) {
  auto c = byId(runDoctor(load("amd-epyc-2socket-nps2"), DoctorInputs{}));
  EXPECT_EQ(c["iommu.cmdline"].verdict, Verdict::kPass) << c["iommu.cmdline"].detail;
  EXPECT_EQ(c["iommu.firmware"].detail, "IOMMU units: ivhd0");
}

TEST(Doctor, IsolatedRealtimeHostPassesThoseChecks) {
  auto checks = runDoctor(load("1socket-isolcpus-rt"), DoctorInputs{});
  auto c = byId(checks);
  EXPECT_EQ(c["cpu.isolated"].verdict, Verdict::kPass);
  EXPECT_EQ(c["cpu.isolated"].detail, "isolated CPUs: 2-7,10-15");
  EXPECT_EQ(c["kernel.rt"].verdict, Verdict::kPass);
}

TEST(Doctor, MtuCheckNamesEachShortNic) {
  DoctorInputs in;
  in.required_mtu = 9000;
  auto c = byId(runDoctor(load("2socket-ht-x710-node1"), in));
  EXPECT_EQ(c["nic.mtu"].verdict, Verdict::kFail);
  EXPECT_EQ(c["nic.mtu"].detail, "the VNFs need MTU 9000, but: eno1 (mtu 1500)");
  EXPECT_EQ(c["nic.mtu"].fix, "ip link set dev eno1 mtu 9000");
  in.required_mtu = 1500;
  EXPECT_EQ(byId(runDoctor(load("2socket-ht-x710-node1"), in))["nic.mtu"].verdict, Verdict::kPass);
}

TEST(Doctor, LibvirtUnreachableFailsWithTheStartCommand) {
  DoctorInputs in;
  in.libvirt = DoctorInputs::Libvirt{"qemu:///system", false, "Failed to connect socket"};
  auto c = byId(runDoctor(load("2socket-ht-x710-node1"), in));
  EXPECT_EQ(c["libvirt.reachable"].verdict, Verdict::kFail);
  EXPECT_NE(c["libvirt.reachable"].fix.find("libvirtd --daemon"), std::string::npos);
}

TEST(Doctor, DiscoveryNotesSurfaceAsAWarning) {
  auto h = load("2socket-ht-x710-node1");
  h.notes.push_back({"/sys/x", "odd"});
  auto c = byId(runDoctor(h, DoctorInputs{}));
  EXPECT_EQ(c["discovery.notes"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["discovery.notes"].detail, "1 host file(s) unreadable or odd, first: /sys/x: odd");
}

}  // namespace
}  // namespace vnf
