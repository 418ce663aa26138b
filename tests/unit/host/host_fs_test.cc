#include "host/host_fs.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

class HostFsTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = test::makeTempDir("hostfs");
    test::writeFile(root_ / "sys/devices/pci0000:00/0000:00:03.0/numa_node", "1\n");
    fs::create_directories(root_ / "sys/bus/pci/devices");
    fs::create_symlink("../../../devices/pci0000:00/0000:00:03.0", root_ / "sys/bus/pci/devices/0000:00:03.0");
    // An absolute link must resolve inside the root, never on the real host.
    fs::create_symlink("/sys/devices/pci0000:00", root_ / "sys/abs");
    // ".." above the root stays at the root.
    fs::create_symlink("../../../../../../../../../../sys", root_ / "sys/up");
    fs::create_symlink("loop2", root_ / "sys/loop1");
    fs::create_symlink("loop1", root_ / "sys/loop2");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(HostFsTest, FollowsRelativeLinks) {
  auto fs = HostFs::open(root_);
  ASSERT_TRUE(fs) << fs.error().message;
  auto text = fs->readText("/sys/bus/pci/devices/0000:00:03.0/numa_node");
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "1\n");
  auto target = fs->readLinkTarget("/sys/bus/pci/devices/0000:00:03.0");
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, "/sys/devices/pci0000:00/0000:00:03.0");
}

TEST_F(HostFsTest, AbsoluteLinksAndDotDotStayInsideTheRoot) {
  auto fs = HostFs::open(root_);
  ASSERT_TRUE(fs);
  EXPECT_EQ(*fs->readText("/sys/abs/0000:00:03.0/numa_node"), "1\n");
  EXPECT_EQ(*fs->readText("/sys/up/devices/pci0000:00/0000:00:03.0/numa_node"), "1\n");
  EXPECT_EQ(*fs->readText("/../../sys/devices/pci0000:00/0000:00:03.0/numa_node"), "1\n");
}

TEST_F(HostFsTest, SymlinkLoopIsAClearError) {
  auto fs = HostFs::open(root_);
  ASSERT_TRUE(fs);
  auto text = fs->readText("/sys/loop1/x");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, Errc::kSymlinkLoop);
  EXPECT_EQ(text.error().message, "cannot read /sys/loop1/x: too many levels of symbolic links");
  EXPECT_FALSE(fs->exists("/sys/loop1"));
}

TEST_F(HostFsTest, MissingFileNamesThePathAskedFor) {
  auto fs = HostFs::open(root_);
  ASSERT_TRUE(fs);
  auto text = fs->readText("/sys/bus/pci/devices/0000:00:03.0/sriov_totalvfs");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, Errc::kNotFound);
  EXPECT_EQ(text.error().message, "/sys/bus/pci/devices/0000:00:03.0/sriov_totalvfs does not exist");
}

TEST_F(HostFsTest, UnreadableFileIsAClearError) {
  if (::geteuid() == 0) {
    // root reads files whatever their mode; make the file unreadable another way: a directory.
    auto fs = HostFs::open(root_);
    auto text = fs->readText("/sys/devices");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().message, "/sys/devices is a directory, expected a file");
    return;
  }
  test::writeFile(root_ / "secret", "x");
  fs::permissions(root_ / "secret", fs::perms::none);
  auto fs = HostFs::open(root_);
  auto text = fs->readText("/secret");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, Errc::kUnreadable);
}

TEST(HostFsOpen, NonexistentRootIsRejected) {
  auto fs = HostFs::open("/nonexistent/vnfctl-root");
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(fs.error().message, "host root '/nonexistent/vnfctl-root' does not exist");
  EXPECT_NE(fs.error().fix.find("vnfctl snapshot"), std::string::npos);
}

TEST(HostFsOpen, FileAsRootIsRejected) {
  auto fs = HostFs::open("/proc/self/status");
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().message, "host root '/proc/self/status' is not a directory");
}

TEST_F(HostFsTest, RecordsWhatItRead) {
  auto fs = HostFs::open(root_);
  fs->startRecording();
  ASSERT_TRUE(fs->readText("/sys/bus/pci/devices/0000:00:03.0/numa_node"));
  const auto* log = fs->accessLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->files.at("/sys/devices/pci0000:00/0000:00:03.0/numa_node"), "1\n");
  EXPECT_EQ(log->links.at("/sys/bus/pci/devices/0000:00:03.0"), "../../../devices/pci0000:00/0000:00:03.0");
}

}  // namespace
}  // namespace vnf
