// The lifecycle layer against libvirt's in-process test driver (test:///default: no daemon).
#include "virt/vnf_domains.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"

namespace vnf {
namespace {

std::string golden(const char* name) { return test::readFile(test::dataDir() / "golden" / "domain" / name); }

class TestDriver : public testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::open("test:///default", false);
    ASSERT_TRUE(c) << c.error().message;
    conn_.emplace(std::move(*c));
  }
  std::optional<Connection> conn_;
};

TEST_F(TestDriver, DefinedVnfIsListedWithItsMetadataAndUndefinedAgain) {
  ASSERT_TRUE(defineDomain(*conn_, golden("scenario-2socket-fw-node1.xml")));
  auto list = listVnfDomains(*conn_);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 1u) << "the test driver's own domain 'test' is not a VNF";
  const auto& d = list->front();
  EXPECT_EQ(d.name, "fw1");
  EXPECT_EQ(d.state, DomainState::kShutOff);
  EXPECT_TRUE(d.persistent);
  EXPECT_EQ(d.meta.node, 1);
  EXPECT_EQ(d.meta.vcpu_pins, (std::vector<int>{9, 25, 10, 26}));
  ASSERT_EQ(d.meta.vfs.size(), 1u);
  EXPECT_EQ(d.meta.vfs[0].vf.str(), "0000:81:02.0");
  EXPECT_EQ(d.serial_log, "/var/log/vnfctl/fw1.serial.log");
  // Defined, not running: its CPUs and VF are held, and its hugepages are promised.
  auto a = allocationsOf(*list);
  EXPECT_EQ(a.cpus, (std::set<int>{9, 10, 25, 26}));
  EXPECT_TRUE(a.vfs.contains(*parsePciAddress("0000:81:02.0")));
  EXPECT_EQ((a.hugepages[{1, 1048576}]), 4u);
  ASSERT_TRUE(undefineDomain(*conn_, "fw1"));
  auto after = listVnfDomains(*conn_);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST_F(TestDriver, NormalMemoryOfAManagedVnfIsHeldOnItsNode) {
  ASSERT_TRUE(defineDomain(*conn_, golden("shared-nohuge-tap.xml")));  // 1 GiB, no hugepages, node 0
  auto list = listVnfDomains(*conn_);
  ASSERT_TRUE(list) << list.error().message;
  auto a = allocationsOf(*list);
  EXPECT_EQ(a.memory_kib, (std::map<int, std::uint64_t>{{0, 1048576}}));
  EXPECT_TRUE(a.hugepages.empty());
  ASSERT_TRUE(undefineDomain(*conn_, "lab-fw"));
}

TEST_F(TestDriver, ForeignDomainsAreNeverTouched) {
  auto found = findVnfDomain(*conn_, "test");  // the test driver's built-in domain
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, Errc::kConflict);
  EXPECT_EQ(found.error().message, "domain 'test' exists on test:///default but vnfctl does not manage it");
  auto none = findVnfDomain(*conn_, "nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(TestDriver, UndefineRefusesARunningDomain) {
  ASSERT_TRUE(defineDomain(*conn_, golden("scenario-tcg-vm-taps.xml")));
  ASSERT_TRUE(startDomain(*conn_, "fw5"));
  auto r = undefineDomain(*conn_, "fw5");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "fw5 is running; it cannot be undefined while it runs");
  EXPECT_EQ(r.error().fix, "stop it first: vnfctl destroy fw5");
  auto list = listVnfDomains(*conn_);
  ASSERT_TRUE(list);
  EXPECT_TRUE(allocationsOf(*list).hugepages.empty()) << "a running VNF's pages are already out of the free counts";
  ASSERT_TRUE(destroyDomain(*conn_, "fw5"));
  ASSERT_TRUE(undefineDomain(*conn_, "fw5"));
}

TEST_F(TestDriver, InvalidXmlIsRejectedByDefine) {
  auto r = defineDomain(*conn_, golden("missing-name-invalid.xml"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kLibvirt);
  EXPECT_NE(r.error().message.find("cannot define the domain"), std::string::npos);
}

TEST(Connect, ASocketPathThatDoesNotExistIsTheUrisFaultNotTheDaemons) {
  auto c = Connection::open("qemu:///system?socket=/nonexistent/libvirt-sock", true);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kUnreachable);
  EXPECT_EQ(exitCodeOf(c.error().code), 3);
  EXPECT_NE(c.error().message.find("cannot connect to qemu:///system?socket=/nonexistent/libvirt-sock"),
            std::string::npos);
  EXPECT_EQ(c.error().fix,
            "the socket /nonexistent/libvirt-sock named in the URI does not exist: check the URI (qemu:///system uses "
            "/var/run/libvirt/libvirt-sock)");
}

TEST(Connect, AStaleSocketSaysTheDaemonDoesNotAnswer) {
  const auto dir = test::makeTempDir("sock");
  const auto path = (dir / "libvirt-sock").string();
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);  // the file stays, nobody listens: as after a daemon died
  auto c = Connection::open("qemu:///system?socket=" + path, true);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kUnreachable);
  EXPECT_EQ(c.error().fix, "libvirtd does not answer on " + path +
                               " (it may have died and left its socket): restart it ('systemctl restart libvirtd' or "
                               "scripts/libvirt stop && scripts/libvirt start)");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vnf
