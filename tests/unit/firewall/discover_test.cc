// Interfaces from domain XML, and discovery against libvirt's in-process test driver.
#include "firewall/discover.h"

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"
#include "virt/vnf_domains.h"

namespace vnf::fw {
namespace {

TEST(DomainPorts, EveryKindOfInterface) {
  const std::string xml = R"(<domain type="qemu"><name>v</name><devices>
    <interface type="ethernet"><target dev="vnf5a" managed="no"/></interface>
    <interface type="bridge"><source bridge="br-mgmt"/><target dev="vnet4"/></interface>
    <interface type="network"><source network="default"/><target dev="vnet5"/></interface>
    <interface type="network"><source network="default"/></interface>
    <interface type="hostdev"><source><address type="pci" domain="0" bus="1" slot="0" function="1"/></source></interface>
    <interface type="user"/>
  </devices></domain>)";
  auto p = portsOfDomainXml(xml, "v");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ports, (std::vector<std::string>{"vnf5a", "vnet4", "vnet5"}));
  EXPECT_EQ(p->bridges, (std::vector<std::string>{"br-mgmt"}));
  EXPECT_EQ(p->networks, (std::vector<std::string>{"default", "default"}));
  EXPECT_EQ(p->unnamed, 1);
}

TEST(DomainPorts, BrokenXmlIsAnError) {
  auto p = portsOfDomainXml("<domain><devices>", "v");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "libvirt's XML of domain v is not well-formed");
}

TEST(Discover, TestDriverNetworksAndVnfDomains) {
  auto conn = Connection::open("test:///default", false);
  ASSERT_TRUE(conn) << conn.error().message;
  ASSERT_TRUE(defineDomain(*conn, test::readFile(test::dataDir() / "golden" / "domain" / "scenario-tcg-vm-taps.xml")));
  auto d = discoverInterfaces(*conn);
  auto undefined = undefineDomain(*conn, "fw5");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(undefined);
  // test:///default has one active network, "default" on virbr0, and a foreign domain "test"
  // whose interfaces are left alone.
  EXPECT_EQ(d->interfaces.libvirt_bridges, (std::vector<std::string>{"virbr0"}));
  EXPECT_EQ(d->interfaces.vnf_ports, (std::vector<std::string>{"vnf5a", "vnf5b"}));
  EXPECT_TRUE(d->interfaces.vnf_bridges.empty());
}

}  // namespace
}  // namespace vnf::fw
