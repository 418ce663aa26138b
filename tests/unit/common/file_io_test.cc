// readUserFile, writeFileSafely, createNewFile and checkBootFile against the files that can hurt:
// pipes, devices, links, folders, huge files, full and read-only filesystems.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/file_io.h"
#include "common/host_lock.h"
#include "tests/unit/test_util.h"
#include "tests/unit/tmpfs.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

class FileIo : public testing::Test {
 protected:
  void SetUp() override { dir_ = test::makeTempDir("file-io"); }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  // Every name in the folder, to show that no temporary file was left behind.
  std::string listing(const fs::path& dir) const {
    std::string out;
    for (const auto& e : fs::directory_iterator(dir)) out += e.path().filename().string() + " ";
    return out;
  }
  fs::path dir_;
};

// ---- reading ----

struct ReadCase {
  const char* name;
  std::function<std::string(const fs::path&)> make;  // returns the path to read
  const char* message;                               // with DIR for the test folder
  const char* fix;
  Errc code;
};

std::string subst(std::string text, const fs::path& dir) {
  for (auto pos = text.find("DIR"); pos != std::string::npos; pos = text.find("DIR", pos)) {
    text.replace(pos, 3, dir.string());
  }
  return text;
}

class ReadUserFile : public FileIo, public testing::WithParamInterface<ReadCase> {};

TEST_P(ReadUserFile, RefusesWithTheWholeMessage) {
  const auto& c = GetParam();
  auto got = readUserFile(c.make(dir_), 100, "VNF spec");
  ASSERT_FALSE(got) << c.name;
  EXPECT_EQ(got.error().message, subst(c.message, dir_));
  EXPECT_EQ(got.error().fix, subst(c.fix, dir_));
  EXPECT_EQ(got.error().code, c.code);
}

const char* kNotRegularFix =
    "give the path of a regular file; vnfctl does not read pipes, devices or sockets, which can block it or feed it "
    "without end";

TEST_F(FileIo, ReadFileTailReadsTheEndAndRefusesWhatIsNotAFile) {
  test::writeFile(at("serial.log"), "line 1\nline 2\nline 3\n");
  auto all = readFileTail(at("serial.log"), 1024, "serial log");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, "line 1\nline 2\nline 3\n");
  auto end = readFileTail(at("serial.log"), 7, "serial log");
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_EQ(*end, "line 3\n");
  auto none = readFileTail(at("serial.log"), 0, "serial log");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  // A FIFO in the log's place: refused at once, never opened (opening it would block).
  ASSERT_EQ(::mkfifo(at("fifo.log").c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto fifo = readFileTail(at("fifo.log"), 1024, "serial log");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "serial log " + at("fifo.log") + " is a FIFO (named pipe), not a regular file");
  auto zero = readFileTail("/dev/zero", 1024, "serial log");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "serial log /dev/zero is a character device, not a regular file");
  auto missing = readFileTail(at("nope.log"), 1024, "serial log");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "serial log " + at("nope.log") + " does not exist");
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReadUserFile,
    testing::Values(
        ReadCase{"fifo",
                 [](const fs::path& d) {
                   ::mkfifo((d / "fw.yaml").c_str(), 0600);
                   return (d / "fw.yaml").string();
                 },
                 "VNF spec DIR/fw.yaml is a FIFO (named pipe), not a regular file", kNotRegularFix,
                 Errc::kInvalidArgument},
        ReadCase{"dev-zero", [](const fs::path&) { return std::string("/dev/zero"); },
                 "VNF spec /dev/zero is a character device, not a regular file", kNotRegularFix,
                 Errc::kInvalidArgument},
        ReadCase{"link-to-fifo",
                 [](const fs::path& d) {
                   ::mkfifo((d / "pipe").c_str(), 0600);
                   fs::create_symlink(d / "pipe", d / "fw.yaml");
                   return (d / "fw.yaml").string();
                 },
                 "VNF spec DIR/fw.yaml is a FIFO (named pipe), not a regular file", kNotRegularFix,
                 Errc::kInvalidArgument},
        ReadCase{"directory", [](const fs::path& d) { return d.string(); },
                 "VNF spec DIR is a directory, not a regular file", "give the path of a file inside it (ls DIR)",
                 Errc::kInvalidArgument},
        ReadCase{"missing", [](const fs::path& d) { return (d / "nope.yaml").string(); },
                 "VNF spec DIR/nope.yaml does not exist", "check the path: ls -l DIR", Errc::kInvalidArgument},
        ReadCase{"dangling-link",
                 [](const fs::path& d) {
                   fs::create_symlink(d / "gone", d / "fw.yaml");
                   return (d / "fw.yaml").string();
                 },
                 "VNF spec DIR/fw.yaml does not exist", "check the path: ls -l DIR", Errc::kInvalidArgument},
        ReadCase{"too-big",
                 [](const fs::path& d) {
                   test::writeFile(d / "fw.yaml", std::string(101, 'x'));
                   return (d / "fw.yaml").string();
                 },
                 "VNF spec DIR/fw.yaml is 101 bytes, the limit is 100 bytes",
                 "check that DIR/fw.yaml is the right file; a VNF spec is a small text file", Errc::kInvalidArgument}),
    [](const testing::TestParamInfo<ReadCase>& info) {
      std::string n = info.param.name;
      for (auto& ch : n) ch = ch == '-' ? '_' : ch;
      return n;
    });

