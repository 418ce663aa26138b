// The API's SQLite store and the roles file: rows survive a reopen, a failed transaction leaves
// nothing, a link or a second server is refused; roles lines are checked with their line numbers.
#include "api/store.h"

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>

#include "api/notify.h"
#include "api/server.h"
#include "tests/unit/test_util.h"

namespace vnf::api {
namespace {

class StoreTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = test::makeTempDir("store"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db() const { return (dir_ / "api.sqlite").string(); }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, RowsKeepTheirOrderAndSurviveAReopen) {
  {
    auto s = Store::open(db());
    ASSERT_TRUE(s) << s.error().message;
    for (const char* id : {"b", "a", "c"}) ASSERT_TRUE(s->put(Table::kInstances, {{"id", id}, {"n", 1}}));
    ASSERT_TRUE(s->put(Table::kInstances, {{"id", "a"}, {"n", 2}}));  // an update keeps its place
    ASSERT_TRUE(s->put(Table::kOpOccs, {{"id", "o1"}}, "a", "STARTING"));
    ASSERT_TRUE(s->put(Table::kOpOccs, {{"id", "o2"}}, "b", "STARTING"));
  }
  auto s = Store::open(db());
  ASSERT_TRUE(s) << s.error().message;
  auto all = s->list(Table::kInstances);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0]["id"], "b");
  EXPECT_EQ((*all)[1]["id"], "a");
  EXPECT_EQ((*all)[1]["n"], 2);
  auto of_a = s->list(Table::kOpOccs, "a");
  ASSERT_TRUE(of_a);
  ASSERT_EQ(of_a->size(), 1u);
  EXPECT_EQ((*of_a)[0]["id"], "o1");
  ASSERT_TRUE(s->remove(Table::kInstances, "b"));
  auto gone = s->get(Table::kInstances, "b");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  struct stat st {};
  ASSERT_EQ(::stat(db().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, AFailedTransactionLeavesNothing) {
  auto s = Store::open(db());
  ASSERT_TRUE(s);
  auto r = s->transaction([&]() -> Result<void> {
    if (auto ok = s->put(Table::kInstances, {{"id", "x"}}); !ok) return ok;
    return s->transaction([] { return Result<void>(fail(Errc::kConflict, "no")); });
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no");
  auto x = s->get(Table::kInstances, "x");
  ASSERT_TRUE(x);
  EXPECT_FALSE(x->has_value());
  ASSERT_TRUE(s->transaction([&] { return s->put(Table::kInstances, {{"id", "y"}}); }));
  EXPECT_TRUE(s->get(Table::kInstances, "y")->has_value());
}

TEST_F(StoreTest, EveryWriteAndEveryRollbackMovesTheGeneration) {
  auto s = Store::open(db());
  ASSERT_TRUE(s);
  auto g = s->generation();
  ASSERT_TRUE(s->put(Table::kInstances, {{"id", "x"}}));
  EXPECT_GT(s->generation(), g);
  g = s->generation();
  ASSERT_TRUE(s->list(Table::kInstances));
  ASSERT_TRUE(s->get(Table::kInstances, "x"));
  EXPECT_EQ(s->generation(), g);  // reads leave it
  ASSERT_TRUE(s->remove(Table::kInstances, "x"));
  EXPECT_GT(s->generation(), g);
  g = s->generation();
  ASSERT_FALSE(s->transaction([] { return Result<void>(fail(Errc::kConflict, "no")); }));
  EXPECT_GT(s->generation(), g);
}

TEST_F(StoreTest, ASecondServerOnTheSameDatabaseIsBusy) {
  auto first = Store::open(db());
  ASSERT_TRUE(first);
  auto second = Store::open(db());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kBusy);
  EXPECT_NE(second.error().message.find("another vnfctl serve uses the state database"), std::string::npos);
}

TEST_F(StoreTest, ALinkOrAFolderIsRefusedAndLeftAsItIs) {
  ASSERT_EQ(::symlink("/etc/passwd", db().c_str()), 0);
  auto s = Store::open(db());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_NE(s.error().message.find("a symbolic link"), std::string::npos) << s.error().message;
  EXPECT_TRUE(std::filesystem::is_symlink(db()));
  std::filesystem::remove(db());
  std::filesystem::create_directory(db());
  EXPECT_FALSE(Store::open(db()));
}

TEST(Roles, LinesAreReadWithCommentsAndEveryProblemNamesItsLine) {
  auto r = parseRoles("# who\n\noperator CN=orch,O=Example\nreader   CN=ro,O=Example  \n", "roles");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at("CN=orch,O=Example"), Role::kOperator);
  EXPECT_EQ(r->at("CN=ro,O=Example"), Role::kReader);
  auto bad = parseRoles("operator CN=a\nadmin CN=b\n", "roles");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "roles:2: unknown role 'admin'");
  auto dup = parseRoles("operator CN=a\nreader CN=a\n", "roles");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "roles:2: subject 'CN=a' is named twice");
  auto empty = parseRoles("operator\n", "roles");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "roles:1: no certificate subject after 'operator'");
}

