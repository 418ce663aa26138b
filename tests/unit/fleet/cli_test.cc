// `vnfctl fleet plan` and `vnfctl prepare/unprepare --json` run as a user runs them: the JSON
// documents, the exit codes of the table in common/error.h, and nothing changed on failures.
#include <sys/file.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "domain/render.h"
#include "host/parse.h"
#include "lifecycle/render.h"
#include "tests/unit/cli/run_vnfctl.h"

namespace vnf::test {
namespace {

namespace fs = std::filesystem;

class FleetCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = makeTempDir("fleet-cli"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string inventory(const std::string& text) {
    writeFile(dir_ / "inv.yaml", text);
    return (dir_ / "inv.yaml").string();
  }
  std::string spec(const std::string& text) {
    writeFile(dir_ / "spec.yaml", text);
    return (dir_ / "spec.yaml").string();
  }
  fs::path dir_;
};

TEST_F(FleetCli, PlansOverSnapshotsAsJsonWithPerHostListsAndOverrides) {
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("2socket-ht-x710-node1") +
                       "}\n  - {name: b, snapshot: " + hostTree("1socket-isolcpus-rt") + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\nnics:\n  - pf: ens2f0\n    vlan: 7\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "vnfctl.fleet-plan/v1");
  EXPECT_EQ(j["fits"], true);
  EXPECT_EQ(j["placed"], 3);
  // Only host a has ens2f0: all three go there, each with its own VF, pinned in the overrides.
  ASSERT_EQ(j["hosts"]["a"]["vnfs"].size(), 3u);
  EXPECT_EQ(j["hosts"]["b"]["vnfs"].size(), 0u);
  std::set<int> vfs;
  for (const auto& v : j["hosts"]["a"]["vnfs"]) {
    EXPECT_EQ(v["overrides"]["count"], 1);
    EXPECT_EQ(v["overrides"]["name"], v["name"]);
    ASSERT_EQ(v["overrides"]["nics"].size(), 1u);
    EXPECT_EQ(v["overrides"]["nics"][0]["vf"], v["vfs"][0]["index"]);
    EXPECT_FALSE(v["overrides"]["nics"][0].contains("mac")) << "derived MACs need no override";
    vfs.insert(v["vfs"][0]["index"].get<int>());
  }
  EXPECT_EQ(vfs.size(), 3u);
  EXPECT_EQ(j["hosts"]["a"]["remove"], nlohmann::json::array());
  EXPECT_EQ(j["hosts"]["b"]["why"], nullptr);
}

TEST_F(FleetCli, DoesNotFitExitsFourAndSaysWhyPerHost) {
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "6", "--json"});
  EXPECT_EQ(r.code, 4) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["fits"], false);
  EXPECT_EQ(j["placed"], 5) << "6 cores, one kept for the host";
  EXPECT_EQ(j["unplaced"]["name"], "fw-6");
  EXPECT_EQ(j["unplaced"]["remaining"], 1);
  EXPECT_EQ(j["error"]["kind"], "does-not-fit");
  EXPECT_EQ(j["error"]["exit_code"], 4);
  EXPECT_NE(j["unplaced"]["why"]["a"].get<std::string>().find("node 0"), std::string::npos) << j.dump(2);
  EXPECT_NE(r.err.find("1 of 6 instance(s) do not fit; fw-6 fits on no host:\n  a: "), std::string::npos) << r.err;
}

TEST_F(FleetCli, AnUnreachableHostStopsThePlanUnlessAllowed) {
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") +
                       "}\n  - {name: gone, snapshot: " + (dir_ / "missing").string() + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "1", "--json"});
  EXPECT_EQ(r.code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["kind"], "unreachable");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("1 of 2 host(s) could not be read:\n  - gone: "),
            std::string::npos);
  auto ok = vnfctl({"fleet", "plan", inv, s, "--count", "1", "--json", "--allow-unreachable"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto k = nlohmann::json::parse(ok.out);
  EXPECT_EQ(k["hosts"]["a"]["vnfs"].size(), 1u);
  EXPECT_EQ(k["unreachable"][0]["host"], "gone");
}

TEST_F(FleetCli, BadInputExitsTwoWithTheFix) {
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n");
  auto neg = vnfctl({"fleet", "plan", inv, s, "--count", "-1"});
  EXPECT_EQ(neg.code, 2);
  auto badspec = vnfctl({"fleet", "plan", inv, spec("name: fw\nvcpu: 2\n"), "--count", "1", "--json"});
  EXPECT_EQ(badspec.code, 2);
  auto j = nlohmann::json::parse(badspec.out);
  EXPECT_EQ(j["error"]["kind"], "invalid-argument");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("did you mean 'vcpus'"), std::string::npos);
  auto noinv = vnfctl({"fleet", "plan", (dir_ / "nope.yaml").string(), s, "--count", "1"});
  EXPECT_EQ(noinv.code, 2);
}

