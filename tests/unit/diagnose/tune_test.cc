// tune/untune on a fake host tree (IRQ affinity files) and a fake NIC (ring sizes): untune restores
// exactly, a dry run changes nothing, bad values and NICs in use are refused with nothing changed,
// a failure part-way puts back what the run changed, a damaged journal is an error.
#include "diagnose/tune.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/test_util.h"

namespace vnf::diagnose {
namespace {

class FakeNic final : public RingOps {
 public:
  std::map<std::string, ethtool::RingParams> nics;
  int fail_after = -1;  // setRings calls that succeed before one fails
  int sets = 0;
  Result<ethtool::RingParams> rings(const std::string& n) override {
    auto it = nics.find(n);
    if (it == nics.end()) return fail(Errc::kConflict, "ETHTOOL_GRINGPARAM on " + n + ": not supported by its driver");
    return it->second;
  }
  std::uint32_t multiple = 1;  // rounds up to it, as igb does to 8
  Result<void> setRings(const std::string& n, std::uint32_t rx, std::uint32_t tx) override {
    if (fail_after >= 0 && sets >= fail_after) return fail(Errc::kIo, "ETHTOOL_SRINGPARAM on " + n + " failed: EIO");
    ++sets;
    nics[n].rx = (rx + multiple - 1) / multiple * multiple;
    nics[n].tx = (tx + multiple - 1) / multiple * multiple;
    return {};
  }
};

struct Host {
  std::filesystem::path root = test::makeTempDir("diag-tune");
  Host() {
    // eth1 on node 1 (CPUs 4-7), IRQs 40 and 41; eth0 has no ring support.
    test::writeFile(root / "sys/devices/pci0000:80/0000:81:00.0/numa_node", "1\n");
    test::writeFile(root / "sys/devices/pci0000:80/0000:81:00.0/msi_irqs/40", "msix\n");
    test::writeFile(root / "sys/devices/pci0000:80/0000:81:00.0/msi_irqs/41", "msix\n");
    std::filesystem::create_directories(root / "sys/class/net/eth1");
    std::filesystem::create_directories(root / "sys/class/net/eth0");
    std::filesystem::create_symlink("../../../devices/pci0000:80/0000:81:00.0", root / "sys/class/net/eth1/device");
    test::writeFile(root / "sys/devices/system/node/node1/cpulist", "4-7\n");
    test::writeFile(root / "proc/irq/40/smp_affinity_list", "0-7\n");
    test::writeFile(root / "proc/irq/41/smp_affinity_list", "4-7\n");
    nic.nics["eth1"] = {256, 4096, 512, 4096};
  }
  ~Host() { std::filesystem::remove_all(root); }
  std::string irq(int n) const {
    auto t = test::readFile(root / "proc/irq" / std::to_string(n) / "smp_affinity_list");
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  FakeNic nic;
  prep::LiveHostOps ops{root.string()};
  std::vector<std::string> said;
  Say say = [this](const std::string& s) { said.push_back(s); };
  std::string journal() const { return (root / "tune.json").string(); }
};

TEST(Tune, RingsAndIrqsThenUntuneRestoresExactly) {
  Host h;
  auto fs = HostFs::open(h.root);
  ASSERT_TRUE(fs);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(j);
  TuneRequest req{{"eth1"}, 0, true, false, false, {}};
  auto r = tune(*fs, h.nic, h.ops, *j, req, h.say);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(h.nic.nics["eth1"], (ethtool::RingParams{4096, 4096, 4096, 4096}));
  EXPECT_EQ(h.irq(40), "4-7");
  ASSERT_FALSE(h.said.empty());
  EXPECT_EQ(h.said[0],
            "eth1: RX ring 256 -> 4096, TX ring 512 -> 4096 (the driver resets the link: traffic stops for about a "
            "second)");
  // A second run changes nothing more and keeps the first originals.
  ASSERT_TRUE(tune(*fs, h.nic, h.ops, *j, req, h.say));
  auto again = TuneJournal::load(h.journal());
  ASSERT_TRUE(again);
  ASSERT_EQ(again->entries.size(), 2u);
  EXPECT_EQ(again->entries[0], (TuneEntry{"rings", "eth1", "256/512", "4096/4096", true}));
  EXPECT_EQ(again->entries[1], (TuneEntry{"irq", "/proc/irq/40/smp_affinity_list", "0-7", "4-7", true}));
  ASSERT_TRUE(untune(h.nic, h.ops, *again, false, h.say));
  EXPECT_EQ(h.nic.nics["eth1"], (ethtool::RingParams{256, 4096, 512, 4096}));
  EXPECT_EQ(h.irq(40), "0-7");
  EXPECT_EQ(h.irq(41), "4-7");
  EXPECT_FALSE(std::filesystem::exists(h.journal()));
}

TEST(Tune, DryRunChangesNothing) {
  Host h;
  auto fs = HostFs::open(h.root);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(fs && j);
  ASSERT_TRUE(tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth1"}, 1024, true, true, false, {}}, h.say));
  EXPECT_EQ(h.nic.sets, 0);
  EXPECT_EQ(h.irq(40), "0-7");
  EXPECT_FALSE(std::filesystem::exists(h.journal()));
  ASSERT_EQ(h.said.size(), 2u);
  EXPECT_EQ(h.said[1], "would change eth1: IRQ 40 CPUs 0-7 -> 4-7 (node 1)");
}

TEST(Tune, BadValuesAndNicsAreRefusedTogetherWithNothingChanged) {
  Host h;
  auto fs = HostFs::open(h.root);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(fs && j);
  auto r = tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth1", "eth0", "nosuch9"}, 8192, false, false, false, {}}, h.say);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message,
            "eth1: --rings 8192 exceeds the driver's maximum (RX 4096, TX 4096); ETHTOOL_GRINGPARAM on eth0: not "
            "supported by its driver; no network interface named 'nosuch9'; nothing was changed");
  EXPECT_EQ(h.nic.sets, 0);
  EXPECT_FALSE(std::filesystem::exists(h.journal()));
}

TEST(Tune, NicOfARunningVnfNeedsForce) {
  Host h;
  auto fs = HostFs::open(h.root);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(fs && j);
  TuneRequest req{{"eth1"}, 0, false, false, false, {{"eth1", {"fw1", "fw2"}}}};
  auto r = tune(*fs, h.nic, h.ops, *j, req, h.say);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(r.error().message,
            "changing the rings of eth1 resets its link, and running VNFs use its VFs: fw1, fw2; nothing was changed");
  EXPECT_EQ(r.error().fix, "add --force to accept a link reset of about a second for them, or stop them first");
  req.force = true;
  ASSERT_TRUE(tune(*fs, h.nic, h.ops, *j, req, h.say));
  EXPECT_EQ(h.nic.nics["eth1"].rx, 4096u);
}

TEST(Tune, FailurePartWayPutsBackThisRunsChanges) {
  Host h;
  auto fs = HostFs::open(h.root);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(fs && j);
  h.nic.nics["eth2"] = {128, 1024, 128, 1024};
  std::filesystem::create_directories(h.root / "sys/class/net/eth2");
  h.nic.fail_after = 1;  // eth1 succeeds, eth2 fails
  auto r = tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth1", "eth2"}, 0, false, false, false, {}}, h.say);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "ETHTOOL_SRINGPARAM on eth2 failed: EIO; restoring failed too: ETHTOOL_SRINGPARAM on eth1 failed: EIO");
  // With restoring allowed, the run ends where it began.
  Host h2;
  auto fs2 = HostFs::open(h2.root);
  auto j2 = TuneJournal::load(h2.journal());
  h2.nic.nics["eth2"] = {128, 1024, 128, 1024};
  std::filesystem::create_directories(h2.root / "sys/class/net/eth2");
  ASSERT_TRUE(fs2 && j2);
  struct FailEth2 final : public RingOps {
    FakeNic& inner;
    explicit FailEth2(FakeNic& n) : inner(n) {}
    Result<ethtool::RingParams> rings(const std::string& n) override { return inner.rings(n); }
    Result<void> setRings(const std::string& n, std::uint32_t rx, std::uint32_t tx) override {
      if (n == "eth2") return fail(Errc::kIo, "ETHTOOL_SRINGPARAM on eth2 failed: EIO");
      return inner.setRings(n, rx, tx);
    }
  } failing(h2.nic);
  auto r2 = tune(*fs2, failing, h2.ops, *j2, TuneRequest{{"eth1", "eth2"}, 0, false, false, false, {}}, h2.say);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message, "ETHTOOL_SRINGPARAM on eth2 failed: EIO; the changes of this run were put back");
  EXPECT_EQ(h2.nic.nics["eth1"], (ethtool::RingParams{256, 4096, 512, 4096}));
  auto left = TuneJournal::load(h2.journal());
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->entries.empty());
}

TEST(TuneJournal, DamagedOrHostileJournalIsAnError) {
  Host h;
  test::writeFile(h.journal(),
                  "{\"schema\": \"vnfctl.tune-journal/v1\", \"entries\": [{\"kind\": \"irq\", "
                  "\"target\": \"/etc/passwd\", \"original\": \"x\", \"applied\": \"y\", \"done\": true}]}");
  auto j = TuneJournal::load(h.journal());
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Errc::kBadContent);
  EXPECT_NE(j.error().message.find("irq target outside /proc/irq: /etc/passwd"), std::string::npos);
  test::writeFile(h.journal(), "not json");
  EXPECT_FALSE(TuneJournal::load(h.journal()));
  auto none = TuneJournal::load((h.root / "missing.json").string());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Untune, NothingToUndoIsFine) {
  Host h;
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(j);
  ASSERT_TRUE(untune(h.nic, h.ops, *j, false, h.say));
  ASSERT_EQ(h.said.size(), 1u);
  EXPECT_EQ(h.said[0], "nothing to undo: no tune journal at " + h.journal());
}