TEST_F(FileIo, ReadsARegularFileThroughALink) {
  test::writeFile(dir_ / "real.yaml", "name: fw\n");
  fs::create_symlink(dir_ / "real.yaml", dir_ / "fw.yaml");
  auto got = readUserFile(at("fw.yaml"), 9, "VNF spec");
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, "name: fw\n");
}

TEST_F(FileIo, PermissionDeniedNamesTheFix) {
  if (test::isRoot()) GTEST_SKIP() << "root reads files whatever their mode";
  test::writeFile(dir_ / "fw.yaml", "name: fw\n");
  fs::permissions(dir_ / "fw.yaml", fs::perms::none);
  auto got = readUserFile(at("fw.yaml"), 100, "VNF spec");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "cannot read VNF spec " + at("fw.yaml") + ": permission denied");
}

// ---- writing ----

struct TargetCase {
  const char* name;
  std::function<std::string(const fs::path&)> make;  // returns the target path
  const char* message;
  const char* fix;
};

class WriteRefuses : public FileIo, public testing::WithParamInterface<TargetCase> {};

const char* kWriteFix =
    "give a new file name or the path of a regular file; vnfctl replaces files by rename and never writes through "
    "links or into folders, pipes or devices";

TEST_P(WriteRefuses, AnExistingTargetThatIsNotARegularFile) {
  const auto& c = GetParam();
  auto target = c.make(dir_);
  auto before = listing(dir_);
  auto ok = writeFileSafely(target, "<domain/>\n", 0644);
  ASSERT_FALSE(ok) << c.name;
  EXPECT_EQ(ok.error().message, subst(c.message, dir_));
  EXPECT_EQ(ok.error().fix, subst(c.fix, dir_));
  EXPECT_EQ(ok.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(listing(dir_), before) << "nothing may be created or removed";
}

INSTANTIATE_TEST_SUITE_P(
    Table, WriteRefuses,
    testing::Values(TargetCase{"fifo",
                               [](const fs::path& d) {
                                 ::mkfifo((d / "out.xml").c_str(), 0600);
                                 return (d / "out.xml").string();
                               },
                               "DIR/out.xml is a FIFO (named pipe), not a regular file", kWriteFix},
                    TargetCase{"directory",
                               [](const fs::path& d) {
                                 fs::create_directory(d / "out.xml");
                                 return (d / "out.xml").string();
                               },
                               "DIR/out.xml is a directory, not a regular file", kWriteFix},
                    TargetCase{"dev-null", [](const fs::path&) { return std::string("/dev/null"); },
                               "/dev/null is a character device, not a regular file",
                               "to discard the output, write to stdout and redirect it: > /dev/null"},
                    TargetCase{"link-to-file",
                               [](const fs::path& d) {
                                 test::writeFile(d / "victim", "precious\n");
                                 fs::create_symlink(d / "victim", d / "out.xml");
                                 return (d / "out.xml").string();
                               },
                               "DIR/out.xml is a symbolic link to DIR/victim; vnfctl does not write through links",
                               "give the link's target as the path, or remove the link: rm DIR/out.xml"}),
    [](const testing::TestParamInfo<TargetCase>& info) {
      std::string n = info.param.name;
      for (auto& ch : n) ch = ch == '-' ? '_' : ch;
      return n;
    });

TEST_F(FileIo, ALinkAndItsTargetStayUnchanged) {
  test::writeFile(dir_ / "victim", "precious\n");
  fs::create_symlink(dir_ / "victim", dir_ / "out.xml");
  ASSERT_FALSE(writeFileSafely(at("out.xml"), "new\n", 0644));
  EXPECT_TRUE(fs::is_symlink(dir_ / "out.xml"));
  EXPECT_EQ(fs::read_symlink(dir_ / "out.xml"), dir_ / "victim");
  EXPECT_EQ(test::readFile(dir_ / "victim"), "precious\n");
}

TEST_F(FileIo, ReplacesARegularFileWithTheGivenMode) {
  test::writeFile(dir_ / "out.xml", "old\n");
  auto ok = writeFileSafely(at("out.xml"), "new\n", 0640);
  ASSERT_TRUE(ok) << ok.error().str();
  EXPECT_EQ(test::readFile(dir_ / "out.xml"), "new\n");
  struct stat st {};
  ASSERT_EQ(::stat(at("out.xml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(listing(dir_), "out.xml ");
}

TEST_F(FileIo, AMissingFolderIsNamed) {
  auto ok = writeFileSafely(at("no/such/out.xml"), "x", 0644);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "cannot write " + at("no/such/out.xml") + ": folder " + at("no/such") + " does not exist");
  EXPECT_EQ(ok.error().fix, "create it first: mkdir -p " + at("no/such"));
  EXPECT_EQ(ok.error().code, Errc::kIo);
}

TEST_F(FileIo, AReadOnlyFilesystemIsAClearErrorAndChangesNothing) {
  if (!test::isRoot()) GTEST_SKIP() << "mounting a read-only tmpfs needs root";
  test::Tmpfs ro("file-io-ro");
  ASSERT_TRUE(ro.mounted()) << ro.error();
  test::writeFile(ro.dir() / "out.xml", "old\n");
  ASSERT_TRUE(ro.makeReadOnly()) << ro.error();
  auto target = (ro.dir() / "out.xml").string();
  auto ok = writeFileSafely(target, "new\n", 0644);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "cannot write " + target + ": the filesystem holding " + ro.dir().string() + " is read-only");
  EXPECT_EQ(ok.error().fix,
            "write to a folder on a writable filesystem (findmnt -T " + ro.dir().string() + " shows the mount)");
  EXPECT_EQ(ok.error().code, Errc::kIo);
  EXPECT_EQ(test::readFile(target), "old\n");
  EXPECT_EQ(listing(ro.dir()), "out.xml ");
}

TEST_F(FileIo, AFullFilesystemIsAClearErrorAndLeavesNoTemporaryFile) {
  if (!test::isRoot()) GTEST_SKIP() << "mounting a 64 KiB tmpfs needs root";
  test::Tmpfs full("file-io-full", 64);
  ASSERT_TRUE(full.mounted()) << full.error();
  test::writeFile(full.dir() / "out.xml", "old\n");
  auto target = (full.dir() / "out.xml").string();
  auto ok = writeFileSafely(target, std::string(256 * 1024, 'x'), 0644);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "cannot write " + target + ": no space left on the filesystem holding " +
                                    full.dir().string() + " (262144 bytes (256 KiB) to write)");
  EXPECT_EQ(ok.error().fix, "free space there (df -h " + full.dir().string() + ") or write to another folder");
  EXPECT_EQ(ok.error().code, Errc::kIo);
  EXPECT_EQ(test::readFile(target), "old\n");
  EXPECT_EQ(listing(full.dir()), "out.xml ");
}

TEST_F(FileIo, CreateNewFileRefusesAnExistingName) {
  test::writeFile(dir_ / "a", "old\n");
  auto ok = createNewFile(at("a"), "new\n", 0644);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, at("a") + " already exists");
  EXPECT_EQ(test::readFile(dir_ / "a"), "old\n");
  fs::create_symlink(dir_ / "a", dir_ / "b");
  auto through = createNewFile(at("b"), "new\n", 0644);
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().message,
            at("b") + " is a symbolic link to " + at("a") + "; vnfctl does not write through links");
  EXPECT_EQ(test::readFile(dir_ / "a"), "old\n");
}