TEST_F(FleetCli, TheTableNamesEveryHost) {
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") +
                       "}\n  - {name: b, snapshot: " + hostTree("2socket-ht-x710-node1") + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "HOST                       VNFS    NEW  CPUS REMOVE\n"
            "a                             1      1     8      0\n"
            "b                             1      1    26      0\n"
            "2 of 2 instance(s) of fw placed\n");
}

// A libvirt test-driver host (test:///path/node.xml): the domains of the file, read in-process.
std::string managedDomain(const std::string& name, const std::string& node, const std::string& devices) {
  return "<domain type='test'><name>" + name +
         "</name><memory unit='KiB'>1048576</memory><vcpu placement='static'>1</vcpu>"
         "<metadata><vnfctl:vnf xmlns:vnfctl='urn:vnfctl:domain:1'><vnfctl:spec hash='sha256:aa'/>"
         "<vnfctl:tool version='0.1.0'/><vnfctl:image hash='sha256:bb'/><vnfctl:placement node='" +
         node +
         "' memory-kib='1048576' page-size-kib='0' hugepages='0'><vnfctl:vcpupin vcpu='0' cpu='2'/>"
         "</vnfctl:placement></vnfctl:vnf></metadata><os><type>hvm</type></os><devices>" +
         devices + "</devices></domain>";
}
std::string foreignDomain(const std::string& name, const std::string& devices) {
  return "<domain type='test'><name>" + name +
         "</name><memory unit='KiB'>1024</memory><os><type>hvm</type></os><devices>" + devices + "</devices></domain>";
}
std::string tapWithMac(const std::string& mac) {
  return "<interface type='ethernet'><mac address='" + mac + "'/></interface>";
}

// A host whose libvirt has a domain with damaged vnfctl metadata is not unreachable: it answers, but
// what that domain holds is unknown. The plan refuses to put anything new there, names the domain
// and its repair, keeps that host's instances (the damaged one too) where they are, and the other
// hosts still plan: exit 0.
TEST_F(FleetCli, AHostWithADamagedDomainTakesNothingNewAndTheOthersStillPlan) {
  const auto node = dir_ / "node.xml";
  writeFile(node, "<node>" + managedDomain("fw-2", "abc", "") + managedDomain("fw-1", "0", "") + "</node>");
  const std::string uri = "test://" + node.string();
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") + ", uri: '" + uri +
                       "'}\n  - {name: b, snapshot: " + hostTree("2socket-ht-x710-node1") + "}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "4", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["unreachable"], nlohmann::json::array());
  const auto closed = j["hosts"]["a"]["closed"].get<std::string>();
  EXPECT_NE(closed.find("domain 'fw-2' on " + uri + ": vnfctl's metadata"), std::string::npos) << closed;
  EXPECT_NE(closed.find("virsh -c " + uri + " edit fw-2"), std::string::npos) << closed;
  std::map<std::string, std::string> where;
  for (const auto& [host, h] : j["hosts"].items())
    for (const auto& v : h["vnfs"]) where[v["name"]] = host + (v["existing"].get<bool>() ? " kept" : " new");
  EXPECT_EQ(where, (std::map<std::string, std::string>{
                       {"fw-1", "a kept"}, {"fw-2", "a kept"}, {"fw-3", "b new"}, {"fw-4", "b new"}}))
      << j.dump(2);
  EXPECT_NE(r.err.find("vnfctl: warning: host a takes no new instance: what 1 of its domains holds is unknown: "
                       "domain 'fw-2'"),
            std::string::npos)
      << r.err;
  // With nowhere else to go, the reason for host a is the damaged domain, not "unreachable".
  auto only =
      vnfctl({"fleet", "plan",
              inventory("hosts:\n  - {name: a, uri: '" + uri + "', snapshot: " + hostTree("1socket-iommu-off") + "}\n"),
              s, "--count", "3", "--json"});
  EXPECT_EQ(only.code, 4) << only.err;
  auto k = nlohmann::json::parse(only.out);
  EXPECT_NE(k["unplaced"]["why"]["a"].get<std::string>().find("edit fw-2"), std::string::npos) << k.dump(2);
}