TEST(Tune, ADriverRoundingIsJournaledAndSaid) {
  Host h;
  h.nic.multiple = 8;
  auto fs = HostFs::open(h.root);
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(fs && j);
  ASSERT_TRUE(tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth1"}, 1001, false, false, false, {}}, h.say));
  EXPECT_EQ(h.nic.nics["eth1"], (ethtool::RingParams{1008, 4096, 1008, 4096}));
  ASSERT_EQ(j->entries.size(), 1u);
  EXPECT_EQ(j->entries[0].applied, "1008/1008");
  EXPECT_EQ(h.said.back(), "eth1: the driver set RX 1008 TX 1008 (it rounds to its descriptor multiple)");
  ASSERT_TRUE(untune(h.nic, h.ops, *j, false, h.say));
  EXPECT_EQ(h.nic.nics["eth1"], (ethtool::RingParams{256, 4096, 512, 4096}));
}

// Which running VNFs use a PF: from the VFs in vnfctl's domain metadata (recorded domains), so a
// ring change that resets the link is refused for exactly those NICs.
std::string domainXml(const std::string& name, const std::string& pf, const std::string& vf) {
  return "<domain type=\"kvm\"><name>" + name +
         "</name><metadata><vnfctl:vnf xmlns:vnfctl=\"urn:vnfctl:domain:1\"><vnfctl:spec hash=\"0123456789abcdef\"/>"
         "<vnfctl:tool version=\"0.1.0\"/><vnfctl:image hash=\"\"/><vnfctl:placement node=\"1\" memory-kib=\"2048\" "
         "page-size-kib=\"2048\" hugepages=\"1\"><vnfctl:vcpupin vcpu=\"0\" cpu=\"4\"/></vnfctl:placement>" +
         (pf.empty()
              ? std::string()
              : "<vnfctl:vf nic=\"0\" pf=\"" + pf + "\" address=\"" + vf + "\" index=\"0\" driver=\"vfio-pci\"/>") +
         "</vnfctl:vnf></metadata><vcpu>1</vcpu><os><type arch=\"x86_64\">hvm</type></os><devices/></domain>";
}

TEST(TuneUsers, RunningVnfsOnTheirPfsAndTheNamedVnfsPfs) {
  Host h;
  std::filesystem::create_directories(h.root / "sys/bus/pci/devices/0000:81:00.0/net/eth1");
  std::filesystem::create_directories(h.root / "sys/bus/pci/devices/0000:82:00.0/net/eth2");
  nlohmann::json doc{
      {"schema", "vnfctl.diagnose-answers/v1"},
      {"domains",
       {{{"name", "fw1"}, {"state", "running"}, {"xml", domainXml("fw1", "0000:81:00.0", "0000:81:10.0")}},
        {{"name", "fw2"}, {"state", "running"}, {"xml", domainXml("fw2", "0000:81:00.0", "0000:81:10.1")}},
        {{"name", "idle"}, {"state", "shut off"}, {"xml", domainXml("idle", "0000:82:00.0", "0000:82:10.0")}},
        {{"name", "taps"}, {"state", "running"}, {"xml", domainXml("taps", "", "")}}}}};
  test::writeFile(h.root / "answers.json", doc.dump());
  auto fs = HostFs::open(h.root);
  auto probe = loadRecordedProbe((h.root / "answers.json").string());
  ASSERT_TRUE(fs && probe);
  std::map<std::string, std::vector<std::string>> users;
  auto mine = nicUsers(*fs, **probe, "idle", users);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(*mine, std::vector<std::string>{"eth2"});
  EXPECT_EQ(users, (std::map<std::string, std::vector<std::string>>{{"eth1", {"fw1", "fw2"}}}));
  // The users reach tune: eth1 refused without --force, eth2 (only a stopped VNF) tuned.
  h.nic.nics["eth2"] = {256, 4096, 256, 4096};
  std::filesystem::create_directories(h.root / "sys/class/net/eth2");
  auto j = TuneJournal::load(h.journal());
  ASSERT_TRUE(j);
  auto r = tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth1"}, 0, false, false, false, users}, h.say);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_TRUE(tune(*fs, h.nic, h.ops, *j, TuneRequest{{"eth2"}, 0, false, false, false, users}, h.say));
  EXPECT_EQ(h.nic.nics["eth2"].rx, 4096u);
  // Unknown VNF; a VNF with no VF.
  users.clear();
  auto unknown = nicUsers(*fs, **probe, "nosuch", users);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNoSuchVnf);
  auto taps = nicUsers(*fs, **probe, "taps", users);
  ASSERT_FALSE(taps);
  EXPECT_EQ(taps.error().message, "VNF taps has no VFs on a PF with a netdev: nothing to tune");
}

