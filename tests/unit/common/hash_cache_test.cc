// cachedSha256: a file is hashed once and its record used while the file is unchanged; any change
// (content, size, a restored mtime, a replaced file) is hashed again; hostile paths are refused.
#include "common/hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

// The tests' files are seconds old at most: records count at once here (kRacyMarginNs is tested
// on its own below).
constexpr long long kNoMargin = 0;
constexpr const char* kKernelSha = "a0c936696eb7d5ee3192bf53b9d281cecbb40ca9db520de72cb95817ad92ac72";  // "kernel\n"

class HashCache : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::makeTempDir("hashcache");
    file_ = dir_ / "vmlinux";
    test::writeFile(file_, "kernel\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string record() const { return test::readFile(file_.string() + kHashRecordSuffix); }
  fs::path dir_, file_;
};

TEST_F(HashCache, HashesOnceThenUsesTheRecord) {
  auto first = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(first) << first.error().str();
  EXPECT_EQ(first->hex, kKernelSha);
  EXPECT_FALSE(first->from_record);
  EXPECT_TRUE(first->recorded);
  EXPECT_TRUE(record().starts_with(std::string("vnfctl-sha256/v1 ") + kKernelSha + " 7 ")) << record();

  auto second = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(second) << second.error().str();
  EXPECT_EQ(second->hex, kKernelSha);
  EXPECT_TRUE(second->from_record);
  EXPECT_FALSE(second->recorded);
}

// A file changed less than kRacyMarginNs ago gets no record: a second write within the same
// timestamp tick would leave size, mtime and ctime as they were.
TEST_F(HashCache, AFreshlyChangedFileGetsNoRecord) {
  auto got = cachedSha256(file_.string(), true);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->recorded);
  EXPECT_FALSE(fs::exists(file_.string() + kHashRecordSuffix));
}

TEST_F(HashCache, WithoutWriteRecordNothingIsWritten) {
  auto got = cachedSha256(file_.string(), false, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->recorded);
  EXPECT_FALSE(fs::exists(file_.string() + kHashRecordSuffix));
}