// ---- the host lock file (our pid is written into it) ----

TEST_F(FileIo, TheHostLockIsNeverOpenedThroughALink) {
  test::writeFile(dir_ / "victim", "precious\n");
  fs::create_symlink(dir_ / "victim", dir_ / "launch.lock");
  auto lock = HostLock::acquire(at("launch.lock"), std::chrono::milliseconds(0), "launch");
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().message,
            at("launch.lock") + " is a symbolic link to " + at("victim") + "; vnfctl does not write through links");
  EXPECT_EQ(test::readFile(dir_ / "victim"), "precious\n");
  ::mkfifo(at("fifo.lock").c_str(), 0600);
  auto fifo = HostLock::acquire(at("fifo.lock"), std::chrono::milliseconds(0), "launch");
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, at("fifo.lock") + " is a FIFO (named pipe), not a regular file");
}

// ---- boot files ----

TEST_F(FileIo, BootFilesMustBeRegularFilesAfterLinks) {
  test::writeFile(dir_ / "vmlinuz", "kernel");
  fs::create_symlink(dir_ / "vmlinuz", dir_ / "link");
  EXPECT_TRUE(checkBootFile(at("vmlinuz"), "guest.kernel"));
  EXPECT_TRUE(checkBootFile(at("link"), "guest.kernel"));
  auto folder = checkBootFile(dir_.string(), "guest.kernel");
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error().message, "guest.kernel " + dir_.string() + " is a directory, not a regular file");
  EXPECT_EQ(folder.error().fix, "give the path of the image file itself; QEMU needs a regular file to boot from");
  auto zero = checkBootFile("/dev/zero", "guest.disk");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "guest.disk /dev/zero is a character device, not a regular file");
  auto missing = checkBootFile(at("initrd"), "guest.initrd");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "guest.initrd " + at("initrd") + " does not exist");
  EXPECT_EQ(missing.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace vnf