// --persist on a fake root: refused without prepare's unit (nothing written); the request is merged
// per NIC over runs and the drop-in runs it after prepare; the boot-time run re-applies after a
// "reboot" (the driver's defaults back) keeping the first original; untune removes both files.
struct PersistRoot {
  Host h;
  PersistPaths paths;
  PersistRoot() {
    paths.root = h.root.string();
    paths.journal_path = h.journal();
  }
  void installPrepareUnit() { test::writeFile(h.root / "etc/systemd/system/vnfctl-prepare.service", "[Unit]\n"); }
};

TEST(TunePersist, RefusedWithoutPreparesUnitAndNothingWritten) {
  PersistRoot p;
  auto r = persistTune(p.paths, TuneRequest{{"eth1"}, 0, false, false, false, {}}, p.h.say);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(r.error().message,
            "tune --persist re-applies at boot through prepare's unit, and " + p.paths.unit() + " is not installed");
  EXPECT_EQ(r.error().fix,
            "vnfctl prepare --spec HOST.yaml --persist installs it; or run vnfctl tune without --persist");
  EXPECT_FALSE(std::filesystem::exists(p.paths.request()));
  EXPECT_FALSE(std::filesystem::exists(p.paths.dropIn()));
}

TEST(TunePersist, MergedPerNicAndTheDropInRunsItAfterPrepare) {
  PersistRoot p;
  p.installPrepareUnit();
  ASSERT_TRUE(persistTune(p.paths, TuneRequest{{"eth1"}, 0, false, false, false, {}}, p.h.say));
  ASSERT_TRUE(persistTune(p.paths, TuneRequest{{"eth1", "eth2"}, std::nullopt, true, false, false, {}}, p.h.say));
  ASSERT_TRUE(persistTune(p.paths, TuneRequest{{"eth2"}, 1024, false, false, false, {}}, p.h.say));
  auto got = PersistedTune::load(p.paths.request());
  ASSERT_TRUE(got);
  PersistedTune want;
  want.nics["eth1"] = {0, true};
  want.nics["eth2"] = {1024, true};
  EXPECT_EQ(*got, want);
  EXPECT_EQ(test::readFile(p.paths.request()),
            "{\n  \"schema\": \"vnfctl.tune-persist/v1\",\n  \"nics\": {\n    \"eth1\": {\n      \"rings\": \"max\",\n"
            "      \"irq_affinity\": \"local\"\n    },\n    \"eth2\": {\n      \"rings\": 1024,\n"
            "      \"irq_affinity\": \"local\"\n    }\n  }\n}\n");
  EXPECT_EQ(test::readFile(p.paths.dropIn()),
            "# Written by vnfctl tune --persist; removed by vnfctl untune.\n[Service]\n"
            "# After prepare's VFs and drivers, before libvirtd: no VNF runs yet.\n"
            "ExecStartPost=/usr/bin/vnfctl tune --persisted /etc/vnfctl/tune.json --journal " +
                p.h.journal() + "\n");
  auto reqs = persistedRequests(*got);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].nics, std::vector<std::string>{"eth1"});
  EXPECT_EQ(reqs[0].rings, 0u);
  EXPECT_TRUE(reqs[1].irq_local);
}

