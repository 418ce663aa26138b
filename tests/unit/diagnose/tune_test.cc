// tune/untune on a fake host tree (IRQ affinity files) and a fake NIC (ring sizes): untune restores
// exactly, a dry run changes nothing, bad values and NICs in use are refused with nothing changed,
// a failure part-way puts back what the run changed, a damaged journal is an error.
#include "diagnose/tune.h"

#include <gtest/gtest.h>

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
  Result<void> setRings(const std::string& n, std::uint32_t rx, std::uint32_t tx) override {
    if (fail_after >= 0 && sets >= fail_after) return fail(Errc::kIo, "ETHTOOL_SRINGPARAM on " + n + " failed: EIO");
    ++sets;
    nics[n].rx = rx;
    nics[n].tx = tx;
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

}  // namespace
}  // namespace vnf::diagnose
