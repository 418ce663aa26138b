// The fleet inventory: YAML or JSON, every problem at once with its line, relative snapshots resolved.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "fleet/gather.h"
#include "tests/unit/test_util.h"

namespace vnf::fleet {
namespace {

TEST(FleetInventory, ReadsHostsAndResolvesSnapshotsFromTheFilesFolder) {
  auto inv = parseInventory(
      "hosts:\n  - name: a\n    uri: qemu+ssh://root@a/system\n  - name: b\n    snapshot: snaps/b\n"
      "    uri: qemu:///session?socket=/run/b/sock\n  - {name: c, snapshot: /abs/c}\n",
      "/etc/fleet/inv.yaml");
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_EQ(inv->size(), 3u);
  EXPECT_EQ((*inv)[0].uri, "qemu+ssh://root@a/system");
  EXPECT_EQ((*inv)[0].snapshot, "");
  EXPECT_EQ((*inv)[1].snapshot, "/etc/fleet/snaps/b");
  EXPECT_EQ((*inv)[1].uri, "qemu:///session?socket=/run/b/sock");
  EXPECT_EQ((*inv)[2].snapshot, "/abs/c");
}

TEST(FleetInventory, JsonIsAcceptedToo) {
  auto inv = parseInventory(R"({"hosts": [{"name": "x", "uri": "test:///default"}]})", "inv.json");
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->front().name, "x");
}

TEST(FleetInventory, EveryProblemIsListedWithItsLine) {
  auto inv = parseInventory(
      "hosts:\n  - name: a\n    url: qemu:///system\n  - name: a\n    uri: x\n  - name: -bad\n    uri: x\n"
      "  - name: lonely\n  - just-a-string\n",
      "inv.yaml");
  ASSERT_FALSE(inv);
  EXPECT_EQ(inv.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(inv.error().message,
            "6 problem(s) in the inventory:\n"
            "  - inv.yaml:3: unknown key 'url': did you mean 'uri'?\n"
            "  - inv.yaml:2: host 'a' has neither uri nor snapshot\n"
            "  - inv.yaml:4: host 'a' is listed twice\n"
            "  - inv.yaml:6: host name '-bad' is not 1..64 characters of [A-Za-z0-9._-] starting with a letter or "
            "digit\n"
            "  - inv.yaml:8: host 'lonely' has neither uri nor snapshot\n"
            "  - inv.yaml:9: a host is a map with name, uri and/or snapshot")
      << inv.error().message;
}

TEST(FleetInventory, ShapeErrorsSayHowToWriteIt) {
  auto none = parseInventory("nodes: []\n", "inv.yaml");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "inv.yaml: the inventory needs a list 'hosts:'");
  EXPECT_EQ(none.error().fix, "write it like:\nhosts:\n  - name: edge-01\n    uri: qemu+ssh://root@edge-01/system");
  auto empty = parseInventory("hosts: []\n", "inv.yaml");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "inv.yaml: 'hosts:' is empty");
  auto broken = parseInventory("hosts: [\n", "inv.yaml");
  ASSERT_FALSE(broken);
  EXPECT_TRUE(broken.error().message.starts_with("inv.yaml:")) << broken.error().message;
}

TEST(FleetInventory, AFifoOrADeviceIsRefusedWithoutBlocking) {
  auto dir = test::makeTempDir("fleet-inv");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto fifo = loadInventory((dir / "fifo").string());
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, Errc::kInvalidArgument);
  EXPECT_NE(fifo.error().message.find("FIFO"), std::string::npos) << fifo.error().message;
  auto zero = loadInventory("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("character device"), std::string::npos) << zero.error().message;
  std::filesystem::remove_all(dir);
}

TEST(FleetInventory, AnUnreadableSnapshotMakesTheHostUnreachableNotTheRun) {
  std::vector<InventoryHost> inv{{"good", "", std::string(VNF_TEST_DATA) + "/hosts/1socket-iommu-off"},
                                 {"gone", "", "/nonexistent/snapshot"}};
  auto g = gatherHosts(inv, "web");
  ASSERT_EQ(g.hosts.size(), 1u);
  EXPECT_EQ(g.hosts[0].name, "good");
  EXPECT_EQ(g.hosts[0].topology.nodes.size(), 1u);
  ASSERT_EQ(g.unreachable.size(), 1u);
  EXPECT_EQ(g.unreachable[0].host, "gone");
}

}  // namespace
}  // namespace vnf::fleet