TEST(TunePersist, BootReappliesKeepingTheFirstOriginalAndUntuneRemovesIt) {
  PersistRoot p;
  p.installPrepareUnit();
  auto fs = HostFs::open(p.h.root);
  auto j = TuneJournal::load(p.h.journal());
  ASSERT_TRUE(fs && j);
  TuneRequest req{{"eth1"}, 0, false, false, false, {}};
  ASSERT_TRUE(tune(*fs, p.h.nic, p.h.ops, *j, req, p.h.say));
  ASSERT_TRUE(persistTune(p.paths, req, p.h.say));
  // Reboot: the driver's defaults are back; prepare's unit runs the persisted request.
  p.h.nic.nics["eth1"] = {256, 4096, 512, 4096};
  auto persisted = PersistedTune::load(p.paths.request());
  auto j2 = TuneJournal::load(p.h.journal());
  ASSERT_TRUE(persisted && j2);
  for (const auto& r : persistedRequests(*persisted)) ASSERT_TRUE(tune(*fs, p.h.nic, p.h.ops, *j2, r, p.h.say));
  EXPECT_EQ(p.h.nic.nics["eth1"], (ethtool::RingParams{4096, 4096, 4096, 4096}));
  ASSERT_EQ(j2->entries.size(), 1u);
  EXPECT_EQ(j2->entries[0].original, "256/512");
  ASSERT_TRUE(untune(p.h.nic, p.h.ops, *j2, false, p.h.say));
  p.h.said.clear();
  ASSERT_TRUE(unpersistTune(p.paths, true, p.h.say));  // dry run: says, removes nothing
  EXPECT_TRUE(std::filesystem::exists(p.paths.dropIn()));
  ASSERT_TRUE(unpersistTune(p.paths, false, p.h.say));
  EXPECT_EQ(p.h.nic.nics["eth1"], (ethtool::RingParams{256, 4096, 512, 4096}));
  EXPECT_FALSE(std::filesystem::exists(p.paths.request()));
  EXPECT_FALSE(std::filesystem::exists(p.paths.dropIn()));
  EXPECT_TRUE(std::filesystem::exists(p.paths.unit()));  // prepare's own unit stays
  EXPECT_EQ(p.h.said.back(), "then: systemctl daemon-reload");
  p.h.said.clear();
  ASSERT_TRUE(unpersistTune(p.paths, false, p.h.say));  // nothing left: ok, nothing said
  EXPECT_TRUE(p.h.said.empty());
}

