// prepare/unprepare on copies of fake host trees: diff, apply, idempotence, journal, undo, faults.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/host_lock.h"
#include "discovery/discover.h"
#include "prep/apply.h"
#include "prep/host_ops.h"
#include "prep/persist.h"
#include "tests/unit/prep/fake_kernel.h"

namespace vnf::prep {
namespace {

using test::FakeKernel;
namespace fs = std::filesystem;

constexpr const char* kHost = "2socket-ht-x710-node1";  // ens2f1 = 0000:81:00.1: SR-IOV, 0 of 64 VFs, node 1
constexpr const char* kPf = "0000:81:00.1";
constexpr const char* kNode1Pages = "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages";

PrepareSpec twoVfs() {
  PrepareSpec spec;
  VfSettings vf0{0, parseMac("52:54:00:00:00:01"), 100, true, false};
  spec.pfs.push_back({"ens2f1", 2, true, {vf0}});
  spec.hugepages.push_back({2048, 600, -1, ""});
  return spec;
}

class PrepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::copyHost(kHost);
    kernel_ = std::make_unique<FakeKernel>(root_);
    journal_path_ = (root_ / "journal.json").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  HostTopology host() {
    auto fsys = HostFs::open(root_);
    auto topo = discoverHost(*fsys);
    EXPECT_TRUE(topo) << topo.error().str();
    return *topo;
  }
  // Discovery + desired steps + diff, as `vnfctl prepare` does.
  Result<std::vector<Step>> diff(const PrepareSpec& spec, Journal& journal) {
    auto steps = desiredSteps(host(), spec);
    if (!steps) return steps;
    return Preparer(root_.string(), *kernel_, journal).diff(*steps);
  }
  Result<std::vector<Step>> prepare(const PrepareSpec& spec) {
    auto journal = Journal::load(journal_path_);
    auto changes = diff(spec, *journal);
    if (!changes) return changes;
    return Preparer(root_.string(), *kernel_, *journal).apply(*changes);
  }
  Result<std::vector<Step>> unprepare() {
    auto journal = Journal::load(journal_path_);
    return Preparer(root_.string(), *kernel_, *journal).restoreAll(false);
  }
  std::string vf(int i) {
    std::error_code ec;
    auto t = fs::read_symlink(root_ / "sys/bus/pci/devices" / kPf / fmt::format("virtfn{}", i), ec);
    return ec ? "" : t.filename().string();
  }