// MACs are unique across the fleet: every domain's MACs on every host are read from the XML the
// holdings come from. A foreign domain holding the MAC fw-1 would derive makes the plan re-derive
// it (carried in the overrides, and a note says so); a kept instance whose MAC was changed by hand
// is reported with its real MAC.
TEST_F(FleetCli, MacsOfEveryDomainOnEveryHostAreKeptUnique) {
  const std::string taken = formatMac(derivedMac(lifecycle::nameUuid("fw-1"), "tap0"));
  const std::string edited = "52:54:00:12:34:56";
  const auto node = dir_ / "node.xml";
  writeFile(node, "<node>" + foreignDomain("other", tapWithMac(taken)) +
                      managedDomain("fw-2", "0", tapWithMac(edited)) + "</node>");
  auto inv = inventory("hosts:\n  - {name: a, snapshot: " + hostTree("1socket-iommu-off") + ", uri: 'test://" +
                       node.string() + "'}\n");
  auto s = spec("name: fw\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\ntaps:\n  - tap: t0\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto& vnfs = j["hosts"]["a"]["vnfs"];
  ASSERT_EQ(vnfs.size(), 2u) << j.dump(2);
  const auto& fw1 = vnfs[0];
  EXPECT_EQ(fw1["name"], "fw-1");
  EXPECT_NE(fw1["macs"][0]["mac"], taken);
  EXPECT_EQ(fw1["macs"][0]["mac"], formatMac(derivedMac(lifecycle::nameUuid("fw-1"), "tap0#1")));
  EXPECT_EQ(fw1["macs"][0]["source"], "re-derived");
  EXPECT_EQ(fw1["overrides"]["taps"][0]["mac"], fw1["macs"][0]["mac"]);
  EXPECT_EQ(j["mac_rederived"], 1);
  const auto& fw2 = vnfs[1];
  EXPECT_EQ(fw2["name"], "fw-2");
  EXPECT_EQ(fw2["existing"], true);
  EXPECT_EQ(fw2["macs"][0]["mac"], edited);
  EXPECT_EQ(fw2["macs"][0]["source"], "domain");
  EXPECT_EQ(fw2["macs"][0]["derived"], false);
  EXPECT_FALSE(fw2["overrides"]["taps"][0].contains("mac")) << "its spec never had that MAC";
  std::string notes = j["notes"].dump();
  EXPECT_NE(notes.find("fw-1: the MAC derived for tap0 (" + taken + ") is used by domain other on a"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("fw-2 on a: tap0 has the MAC " + edited), std::string::npos) << notes;
}

// A host given only by a libvirt URI: its shape from libvirt's host APIs, what it holds from its
// domains (the test driver's own 'test' domain holds 8 GiB of normal memory bound to no node).
TEST_F(FleetCli, AHostGivenOnlyByAUriIsReadThroughLibvirt) {
  auto inv = inventory("hosts:\n  - {name: t, uri: 'test:///default'}\n");
  auto s = spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: 1G\n");
  auto r = vnfctl({"fleet", "plan", inv, s, "--count", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hosts"]["t"]["uri"], "test:///default");
  EXPECT_EQ(j["hosts"]["t"]["snapshot"], "");
  ASSERT_EQ(j["hosts"]["t"]["vnfs"].size(), 1u);
  EXPECT_EQ(j["hosts"]["t"]["vnfs"][0]["node"], 0);
  EXPECT_GT(j["hosts"]["t"]["free_cpus_before"].get<int>(), j["hosts"]["t"]["free_cpus_after"].get<int>());
  auto normal = vnfctl(
      {"fleet", "plan", inv, spec("name: fw\nvcpus: 2\nmemory: 1G\nhugepages: none\n"), "--count", "1", "--json"});
  EXPECT_EQ(normal.code, 4) << "the 'test' domain's 8 GiB are counted: " << normal.out;
}

// prepare --json on a copy of a host tree: the fake sysfs takes the writes.
class PrepareJson : public FleetCli {
 protected:
  void SetUp() override {
    FleetCli::SetUp();
    root_ = dir_ / "host";
    fs::copy(hostTree("1socket-iommu-off"), root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  std::vector<std::string> args(std::vector<std::string> more) {
    std::vector<std::string> a{"--host-root", root_.string()};
    a.insert(a.end(), more.begin(), more.end());
    for (const auto& x : {"--journal", "J", "--lock", "L"}) a.push_back(x);
    a[a.size() - 3] = (dir_ / "journal.json").string();
    a[a.size() - 1] = (dir_ / "prepare.lock").string();
    return a;
  }
  std::string pages() {
    return readFile(root_ / "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages");
  }
  fs::path root_;
};

TEST_F(PrepareJson, DryRunListsTheChangesAndChangesNothing) {
  auto r = vnfctl(args({"prepare", "--hugepages", "2M:1100@0", "--dry-run", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "vnfctl.prepare/v1");
  EXPECT_EQ(j["command"], "prepare");
  EXPECT_EQ(j["changed"], false);
  EXPECT_EQ(j["dry_run"], true);
  ASSERT_EQ(j["changes"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["changes"][0]["kind"], "hugepages");
  EXPECT_EQ(j["changes"][0]["from"], "1024");
  EXPECT_EQ(j["changes"][0]["to"], "1100");
  EXPECT_EQ(pages(), "1024\n");
  EXPECT_FALSE(fs::exists(dir_ / "journal.json"));
  EXPECT_NE(r.err.find("dry run: 1 change(s) would be made"), std::string::npos) << "messages go to stderr";
}

TEST_F(PrepareJson, ApplyThenAgainThenUndoReportChangedExactlyWhenSomethingChanged) {
  auto first = vnfctl(args({"prepare", "--hugepages", "2M:1100@0", "--json"}));
  ASSERT_EQ(first.code, 0) << first.err;
  auto a = nlohmann::json::parse(first.out);
  EXPECT_EQ(a["changed"], true);
  ASSERT_EQ(a["changes"].size(), 1u);
  EXPECT_EQ(pages(), "1100");  // the value replaces the old one (a --host-root folder holds regular files)
  auto again = vnfctl(args({"prepare", "--hugepages", "2M:1100@0", "--json"}));
  ASSERT_EQ(again.code, 0) << again.err;
  auto b = nlohmann::json::parse(again.out);
  EXPECT_EQ(b["changed"], false);
  EXPECT_EQ(b["changes"].size(), 0u);
  auto undo_dry = vnfctl(args({"unprepare", "--dry-run", "--json"}));
  ASSERT_EQ(undo_dry.code, 0) << undo_dry.err;
  auto c = nlohmann::json::parse(undo_dry.out);
  EXPECT_EQ(c["command"], "unprepare");
  EXPECT_EQ(c["changed"], false);
  ASSERT_EQ(c["changes"].size(), 1u);
  EXPECT_EQ(c["changes"][0]["to"], "1024");
  EXPECT_EQ(pages(), "1100");
  auto undo = vnfctl(args({"unprepare", "--json"}));
  ASSERT_EQ(undo.code, 0) << undo.err;
  auto d = nlohmann::json::parse(undo.out);
  EXPECT_EQ(d["changed"], true);
  EXPECT_EQ(pages(), "1024");
  auto nothing = vnfctl(args({"unprepare", "--json"}));
  ASSERT_EQ(nothing.code, 0);
  EXPECT_EQ(nlohmann::json::parse(nothing.out)["changed"], false);
}

TEST_F(PrepareJson, BadInputGivesTheErrorKindAndExitTwo) {
  auto r = vnfctl(args({"prepare", "--hugepages", "3M:4", "--json"}));
  EXPECT_EQ(r.code, 2);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["changed"], false);
  EXPECT_EQ(j["error"]["kind"], "invalid-argument");
  EXPECT_EQ(j["error"]["exit_code"], 2);
  EXPECT_EQ(j["error"]["message"],
            "1 problem(s) with the arguments:\n  - --hugepages '3M:4' is not SIZE:COUNT[@NODE] with SIZE 2M or 1G "
            "(like 2M:512 or 1G:4@1)");
  auto vf = vnfctl(args({"prepare", "--pf", "ens1f0", "--vfs", "2", "--json"}));
  EXPECT_EQ(vf.code, 2) << vf.err;
  auto k = nlohmann::json::parse(vf.out);
  EXPECT_EQ(k["error"]["kind"], "invalid-argument");
  EXPECT_EQ(pages(), "1024\n");
}

TEST_F(PrepareJson, ABusyLockIsKindBusyExitEight) {
  // Another prepare holds the lock: flock it from here (a different open file description).
  auto lock = (dir_ / "prepare.lock").string();
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto r = vnfctl(args({"prepare", "--hugepages", "2M:1100@0", "--json", "--lock-wait", "0"}));
  ::close(fd);
  EXPECT_EQ(r.code, 8) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["kind"], "busy");
  EXPECT_EQ(pages(), "1024\n");
}

}  // namespace
}  // namespace vnf::test