TEST(TunePersist, HostileFilesAreRefused) {
  PersistRoot p;
  p.installPrepareUnit();
  // A damaged or hostile request: an error naming it, never applied.
  for (const char* bad : {"not json", "{\"schema\": \"vnfctl.tune-persist/v1\", \"nics\": {\"../x\": {\"rings\": 1}}}",
                          "{\"schema\": \"vnfctl.tune-persist/v1\", \"nics\": {\"eth1\": {\"rings\": 0}}}",
                          "{\"schema\": \"vnfctl.tune-persist/v1\", \"nics\": {\"eth1\": {\"rings\": 99999999999}}}",
                          "{\"schema\": \"vnfctl.tune-persist/v1\", \"nics\": {\"eth1\": {}}}"}) {
    test::writeFile(p.paths.request(), bad);
    auto r = PersistedTune::load(p.paths.request());
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kBadContent) << bad;
    EXPECT_FALSE(persistTune(p.paths, TuneRequest{{"eth1"}, 0, false, false, false, {}}, p.h.say)) << bad;
  }
  // untune still removes a damaged request.
  ASSERT_TRUE(unpersistTune(p.paths, false, p.h.say));
  EXPECT_FALSE(std::filesystem::exists(p.paths.request()));
  // A drop-in vnfctl did not write is left alone.
  test::writeFile(p.paths.dropIn(), "[Service]\nExecStartPost=/usr/local/bin/other\n");
  auto u = unpersistTune(p.paths, false, p.h.say);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Errc::kConflict);
  EXPECT_TRUE(std::filesystem::exists(p.paths.dropIn()));
  // A FIFO where the request goes: refused by name, nothing written.
  std::filesystem::remove(p.paths.dropIn());
  ASSERT_EQ(::mkfifo(p.paths.request().c_str(), 0644), 0);
  auto w = persistTune(p.paths, TuneRequest{{"eth1"}, 0, false, false, false, {}}, p.h.say);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find(p.paths.request()), std::string::npos) << w.error().message;
  EXPECT_FALSE(std::filesystem::exists(p.paths.dropIn()));
}

}  // namespace
}  // namespace vnf::diagnose
