// The vnfctl binary as a user runs it: exit codes, messages, and that failures change nothing.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/cli/run_vnfctl.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

using test::vnfctl;

std::string tree(const char* name) { return (test::dataDir() / "hosts" / name).string(); }

TEST(Cli, NonexistentHostRootIsAUsageError) {
  auto r = vnfctl({"--host-root", "/nonexistent/host", "host"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "vnfctl: error: host root '/nonexistent/host' does not exist\n"
                   "  fix: give --host-root a directory made by 'vnfctl snapshot', or omit it to read this host\n");
  EXPECT_EQ(r.out, "");
}

TEST(Cli, HostJsonFollowsTheSchema) {
  auto r = vnfctl({"--host-root", tree("2socket-ht-x710-node1"), "host", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "vnfctl.host/v1");
  EXPECT_EQ(j["nodes"].size(), 2u);
  EXPECT_EQ(j["nics"][1]["address"], "0000:81:00.0");
  EXPECT_EQ(j["nics"][1]["sriov"]["num_vfs"], 8);
}

TEST(Cli, HostMapShowsSmtPairsIsolationAndVfs) {
  auto r = vnfctl({"--host-root", tree("1socket-isolcpus-rt"), "host"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cores: [0,8] [1,9] [2*,10*]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SR-IOV: 2 of 128 VFs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vf0   0000:5e:02.0 vfio-pci"), std::string::npos) << r.out;
}

TEST(Cli, DoctorExitCodes) {
  EXPECT_EQ(vnfctl({"--host-root", tree("1socket-iommu-off"), "doctor"}).code, 1);
  auto r = vnfctl({"--host-root", tree("2socket-ht-x710-node1"), "doctor", "--json"});
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "vnfctl.doctor/v1");
  EXPECT_EQ(j["exit_code"], 0);
  bool skipped_libvirt = false;
  for (auto& c : j["checks"]) skipped_libvirt |= c["id"] == "libvirt.reachable" && c["verdict"] == "skip";
  EXPECT_TRUE(skipped_libvirt) << "a snapshot's doctor must not probe this machine's libvirt";
}

TEST(Cli, DoctorRejectsAnMtuOutOfRange) {
  auto r = vnfctl({"doctor", "--mtu", "10000"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("10000"), std::string::npos) << r.err;
}

TEST(Cli, UnknownCommandIsAUsageError) {
  auto r = vnfctl({"hots"});
  EXPECT_EQ(r.code, 2);
}

TEST(Cli, RemoteUriPlansWithLibvirtsHostApis) {
  // test:/// is treated as another host: no /sys of this machine is read.
  auto r = vnfctl({"-c", "test:///default", "plan", "--name", "t", "--vcpus", "4", "--memory", "1G", "--hugepages", "none",
                   "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["placements"][0]["node"], 0);
  EXPECT_EQ(j["placements"][0]["vcpu_pins"], nlohmann::json::parse("[1,2,3,4]"));
}

TEST(Cli, SnapshotThenHostRootRoundTrips) {
  auto dir = test::makeTempDir("cli-snap");
  auto out = (dir / "snap").string();
  auto r = vnfctl({"--host-root", tree("amd-epyc-2socket-nps2"), "snapshot", out});
  ASSERT_EQ(r.code, 0) << r.err;
  auto a = vnfctl({"--host-root", tree("amd-epyc-2socket-nps2"), "host", "--json"});
  auto b = vnfctl({"--host-root", out, "host", "--json"});
  EXPECT_EQ(a.out, b.out);
  // A second snapshot to the same place is refused and leaves the first intact.
  auto again = vnfctl({"--host-root", tree("amd-epyc-2socket-nps2"), "snapshot", out});
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  EXPECT_EQ(vnfctl({"--host-root", out, "host", "--json"}).out, a.out);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vnf
