// The firewall journal: round trip, damaged files, and files that are not regular files.
#include "firewall/journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "firewall/firewall.h"
#include "tests/unit/test_util.h"

namespace vnf::fw {
namespace {

class JournalFile : public testing::Test {
 protected:
  void SetUp() override { dir_ = test::makeTempDir("fw-journal"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / kJournalName).string(); }
  std::filesystem::path dir_;
};

Journal sample() {
  Journal j;
  j.netns = 4026531840u;
  j.original.inet = TableState{true, "table inet vnfctl {\n\tchain old {\n\t}\n}\n", {}};
  j.applied.inet = TableState{true, "table inet vnfctl {\n\tchain input {\n\t}\n}\n", {}};
  j.applied.bridge = TableState{true, "table bridge vnfctl {\n}\n", {}};
  j.generated = "table inet vnfctl { \"quoted\" \\ }\n";
  j.isolated_ports = std::vector<std::string>{"vnf1a", "vnf1b"};
  j.pending = PendingConfirm{"0123456789abcdef", 1764547200123, j.original, std::string("{\"previous\": 1}\n")};
  return j;
}

TEST_F(JournalFile, RoundTripsEveryField) {
  const auto j = sample();
  ASSERT_TRUE(saveJournalText(path(), j.toJson()));
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = loadJournal(path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->netns, j.netns);
  EXPECT_TRUE((*back)->original == j.original);
  EXPECT_TRUE((*back)->applied == j.applied);
  EXPECT_EQ((*back)->generated, j.generated);
  EXPECT_EQ((*back)->isolated_ports, j.isolated_ports);
  ASSERT_TRUE((*back)->pending);
  EXPECT_EQ((*back)->pending->token, "0123456789abcdef");
  EXPECT_EQ((*back)->pending->deadline_ms, 1764547200123);
  EXPECT_TRUE((*back)->pending->before == j.original);
  EXPECT_EQ((*back)->pending->previous_journal, "{\"previous\": 1}\n");
  EXPECT_EQ((*back)->toJson(), j.toJson());
}

TEST_F(JournalFile, AJournalFromBeforeIsolatedPortsWereRecordedReadsAsUnknown) {
  auto j = sample();
  j.isolated_ports.reset();
  ASSERT_EQ(j.toJson().find("isolated_ports"), std::string::npos);
  ASSERT_TRUE(saveJournalText(path(), j.toJson()));
  auto back = loadJournal(path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_FALSE((*back)->isolated_ports);
}

TEST_F(JournalFile, PortsNotIsolatedAreThoseTheLastApplyDidNotKnow) {
  Paths paths{dir_.string(), (dir_ / "lock").string(), std::chrono::milliseconds(100)};
  auto none = portsNotIsolated(paths, {"vnf1a"});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none) << "no firewall applied: nothing to say";
  auto j = sample();
  j.netns = 0;  // any namespace
  ASSERT_TRUE(saveJournalText(path(), j.toJson()));
  auto some = portsNotIsolated(paths, {"vnf1a", "vnf2a", "vnf2b", "vnf2a"});
  ASSERT_TRUE(some) << some.error().message;
  ASSERT_TRUE(*some);
  EXPECT_EQ(**some, (std::vector<std::string>{"vnf2a", "vnf2b"})) << "in order, each once";
  auto all = portsNotIsolated(paths, {"vnf1b", "vnf1a"});
  ASSERT_TRUE(all && *all);
  EXPECT_TRUE((*all)->empty());
  j.isolated_ports.reset();
  ASSERT_TRUE(saveJournalText(path(), j.toJson()));
  auto unknown = portsNotIsolated(paths, {"vnf2a"});
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown) << "an older journal does not say what it isolates";
  ASSERT_TRUE(saveJournalText(path(), "{ damaged"));
  EXPECT_FALSE(portsNotIsolated(paths, {"vnf2a"})) << "a damaged journal is an error (the caller decides)";
}

TEST_F(JournalFile, MissingIsNoJournal) {
  auto j = loadJournal(path());
  ASSERT_TRUE(j);
  EXPECT_FALSE(*j);
  EXPECT_TRUE(removeJournal(path())) << "removing a missing journal is fine";
}

TEST_F(JournalFile, DamagedIsAnErrorWithTheWayOut) {
  for (const char* text : {"", "{", "{\"version\": 2}", "{\"version\": 1, \"netns\": 1}", "[]"}) {
    test::writeFile(path(), text);
    auto j = loadJournal(path());
    ASSERT_FALSE(j) << text;
    EXPECT_EQ(j.error().code, Errc::kBadContent);
    EXPECT_EQ(j.error().message.rfind("the firewall journal " + path() + " is damaged: ", 0), 0u) << j.error().message;
    EXPECT_EQ(j.error().fix,
              "vnfctl cannot know what to restore; see docs/firewall.md \"Recovery\": check `nft list "
              "ruleset`, then move " +
                  path() + " away");
  }
}

TEST_F(JournalFile, FifoSymlinkAndFolderAreRefusedUnopened) {
  ASSERT_EQ(::mkfifo(path().c_str(), 0600), 0);
  auto fifo = loadJournal(path());  // would block forever if opened
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "the firewall journal " + path() + " is a FIFO (named pipe), not a regular file");
  auto rm = removeJournal(path());
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(path())) << "a FIFO is not removed";
  ::unlink(path().c_str());

  test::writeFile(dir_ / "elsewhere", sample().toJson());
  std::filesystem::create_symlink(dir_ / "elsewhere", path());
  auto link = loadJournal(path());
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find("is a symbolic link, not a regular file"), std::string::npos)
      << link.error().message;
  auto save = saveJournalText(path(), "x");
  ASSERT_FALSE(save);
  EXPECT_EQ(test::readFile(dir_ / "elsewhere"), sample().toJson()) << "nothing written through the link";
  ::unlink(path().c_str());

  std::filesystem::create_directory(path());
  auto folder = loadJournal(path());
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("is a directory, not a regular file"), std::string::npos);
}

TEST(Netns, IsThisProcesssNamespace) {
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &st), 0);
  EXPECT_EQ(currentNetns(), st.st_ino);
}

}  // namespace
}  // namespace vnf::fw