  fs::path root_;
  std::unique_ptr<FakeKernel> kernel_;
  std::string journal_path_;
};

TEST_F(PrepTest, DryRunShowsCurrentAndDesiredAndChangesNothing) {
  Journal journal{journal_path_, {}};
  auto changes = diff(twoVfs(), journal);
  ASSERT_TRUE(changes) << changes.error().str();
  std::vector<std::string> text;
  for (const auto& c : *changes) text.push_back(describe(c));
  EXPECT_EQ(text, (std::vector<std::string>{
                      "0000:81:00.1 sriov_numvfs: 0 -> 2", "0000:81:00.1 VF 0 mac: (new VF) -> 52:54:00:00:00:01",
                      "0000:81:00.1 VF 0 vlan: (new VF) -> 100", "0000:81:00.1 VF 0 trust: (new VF) -> on",
                      "0000:81:00.1 VF 0 spoofchk: (new VF) -> off", "0000:81:00.1 VF 0 driver: (new VF) -> vfio-pci",
                      "0000:81:00.1 VF 1 driver: (new VF) -> vfio-pci", std::string(kNode1Pages) + ": 512 -> 600"}));
  EXPECT_TRUE(kernel_->log.empty());
  EXPECT_FALSE(fs::exists(journal_path_));
}

TEST_F(PrepTest, PrepareAppliesRerunIsNoOpUnprepareRestores) {
  auto applied = prepare(twoVfs());
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"), "2");
  for (int i : {0, 1}) {
    ASSERT_FALSE(vf(i).empty());
    EXPECT_EQ(kernel_->driverOf(vf(i)), "vfio-pci") << i;
  }
  auto& s = kernel_->vfs("ens2f1").at(0);
  EXPECT_EQ(formatMac(s.mac), "52:54:00:00:00:01");
  EXPECT_EQ(s.vlan, 100);
  EXPECT_EQ(s.trust, 1);
  EXPECT_EQ(s.spoofchk, 0);
  EXPECT_EQ(kernel_->read(kNode1Pages), "600");
  // Binding went through driver_override, unbind, drivers_probe.
  const std::string dev = "/sys/bus/pci/devices/" + vf(0);
  auto at = std::find(kernel_->log.begin(), kernel_->log.end(), dev + "/driver_override=vfio-pci");
  ASSERT_NE(at, kernel_->log.end());
  EXPECT_EQ(*(at + 1), dev + "/driver/unbind=" + vf(0));
  EXPECT_EQ(*(at + 2), "/sys/bus/pci/drivers_probe=" + vf(0));

  auto journal = Journal::load(journal_path_);
  ASSERT_TRUE(journal);
  ASSERT_FALSE(journal->empty());
  EXPECT_EQ(journal->entries[0].step.kind, StepKind::kNumVfs);
  EXPECT_EQ(journal->entries[0].step.from, "0");
  EXPECT_TRUE(journal->entries[0].done);

  // The same spec again: nothing differs, nothing is written.
  kernel_->log.clear();
  auto again = prepare(twoVfs());
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(kernel_->log.empty());

  auto restored = unprepare();
  ASSERT_TRUE(restored) << restored.error().str();
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"), "0");
  EXPECT_TRUE(vf(0).empty());
  EXPECT_EQ(kernel_->read(kNode1Pages), "512");
  EXPECT_FALSE(fs::exists(journal_path_));
}

TEST_F(PrepTest, ChangingANonZeroCountGoesThroughZeroAndUnprepareRestoresIt) {
  PrepareSpec spec;
  spec.pfs.push_back({"ens2f0", 4, true, {}});  // has 8 VFs; VFs 4-7 on iavf
  auto applied = prepare(spec);
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_EQ(kernel_->log[0], "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs=0");
  EXPECT_EQ(kernel_->log[1], "/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs=4");
  ASSERT_TRUE(unprepare());
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.0/sriov_numvfs"), "8");
}

TEST_F(PrepTest, ExistingVfRebindIsRestoredToItsDriver) {
  // ens2f0 keeps its 8 VFs; VFs 4-7 move from iavf to vfio-pci and back.
  PrepareSpec spec;
  spec.pfs.push_back({"ens2f0", 8, true, {}});
  auto applied = prepare(spec);
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_EQ(applied->size(), 4u);
  EXPECT_EQ(kernel_->driverOf("0000:81:02.4"), "vfio-pci");
  ASSERT_TRUE(unprepare());
  EXPECT_EQ(kernel_->driverOf("0000:81:02.4"), "iavf");
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:02.4/driver_override"), "(null)");
}

struct BadInput {
  const char* name;
  std::function<void(PrepareSpec&, const fs::path&)> change;
  std::vector<std::string> expected;  // substrings of the error
};

class PrepBadInputTest : public PrepTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(PrepBadInputTest, RefusesWithAClearMessageAndChangesNothing) {
  auto spec = twoVfs();
  GetParam().change(spec, root_);
  auto result = prepare(spec);
  ASSERT_FALSE(result);
  for (const auto& e : GetParam().expected)
    EXPECT_NE(result.error().str().find(e), std::string::npos) << result.error().str();
  EXPECT_TRUE(kernel_->log.empty());
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"), "0");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, PrepBadInputTest,
    ::testing::Values(BadInput{"NotSriov",
                               [](PrepareSpec& s, const fs::path&) { s.pfs[0].pf = "eno1"; },
                               {"PF 'eno1' (0000:18:00.0, driver igb) is not SR-IOV capable", "sriov_totalvfs"}},
                      BadInput{"AboveTotalVfs",
                               [](PrepareSpec& s, const fs::path&) { s.pfs[0].num_vfs = 65; },
                               {"can have at most 64 VFs (sriov_totalvfs), asked 65: ask for 64 or fewer"}},
                      BadInput{"UnknownPf",
                               [](PrepareSpec& s, const fs::path&) { s.pfs[0].pf = "ens9"; },
                               {"PF 'ens9' not found", "0000:81:00.1 (ens2f1)"}},
                      BadInput{"VfioNotLoaded",
                               [](PrepareSpec&, const fs::path& r) {
                                 fs::remove_all(r / "sys/bus/pci/drivers/vfio-pci");
                                 for (auto& e : fs::directory_iterator(r / "sys/devices/pci0000:81")) {
                                   std::error_code ec;
                                   if (fs::read_symlink(e.path() / "driver", ec).filename() == "vfio-pci")
                                     fs::remove(e.path() / "driver");
                                 }
                               },
                               {"vfio-pci is not loaded", "modprobe vfio-pci"}},
                      BadInput{"NoHugepagePool",
                               [](PrepareSpec& s, const fs::path&) { s.hugepages[0].node = 7; },
                               {"NUMA node 7 does not exist"}},
                      BadInput{"EveryProblemAtOnce",
                               [](PrepareSpec& s, const fs::path&) {
                                 s.pfs[0].num_vfs = 65;
                                 s.hugepages[0].node = 7;
                               },
                               {"2 problem(s)", "at most 64 VFs", "NUMA node 7"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(PrepTest, IommuGroupSharedWithAHostDriverIsRefusedAndRolledBack) {
  kernel_->vf0_shares_pf_group = true;
  auto result = prepare(twoVfs());
  ASSERT_FALSE(result);
  const auto text = result.error().str();
  EXPECT_NE(text.find("shares IOMMU group 11 with 0000:81:00.1 (bound to i40e)"), std::string::npos) << text;
  EXPECT_NE(text.find("could DMA into memory"), std::string::npos) << text;
  EXPECT_NE(text.find("rolled back"), std::string::npos) << text;
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"), "0");
  EXPECT_EQ(kernel_->read(kNode1Pages), "512");
  EXPECT_FALSE(fs::exists(journal_path_));
}

TEST_F(PrepTest, FewerHugepagesThanAskedIsAnErrorAndRolledBack) {
  kernel_->hugepage_cap = 550;
  PrepareSpec spec;
  spec.hugepages.push_back({2048, 600, 1, ""});
  auto result = prepare(spec);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("granted only 550 of 600 hugepages (hugepages-2048kB) on NUMA node 1"),
            std::string::npos)
      << result.error().str();
  EXPECT_NE(result.error().fix.find("compact_memory"), std::string::npos);
  EXPECT_EQ(kernel_->read(kNode1Pages), "512");
  EXPECT_FALSE(fs::exists(journal_path_));
}

TEST_F(PrepTest, HugetlbfsIsMountedWhenNoneHasTheSizeAndUnmountedOnUndo) {
  PrepareSpec spec;
  spec.hugepages.push_back({1048576, 8, 1, "/mnt/huge-1G"});
  auto applied = prepare(spec);
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_NE(test::readFile(root_ / "proc/mounts").find("/mnt/huge-1G hugetlbfs"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(root_ / "mnt/huge-1G"));
  ASSERT_TRUE(unprepare());
  EXPECT_EQ(test::readFile(root_ / "proc/mounts").find("/mnt/huge-1G"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "mnt/huge-1G"));
}

TEST_F(PrepTest, InterruptedRunThenRerunCompletesAndUnprepareRestoresTheOriginal) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    kernel_->crash_after_writes = 3;  // numvfs, then dies among the VF settings
    (void)prepare(twoVfs());
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 9);
  auto journal = Journal::load(journal_path_);
  ASSERT_TRUE(journal) << journal.error().str();
  ASSERT_FALSE(journal->empty());
  EXPECT_FALSE(journal->entries.back().done);  // the change it was making when it died
  // The fake's netlink state lived in the dead child: the VFs it made read as fresh ones.
  for (int i = 0; i < 2; ++i) kernel_->vfs("ens2f1")[i] = VfLinkState{i, {}, 0, 0, 1};

  auto rerun = prepare(twoVfs());
  ASSERT_TRUE(rerun) << rerun.error().str();
  EXPECT_EQ(kernel_->driverOf(vf(1)), "vfio-pci");
  auto again = Journal::load(journal_path_);
  EXPECT_EQ(again->entries[0].step.from, "0");  // the original survives the rerun
  ASSERT_TRUE(unprepare());
  EXPECT_EQ(kernel_->read("/sys/bus/pci/devices/0000:81:00.1/sriov_numvfs"), "0");
  EXPECT_EQ(kernel_->read(kNode1Pages), "512");
}

TEST_F(PrepTest, PersistWritesUnitAndGrubDropInAndUnprepareRemovesThem) {
  auto spec = twoVfs();
  spec.kernel.isolcpus = "2-7";
  spec.kernel.boot_1g_pages = 4;
  const auto etc = root_ / "persist";
  auto steps = persistSteps(host(), spec, {etc.string(), "/usr/bin/vnfctl", "/var/lib/vnfctl/j.json"});
  Journal journal{journal_path_, {}};
  Preparer p(root_.string(), *kernel_, journal);
  auto changes = p.diff(steps);
  ASSERT_TRUE(changes);
  ASSERT_TRUE(p.apply(*changes));
  const auto unit = test::readFile(etc / "etc/systemd/system/vnfctl-prepare.service");
  EXPECT_NE(unit.find("Before=libvirtd.service"), std::string::npos);
  EXPECT_NE(
      unit.find("ExecStart=/usr/bin/vnfctl prepare --spec /etc/vnfctl/host.yaml --journal /var/lib/vnfctl/j.json"),
      std::string::npos);
  EXPECT_NE(test::readFile(etc / "etc/default/grub.d/vnfctl.cfg")
                .find("intel_iommu=on iommu=pt hugepagesz=1G hugepages=4 isolcpus=2-7"),
            std::string::npos);
  auto reparsed = parsePrepareSpec(test::readFile(etc / "etc/vnfctl/host.yaml"));
  ASSERT_TRUE(reparsed) << reparsed.error().str();
  EXPECT_EQ(reparsed->pfs[0].vfs[0].vlan, 100);
  auto cmds = activationCommands(host(), spec);
  EXPECT_NE(cmds.back().find("update-grub"), std::string::npos);
  ASSERT_TRUE(p.restoreAll(false));
  EXPECT_FALSE(fs::exists(etc / "etc/systemd/system/vnfctl-prepare.service"));
  EXPECT_FALSE(fs::exists(etc / "etc/default/grub.d/vnfctl.cfg"));
}

TEST_F(PrepTest, SecondLockHolderWaitsThenFailsNamingTheHolder) {
  const auto path = (root_ / "run/prepare.lock").string();
  auto first = HostLock::acquire(path, std::chrono::milliseconds(0), "prepare/unprepare");
  ASSERT_TRUE(first) << first.error().str();
  pid_t child = ::fork();
  if (child == 0) {
    std::string told;
    auto second = HostLock::acquire(path, std::chrono::milliseconds(200), "prepare/unprepare",
                                    [&](const std::string& holder) { told = holder; });
    const std::string holder = fmt::format("pid {} ({})", ::getppid(), selfCommandLine());
    bool ok = !second && second.error().code == Errc::kBusy && told == holder &&
              second.error().message ==
                  fmt::format("another vnfctl prepare/unprepare holds the host lock {}: {}; waited 0 s", path, holder);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// flock is dropped by the kernel when its holder dies, even by SIGKILL: no stale lock to clean.
TEST_F(PrepTest, AHolderKilledWithSigkillReleasesTheLock) {
  const auto path = (root_ / "run/launch.lock").string();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto held = HostLock::acquire(path, std::chrono::milliseconds(0), "launch");
    (void)!::write(ready[1], held ? "y" : "n", 1);
    ::pause();
    ::_exit(0);
  }
  char got = 0;
  ASSERT_EQ(::read(ready[0], &got, 1), 1);
  ASSERT_EQ(got, 'y');
  auto busy = HostLock::acquire(path, std::chrono::milliseconds(0), "launch");
  ASSERT_FALSE(busy) << "the child holds it";
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  auto after = HostLock::acquire(path, std::chrono::milliseconds(0), "launch");
  EXPECT_TRUE(after) << (after ? "" : after.error().message);
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace
}  // namespace vnf::prep

namespace vnf::prep {
namespace {

// Under a --host-root folder the sysfs attributes are regular files: a write replaces the value as
// the kernel's would, and a FIFO or a device in an attribute's place is refused without blocking.
TEST(LiveHostOpsFolder, AWriteReplacesTheValueAndOnlyRegularFilesAreWritten) {
  const auto root = std::filesystem::temp_directory_path() / ("vnf-hostops-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  struct Gone {
    std::filesystem::path p;
    ~Gone() { std::filesystem::remove_all(p); }
  } gone{root};
  const auto dir = root / "sys/kernel/mm/hugepages/hugepages-2048kB";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "nr_hugepages") << "512\n"; }
  LiveHostOps ops{root.string()};
  ASSERT_TRUE(ops.writeAttr("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "32"));
  std::ifstream in(dir / "nr_hugepages");
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "32");  // not "322"

  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto fifo = ops.writeAttr("/sys/kernel/mm/hugepages/hugepages-2048kB/fifo", "1");  // must not block
  ASSERT_FALSE(fifo);
  std::filesystem::create_symlink("/dev/zero", dir / "zero");
  auto zero = ops.writeAttr("/sys/kernel/mm/hugepages/hugepages-2048kB/zero", "1");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().str().find("not a regular file"), std::string::npos) << zero.error().str();
  EXPECT_FALSE(ops.writeAttr("/sys/kernel/mm/hugepages/hugepages-2048kB/missing", "1"));
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

}  // namespace
}  // namespace vnf::prep
