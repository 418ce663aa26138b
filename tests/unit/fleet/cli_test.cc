// `vnfctl fleet plan` and `vnfctl prepare/unprepare --json` run as a user runs them: the JSON
// documents, the exit codes of the table in common/error.h, and nothing changed on failures.
#include <sys/file.h>

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

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
