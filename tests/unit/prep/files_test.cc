// The files prepare reads and writes: the host spec and the journal are regular files read with a
// cap; the journal is replaced by rename, never written through a link.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "prep/journal.h"
#include "prep/prep_spec.h"

namespace vnf::prep {
namespace {

namespace fs = std::filesystem;

class PrepFiles : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vnfctl-prep-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string read(const fs::path& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  fs::path dir_;
};

TEST_F(PrepFiles, AHostSpecThatIsAFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "host.yaml").c_str(), 0600), 0);
  auto spec = loadPrepareSpec((dir_ / "host.yaml").string());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "host spec " + (dir_ / "host.yaml").string() + " is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(spec.error().code, Errc::kInvalidArgument);
}

TEST_F(PrepFiles, AJournalThatIsAFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "journal.json").c_str(), 0600), 0);
  auto j = Journal::load((dir_ / "journal.json").string());
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().message,
            "prepare journal " + (dir_ / "journal.json").string() + " is a FIFO (named pipe), not a regular file");
}

TEST_F(PrepFiles, TheJournalIsNeverWrittenThroughALink) {
  std::ofstream(dir_ / "victim") << "precious\n";
  fs::create_symlink(dir_ / "victim", dir_ / "journal.json");
  Journal j{(dir_ / "journal.json").string(), {}};
  auto ok = j.save();
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, (dir_ / "journal.json").string() + " is a symbolic link to " +
                                    (dir_ / "victim").string() + "; vnfctl does not write through links");
  EXPECT_EQ(read(dir_ / "victim"), "precious\n");
  EXPECT_TRUE(fs::is_symlink(dir_ / "journal.json"));
}

TEST_F(PrepFiles, TheJournalIsReplacedWholeWithModeSixHundred) {
  std::ofstream(dir_ / "journal.json") << "old";
  Journal j{(dir_ / "journal.json").string(), {}};
  ASSERT_TRUE(j.save());
  EXPECT_EQ(read(dir_ / "journal.json"), "{\n  \"schema\": \"vnfctl.prepare-journal/v1\",\n  \"entries\": []\n}\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "journal.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1) << "no temporary file is left";
}

}  // namespace
}  // namespace vnf::prep
