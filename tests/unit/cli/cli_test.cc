// The vnfctl binary as a user runs it: exit codes, messages, and that failures change nothing.
#include <algorithm>
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
  EXPECT_EQ(r.err,
            "vnfctl: error: host root '/nonexistent/host' does not exist\n"
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
  auto r = vnfctl({"-c", "test:///default", "plan", "--name", "t", "--vcpus", "4", "--memory", "1G", "--hugepages",
                   "1G", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["placements"][0]["node"], 0);
  EXPECT_EQ(j["placements"][0]["vcpu_pins"], nlohmann::json::parse("[1,2,3,4]"));
  // The test driver's own domain 'test' (8 GiB, bound to no node) holds more normal memory than
  // either node has: a VNF on normal pages does not fit, and the reason names it.
  auto normal =
      vnfctl({"-c", "test:///default", "plan", "--name", "t", "--vcpus", "4", "--memory", "1G", "--hugepages", "none"});
  EXPECT_EQ(normal.code, 4) << normal.err;
  EXPECT_NE(normal.err.find("8192 MiB held by other VMs, 8192 MiB of it by VMs bound to no node"), std::string::npos)
      << normal.err;
}

TEST(Cli, ListShowsEveryDomainWhenOneHasDamagedMetadata) {
  // A test-driver host holding a good VNF, a VNF whose metadata was damaged by hand and a foreign
  // domain: list shows both VNFs, names the damaged one with its repair, and exits non-zero.
  auto dir = test::makeTempDir("cli-list-damaged");
  auto domain = [](const std::string& name, const std::string& node) {
    return "<domain type='test'><name>" + name +
           "</name><memory unit='KiB'>1048576</memory><vcpu placement='static'>1</vcpu>"
           "<metadata><vnfctl:vnf xmlns:vnfctl='urn:vnfctl:domain:1'><vnfctl:spec hash='sha256:aa'/>"
           "<vnfctl:tool version='0.1.0'/><vnfctl:image hash='sha256:bb'/><vnfctl:placement node='" +
           node +
           "' memory-kib='1048576' page-size-kib='0' hugepages='0'><vnfctl:vcpupin vcpu='0' cpu='2'/>"
           "</vnfctl:placement></vnfctl:vnf></metadata><os><type>hvm</type></os></domain>";
  };
  const auto node = dir / "node.xml";
  test::writeFile(node, "<node>" + domain("good", "0") + domain("broken", "abc") +
                            "<domain type='test'><name>other</name><memory unit='KiB'>1024</memory>"
                            "<os><type>hvm</type></os></domain></node>");
  const std::string uri = "test://" + node.string();
  auto r = vnfctl({"-c", uri, "list"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;  // bad content, as for any damaged file vnfctl reads
  EXPECT_NE(r.out.find("good "), std::string::npos) << r.out;
  // The test driver runs the domains of its file: a running damaged domain still holds its CPUs.
  EXPECT_NE(r.out.find("broken               running"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(vnfctl's metadata is damaged: see above)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("other"), std::string::npos) << "foreign domains are not listed:\n" << r.out;
  EXPECT_NE(r.err.find("domain 'broken' on " + uri + ": vnfctl's metadata"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("virsh -c " + uri + " edit broken"), std::string::npos) << r.err;
  auto j = vnfctl({"-c", uri, "list", "--json"});
  EXPECT_EQ(j.code, 3) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc["domains"].size(), 1u) << j.out;
  EXPECT_EQ(doc["domains"][0]["name"], "good");
  ASSERT_EQ(doc["damaged"].size(), 1u) << j.out;
  EXPECT_EQ(doc["damaged"][0]["name"], "broken");
  EXPECT_EQ(doc["damaged"][0]["state"], "running");
  EXPECT_NE(doc["damaged"][0]["fix"].get<std::string>().find("undefine broken"), std::string::npos) << j.out;
  // Planning on such a host still refuses (Holdings.AListingForDisplayKeeps...); the VNF itself
  // cannot be operated on until it is repaired.
  auto stop = vnfctl({"-c", uri, "destroy", "broken"});
  EXPECT_EQ(stop.code, 3) << stop.err;
}

// With --json, stdout holds a document whatever happens: when the libvirt connection fails, the
// single-domain operations and list still print theirs, with the error kind (the exit-code table).
TEST(Cli, LifecycleJsonOnAnUnreachableUriIsADocumentWithTheErrorKind) {
  const std::string uri = "qemu:///system?socket=/nonexistent/vnfctl-test/libvirt-sock";
  for (const std::string op : {"start", "stop", "destroy", "undefine"}) {
    for (bool dry : {false, true}) {
      std::vector<std::string> args{"-c", uri, op, "fw-1", "--json"};
      if (dry) args.push_back("--dry-run");
      auto r = vnfctl(args);
      EXPECT_EQ(r.code, 3) << op << ": " << r.err;
      nlohmann::json j;
      ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << op << " printed no JSON document: '" << r.out << "'";
      EXPECT_EQ(j["schema"], "vnfctl.op/v1");
      EXPECT_EQ(j["name"], "fw-1");
      EXPECT_EQ(j["op"], op);
      EXPECT_EQ(j["changed"], false);
      EXPECT_EQ(j.value("dry_run", false), dry);
      EXPECT_EQ(j["error"]["kind"], "unreachable") << j.dump(2);
      EXPECT_EQ(j["error"]["exit_code"], 3);
      EXPECT_NE(j["error"]["message"].get<std::string>().find("/nonexistent/vnfctl-test/libvirt-sock"),
                std::string::npos)
          << j.dump(2);
      EXPECT_NE(r.err.find("vnfctl: error: "), std::string::npos) << "messages still go to stderr";
    }
  }
  auto r = vnfctl({"-c", uri, "list", "--json"});
  EXPECT_EQ(r.code, 3) << r.err;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << "list printed no JSON document: '" << r.out << "'";
  EXPECT_EQ(j["schema"], "vnfctl.list/v1");
  EXPECT_EQ(j["domains"], nlohmann::json::array());
  EXPECT_EQ(j["damaged"], nlohmann::json::array());
  EXPECT_EQ(j["error"]["kind"], "unreachable");
  EXPECT_EQ(j["error"]["exit_code"], 3);
  auto text = vnfctl({"-c", uri, "list"});
  EXPECT_EQ(text.code, 3);
  EXPECT_EQ(text.out, "") << "without --json nothing but the error (on stderr)";
}

// `plan --host-root SNAPSHOT -c URI`: the shape from the snapshot, and what that URI's libvirt
// already holds is counted (here a foreign test-driver domain pinned to the CPUs a plan without -c
// takes).
TEST(Cli, PlanWithAHostRootAndAUriCountsWhatThatLibvirtHolds) {
  const std::vector<std::string> plan{"--host-root", tree("1socket-iommu-off"),
                                      "plan",        "--name",
                                      "t",           "--vcpus",
                                      "2",           "--memory",
                                      "1G",          "--hugepages",
                                      "none",        "--json"};
  auto alone = vnfctl(plan);
  ASSERT_EQ(alone.code, 0) << alone.err;
  auto pins = nlohmann::json::parse(alone.out)["placements"][0]["vcpu_pins"].get<std::vector<int>>();
  ASSERT_EQ(pins.size(), 2u);
  auto dir = test::makeTempDir("cli-plan-uri");
  std::string tune;
  for (std::size_t i = 0; i < pins.size(); ++i)
    tune += "<vcpupin vcpu='" + std::to_string(i) + "' cpuset='" + std::to_string(pins[i]) + "'/>";
  test::writeFile(dir / "node.xml",
                  "<node><domain type='test'><name>other</name><memory unit='KiB'>1024</memory>"
                  "<vcpu placement='static'>2</vcpu><cputune>" +
                      tune + "</cputune><os><type>hvm</type></os></domain></node>");
  auto args = plan;
  args.insert(args.begin(), {"-c", "test://" + (dir / "node.xml").string()});
  auto with = vnfctl(args);
  ASSERT_EQ(with.code, 0) << with.err;
  EXPECT_EQ(with.err.find("planned without"), std::string::npos) << with.err;
  auto got = nlohmann::json::parse(with.out)["placements"][0]["vcpu_pins"].get<std::vector<int>>();
  ASSERT_EQ(got.size(), 2u);
  for (int c : got)
    EXPECT_EQ(std::find(pins.begin(), pins.end(), c), pins.end()) << "CPU " << c << " is pinned to 'other'";
  fs::remove_all(dir);
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

TEST(Cli, GlobalOptionsAreTakenAfterTheSubcommandToo) {
  auto before = vnfctl({"--host-root", tree("amd-epyc-2socket-nps2"), "host", "--json"});
  auto after = vnfctl({"host", "--json", "--host-root", tree("amd-epyc-2socket-nps2")});
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);
}

// Flags go into the spec as values, never as YAML text: a newline in a --nic key or value cannot
// add another field (such as a profile path).
TEST(Cli, ANewlineInAFlagCannotInjectASpecField) {
  auto r = vnfctl({"--host-root", tree("2socket-ht-x710-node1"), "plan", "--name", "fw1", "--vcpus", "2", "--memory",
                   "2G", "--nic", "ens2f0,vlan=100\nprofile: /nonexistent/evil.xml"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(
      r.err,
      "vnfctl: error: command-line flags has 1 problem:\n"
      "  command-line flags: nics[0].vlan: expected an integer 1..4094, found '100\nprofile: /nonexistent/evil.xml'; "
      "VLAN 0 means untagged: leave vlan out\n"
      "  fix: correct the spec and run again; nothing was changed\n");
  auto key = vnfctl({"--host-root", tree("2socket-ht-x710-node1"), "plan", "--name", "fw1", "--nic",
                     "ens2f0,mac\nprofile: /nonexistent/evil.xml=1"});
  EXPECT_EQ(key.code, 2);
  EXPECT_NE(key.err.find("unknown key 'mac\nprofile: /nonexistent/evil.xml'"), std::string::npos) << key.err;
}

TEST(Cli, MinusOneAndEmptyAreErrorsNotUnset) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--vcpus", "-1"}, "vcpus: expected an integer 1..1024, found '-1'"},
      {{"--vcpus", ""}, "vcpus: expected an integer 1..1024, found ''"},
      {{"--count", "-1"}, "count: expected an integer 1..1000, found '-1'"},
      {{"--memory", ""}, "memory: expected a size such as 4G or 4096M (MiB when no unit), found ''"},
      {{"--hugepages", ""}, "hugepages: '' is not one of 1G, 2M, none"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> args{"--host-root", tree("2socket-ht-x710-node1"), "plan", "--name", "fw1"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = vnfctl(args);
    EXPECT_EQ(r.code, 2) << flags[0];
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
  auto name = vnfctl({"--host-root", tree("2socket-ht-x710-node1"), "plan", "--name", ""});
  EXPECT_EQ(name.code, 2);
  EXPECT_NE(name.err.find("name: empty; every VNF needs a name such as 'fw1'"), std::string::npos) << name.err;
}

TEST(Cli, DoctorForARemoteUriSaysItCannotCheckThatHostFromHere) {
  auto r = vnfctl({"-c", "qemu+ssh://nfv1/system", "doctor"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "vnfctl: error: doctor cannot check the host of qemu+ssh://nfv1/system from here: its checks read that "
            "host's /sys, /proc and kernel command line, which libvirt does not expose\n"
            "  fix: run vnfctl doctor on that host, or take a snapshot there (vnfctl snapshot DIR), copy it here and "
            "run: vnfctl --host-root DIR -c qemu+ssh://nfv1/system doctor\n");
}

TEST(Cli, APlanThatDoesNotFitHasItsOwnExitCode) {
  auto r = vnfctl(
      {"--host-root", tree("2socket-ht-x710-node1"), "plan", "--name", "big", "--vcpus", "20", "--memory", "2G"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("cannot place big"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vnf