// The same size, the mtime set back to what it was: the ctime still moved, so it is hashed again.
TEST_F(HashCache, AChangedFileIsHashedAgainEvenWithItsMtimeRestored) {
  ASSERT_TRUE(cachedSha256(file_.string(), true, kNoMargin));
  struct stat before {};
  ASSERT_EQ(::stat(file_.c_str(), &before), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a ctime the kernel can tell apart
  {
    int fd = ::open(file_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "K", 1, 0), 1);  // same size: "Kernel\n"
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::futimens(fd, times), 0);
    ::close(fd);
  }
  struct stat after {};
  ASSERT_EQ(::stat(file_.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  auto got = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_FALSE(got->from_record);
  EXPECT_EQ(got->hex, "deed402d9cd687318929c9cfb34d45cce5c3274a893170a57e0b233c4b0eb4f1");  // "Kernel\n"
}

TEST_F(HashCache, AReplacedFileIsHashedAgain) {
  ASSERT_TRUE(cachedSha256(file_.string(), true, kNoMargin));
  const std::string record_text = record();
  // A new file (another inode) with the same size, moved over the old one; the old record kept.
  test::writeFile(dir_ / "other", "KERNEL\n");
  fs::rename(dir_ / "other", file_);
  test::writeFile(file_.string() + kHashRecordSuffix, record_text);
  auto got = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_FALSE(got->from_record);
  EXPECT_EQ(got->hex, "688d4700ad15c33a624b63d05dc9e764b8f1499a50fdd6239aaa03216ae89999");  // "KERNEL\n"
}

TEST_F(HashCache, ARecordCopiedFromAnotherFileIsNotUsed) {
  test::writeFile(dir_ / "twin", "kernel\n");
  ASSERT_TRUE(cachedSha256((dir_ / "twin").string(), true, kNoMargin));
  // The twin's record beside this file, whose content differs.
  test::writeFile(file_, "kernel!\n");
  fs::copy_file((dir_ / "twin").string() + kHashRecordSuffix, file_.string() + kHashRecordSuffix);
  auto got = cachedSha256(file_.string(), false, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_FALSE(got->from_record);
  EXPECT_EQ(got->hex, "f41aa88a96fff6018c001c9d69c877561dbbf70c6675af8f2aa3184501cdb51b");  // "kernel!\n"
}

TEST(HashRecord, MalformedRecordsGiveNoDigest) {
  struct stat st {};
  st.st_size = 7;
  st.st_mtim = {100, 5};
  st.st_ctim = {200, 6};
  st.st_dev = 3;
  st.st_ino = 4;
  const std::string hex(64, 'a');
  const std::string good = hashRecordText(hex, st, 300000000000);
  EXPECT_EQ(good, "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000006 3 4 300000000000\n");
  EXPECT_EQ(digestFromRecord(good, st), hex);
  // Checked less than a second after the file's last change: a write in the same tick would not show.
  EXPECT_EQ(digestFromRecord(hashRecordText(hex, st, 200000000006 + kRacyMarginNs - 1), st), "");
  EXPECT_EQ(digestFromRecord(hashRecordText(hex, st, 200000000006 + kRacyMarginNs), st), hex);
  for (const std::string& bad : {
           std::string(""),
           "vnfctl-sha256/v2 " + hex + " 7 100000000005 200000000006 3 4 300000000000\n",            // another format
           "vnfctl-sha256/v1 " + hex.substr(1) + " 7 100000000005 200000000006 3 4 300000000000\n",  // 63 digits
           "vnfctl-sha256/v1 " + std::string(64, 'G') + " 7 100000000005 200000000006 3 4 300000000000\n",
           "vnfctl-sha256/v1 " + hex + " 8 100000000005 200000000006 3 4 300000000000\n",    // size
           "vnfctl-sha256/v1 " + hex + " 7 100000000006 200000000006 3 4 300000000000\n",    // mtime
           "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000007 3 4 300000000000\n",    // ctime
           "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000006 9 4 300000000000\n",    // device
           "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000006 3 5 300000000000\n",    // inode
           "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000006 3 4\n",                 // a field short
           "vnfctl-sha256/v1 " + hex + " 7 100000000005 200000000006 3 4 300000000000 x\n",  // one too many
           "vnfctl-sha256/v1 " + hex + " -7 100000000005 200000000006 3 4 300000000000\n",
       }) {
    EXPECT_EQ(digestFromRecord(bad, st), "") << bad;
  }
}

TEST_F(HashCache, AMalformedOrHugeRecordIsIgnoredAndReplaced) {
  test::writeFile(file_.string() + kHashRecordSuffix, "vnfctl-sha256/v1 " + std::string(64, '0') + " garbage\n");
  auto got = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->from_record);
  EXPECT_TRUE(got->recorded);
  EXPECT_TRUE(cachedSha256(file_.string(), false, kNoMargin)->from_record);

  test::writeFile(file_.string() + kHashRecordSuffix, std::string(1 << 20, 'x'));
  got = cachedSha256(file_.string(), false, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->from_record);
}

// A FIFO, /dev/zero, a folder: refused before any read, so nothing blocks or runs forever.
TEST_F(HashCache, NonRegularFilesAreRefused) {
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& p : {fifo.string(), std::string("/dev/zero"), dir_.string(), (dir_ / "missing").string()}) {
    auto got = cachedSha256(p, true, kNoMargin);
    ASSERT_FALSE(got) << p;
    EXPECT_EQ(got.error().code, Errc::kInvalidArgument) << p;
    EXPECT_NE(got.error().message.find(p), std::string::npos) << got.error().message;
  }
  // A link to the file is followed (as the boot file check does); its record sits beside the link.
  fs::create_symlink(file_, dir_ / "link");
  auto linked = cachedSha256((dir_ / "link").string(), false, kNoMargin);
  ASSERT_TRUE(linked) << linked.error().str();
  EXPECT_EQ(linked->hex, kKernelSha);
}

// A record path that is a FIFO is not read (no hang) nor replaced; one that is a link is not
// written through. The digest is right either way.
TEST_F(HashCache, AHostileRecordPathIsNeitherReadNorWrittenThrough) {
  const auto record_path = file_.string() + kHashRecordSuffix;
  ASSERT_EQ(::mkfifo(record_path.c_str(), 0600), 0);
  auto got = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->recorded);
  struct stat st {};
  ASSERT_EQ(::lstat(record_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  fs::remove(record_path);
  const auto target = dir_ / "elsewhere";
  test::writeFile(target, "precious\n");
  fs::create_symlink(target, record_path);
  got = cachedSha256(file_.string(), true, kNoMargin);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->hex, kKernelSha);
  EXPECT_FALSE(got->recorded);
  EXPECT_EQ(test::readFile(target), "precious\n");
}

// Several launches at once: each gets the right digest, and the record left is valid.
TEST_F(HashCache, ConcurrentCallersAgree) {
  test::writeFile(file_, std::string(4 << 20, 'k'));
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto d = cachedSha256(file_.string(), true, kNoMargin);
      got[i] = d ? d->hex : d.error().str();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, got.front());
  EXPECT_EQ(got.front().size(), 64u);
  auto again = cachedSha256(file_.string(), false, kNoMargin);
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_TRUE(again->from_record);
  EXPECT_EQ(again->hex, got.front());
}

}  // namespace
}  // namespace vnf