TEST(Listen, EveryAddressIsRecognised) {
  EXPECT_TRUE(isAnyAddress("0.0.0.0"));
  EXPECT_TRUE(isAnyAddress("::"));
  EXPECT_TRUE(isAnyAddress("0:0::0"));
  EXPECT_TRUE(isAnyAddress("not-an-address"));
  EXPECT_FALSE(isAnyAddress("127.0.0.1"));
  EXPECT_FALSE(isAnyAddress("2001:db8::1"));
}

TEST(CallbackUri, OnlyHttpsWithAHostAndAPortIsTaken) {
  auto u = parseCallbackUri("https://nfvo.example:8443/notify/x");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "nfvo.example");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/notify/x");
  auto v6 = parseCallbackUri("https://[2001:db8::1]/n");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, "443");
  for (const char* bad : {"http://a/b", "https:///x", "https://user@a/x", "https://a:0/x", "https://a:99999/x",
                          "https://a:8x/x", "https://a/x y", "ftp://a"}) {
    auto r = parseCallbackUri(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

// packaging/vnfctl-serve.service filters system calls (SystemCallFilter=~@privileged, which holds
// @chown). SQLite in WAL mode, running as root, fchown()s the -wal and -shm files it creates to the
// database's owner. Under a filter that kills (systemd's default without SystemCallErrorNumber=)
// opening the store ends the process with SIGSYS; under one that answers EPERM, as the unit sets,
// SQLite ignores the error and the store works. Both in a child process with the same filter on the
// chown calls (x86_64 numbers).
#if defined(__x86_64__)
int storeUnderChownFilter(const std::string& db, std::uint32_t action) {
  pid_t pid = ::fork();
  if (pid == 0) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fchown, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fchownat, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_chown, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_lchown, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, action),
    };
    struct sock_fprog prog {
      static_cast<unsigned short>(sizeof f / sizeof f[0]), f
    };
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(90);
    auto s = Store::open(db);
    if (!s) ::_exit(91);
    if (!s->put(Table::kInstances, {{"id", "a"}})) ::_exit(92);
    auto back = s->get(Table::kInstances, "a");
    ::_exit(back && *back ? 0 : 93);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST_F(StoreTest, TheStoreWorksWhenChownIsFilteredWithAnErrorNumber) {
  int status = storeUnderChownFilter(db(), SECCOMP_RET_ERRNO | EPERM);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  if (::geteuid() != 0) GTEST_SKIP() << "SQLite fchowns its WAL files only as root";
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  status = storeUnderChownFilter(db(), SECCOMP_RET_KILL_PROCESS);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
      << "a killing chown filter did not kill the store's opener (status " << status
      << "): then SystemCallErrorNumber= in the unit is belt and braces, not the fix";
}
#endif

}  // namespace
}  // namespace vnf::api
