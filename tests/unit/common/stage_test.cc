// stageForQemu and whyUnreadable on a temporary tree: a kernel in a mode-700 folder is copied,
// content-addressed, where QEMU's user (here uid 65534, not root) can read it.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/stage.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kQemuUid = 65534;  // a user that is not root and owns nothing here
constexpr gid_t kQemuGid = 65534;
constexpr const char* kKernelSha = "a0c936696eb7d5ee3192bf53b9d281cecbb40ca9db520de72cb95817ad92ac72";  // "kernel\n"

unsigned modeOf(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

class Stage : public testing::Test {
 protected:
  void SetUp() override {
    base_ = test::makeTempDir("stage");
    fs::permissions(base_, fs::perms(0755));
    fs::create_directories(base_ / "private");
    fs::permissions(base_ / "private", fs::perms(0700));  // like a checkout under /root
    test::writeFile(base_ / "private" / "vmlinuz", "kernel\n");
    fs::permissions(base_ / "private" / "vmlinuz", fs::perms(0644));
    stage_ = base_ / "stage";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  fs::path base_, stage_;
};

TEST_F(Stage, AFileInAPrivateFolderIsCopiedContentAddressed) {
  if (::geteuid() == kQemuUid) GTEST_SKIP() << "the test's QEMU user must be someone else";
  auto kernel = (base_ / "private" / "vmlinuz").string();
  auto got = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(got) << got.error().str();
  const auto want = stage_ / kKernelSha / "vmlinuz";
  EXPECT_TRUE(got->staged);
  EXPECT_EQ(got->path, want.string());
  EXPECT_EQ(got->note, "staged " + kernel + " as " + want.string() +
                           ": QEMU's user (uid 65534) cannot read it (folder " + (base_ / "private").string() +
                           " is mode 0700, owner uid " + std::to_string(::geteuid()) + " gid " +
                           std::to_string(::getegid()) + ")");
  EXPECT_EQ(test::readFile(want), "kernel\n");
  EXPECT_EQ(modeOf(want), 0644u);
  EXPECT_EQ(modeOf(stage_), 0755u);
  EXPECT_EQ(modeOf(stage_ / kKernelSha), 0755u);
  EXPECT_EQ(whyUnreadable(got->path, kQemuUid, kQemuGid), "");
  // Nothing else is left in the stage folder (no temporary file).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(stage_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(Stage, TheSameContentReusesTheCopyAndChangedContentGetsANewOne) {
  auto kernel = (base_ / "private" / "vmlinuz").string();
  auto first = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(first) << first.error().str();
  struct stat before {};
  ASSERT_EQ(::stat(first->path.c_str(), &before), 0);
  auto again = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_EQ(again->path, first->path);
  struct stat after {};
  ASSERT_EQ(::stat(again->path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "an identical staged copy is reused, not rewritten";

  test::writeFile(base_ / "private" / "vmlinuz", "kernel v2\n");
  auto changed = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(changed) << changed.error().str();
  EXPECT_EQ(changed->path,
            (stage_ / "160c5d9651ac5aa4b816749b516f3fbd2a55e6c0c9ce489381012b850407e8a1" / "vmlinuz").string());
  EXPECT_EQ(test::readFile(first->path), "kernel\n") << "the old copy stays for the guest that uses it";
}

TEST_F(Stage, ATamperedCopyIsReplaced) {
  auto kernel = (base_ / "private" / "vmlinuz").string();
  auto first = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(first) << first.error().str();
  test::writeFile(first->path, "not the kernel\n");
  auto again = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_EQ(test::readFile(again->path), "kernel\n");
}

TEST_F(Stage, AReadableFileIsReturnedUnchanged) {
  fs::permissions(base_ / "private", fs::perms(0755));
  auto kernel = (base_ / "private" / "vmlinuz").string();
  auto got = stageForQemu(kernel, kQemuUid, kQemuGid, stage_.string());
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_FALSE(got->staged);
  EXPECT_EQ(got->path, kernel);
  EXPECT_EQ(got->note, "");
  EXPECT_FALSE(fs::exists(stage_)) << "nothing is staged, so nothing is created";
}

struct ModeCase {
  const char* name;
  unsigned folder_mode;
  unsigned file_mode;
  bool file_owned_by_qemu;  // chown (root only)
  bool readable;
};

class Readable : public Stage, public testing::WithParamInterface<ModeCase> {};

TEST_P(Readable, FollowsOwnerGroupOtherBits) {
  const auto& c = GetParam();
  auto kernel = base_ / "private" / "vmlinuz";
  if (c.file_owned_by_qemu) {
    if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
    ASSERT_EQ(::chown(kernel.c_str(), kQemuUid, kQemuGid), 0);
  }
  fs::permissions(base_ / "private", fs::perms(c.folder_mode));
  fs::permissions(kernel, fs::perms(c.file_mode));
  auto why = whyUnreadable(kernel.string(), kQemuUid, kQemuGid);
  EXPECT_EQ(why.empty(), c.readable) << why;
}

INSTANTIATE_TEST_SUITE_P(Table, Readable,
                         testing::Values(ModeCase{"other_rx", 0755, 0644, false, true},
                                         ModeCase{"folder_x_only", 0711, 0604, false, true},
                                         ModeCase{"folder_r_only", 0754, 0644, false, false},
                                         ModeCase{"file_not_other_readable", 0755, 0640, false, false},
                                         ModeCase{"owner_bits_for_the_owner", 0755, 0400, true, true},
                                         ModeCase{"owner_without_r", 0755, 0044, true, false}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StageRoot, RootReadsEverything) { EXPECT_EQ(whyUnreadable("/root", 0, 0), ""); }

TEST_F(Stage, NotARegularFileIsRefused) {
  auto got = stageForQemu(base_.string(), kQemuUid, kQemuGid, stage_.string());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "boot file " + base_.string() + " is a directory, not a regular file");
  EXPECT_EQ(got.error().code, Errc::kInvalidArgument);
}

TEST_F(Stage, AStageFolderQemuCannotReachIsAnError) {
  auto kernel = (base_ / "private" / "vmlinuz").string();
  auto got = stageForQemu(kernel, kQemuUid, kQemuGid, (base_ / "private" / "stage").string());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kIo);
  EXPECT_EQ(got.error().message, "cannot stage " + kernel +
                                     " for QEMU (uid 65534): the stage folder is not reachable "
                                     "either: folder " +
                                     (base_ / "private").string() + " is mode 0700, owner uid " +
                                     std::to_string(::geteuid()) + " gid " + std::to_string(::getegid()));
}

TEST(QemuIdentity, ReadsUserAndGroupFromQemuConf) {
  auto dir = test::makeTempDir("qemu-conf");
  test::writeFile(dir / "qemu.conf", "# user = \"root\"\nuser = \"+1234\"\n  group = \"+77\"\n");
  auto id = qemuIdentity((dir / "qemu.conf").string());
  ASSERT_TRUE(id) << id.error().str();
  EXPECT_EQ(id->user, "+1234");
  EXPECT_EQ(id->uid, 1234u);
  EXPECT_EQ(id->gid, 77u);
  test::writeFile(dir / "other.conf", "user = \"root\"\n");
  auto root = qemuIdentity((dir / "other.conf").string());
  ASSERT_TRUE(root) << root.error().str();
  EXPECT_EQ(root->uid, 0u);
  test::writeFile(dir / "bad.conf", "user = \"no-such-user-here\"\n");
  auto bad = qemuIdentity((dir / "bad.conf").string());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "QEMU's user 'no-such-user-here' (" + (dir / "bad.conf").string() + ") does not exist on this host");
  fs::remove_all(dir);
}

// vnfctl serve runs with UMask=0077 (packaging/vnfctl-serve.service): the folders staging makes
// and the copy must still be 0755/0644, or QEMU's user could not enter them. Modes are set with
// chmod/fchmod, which the umask does not mask (mkdir's and open's modes are masked).
TEST_F(Stage, ModesDoNotDependOnTheUmask) {
  if (::geteuid() == kQemuUid) GTEST_SKIP() << "the test's QEMU user must be someone else";
  const auto root = stage_ / "deeper" / "stage";
  const mode_t old = ::umask(077);
  auto got = stageForQemu((base_ / "private" / "vmlinuz").string(), kQemuUid, kQemuGid, root.string());
  ::umask(old);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(modeOf(stage_), 0755u);
  EXPECT_EQ(modeOf(stage_ / "deeper"), 0755u);
  EXPECT_EQ(modeOf(root), 0755u);
  EXPECT_EQ(modeOf(root / kKernelSha), 0755u);
  EXPECT_EQ(modeOf(got->path), 0644u);
  EXPECT_EQ(whyUnreadable(got->path, kQemuUid, kQemuGid), "");
}

}  // namespace
}  // namespace vnf
