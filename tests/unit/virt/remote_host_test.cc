// Discovery through libvirt's host APIs (for remote URIs): parsers on fixed node-device XML, and
// the whole path against the test driver's host (2 cells x 8 CPUs).
#include "virt/remote_host.h"

#include <gtest/gtest.h>

namespace vnf {
namespace {

const char* kPf = R"(<device>
  <name>pci_0000_81_00_0</name>
  <driver><name>i40e</name></driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain><bus>129</bus><slot>0</slot><function>0</function>
    <product id='0x1572'>Ethernet Controller X710</product>
    <vendor id='0x8086'>Intel Corporation</vendor>
    <capability type='virt_functions' maxCount='64'>
      <address domain='0x0000' bus='0x81' slot='0x02' function='0x0'/>
      <address domain='0x0000' bus='0x81' slot='0x02' function='0x1'/>
    </capability>
    <iommuGroup number='40'><address domain='0x0000' bus='0x81' slot='0x00' function='0x0'/></iommuGroup>
    <numa node='1'/>
  </capability>
</device>)";

const char* kVf = R"(<device>
  <name>pci_0000_81_02_1</name>
  <driver><name>vfio-pci</name></driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain><bus>129</bus><slot>2</slot><function>1</function>
    <product id='0x154c'/><vendor id='0x8086'/>
    <capability type='phys_function'><address domain='0x0000' bus='0x81' slot='0x00' function='0x0'/></capability>
    <iommuGroup number='42'><address domain='0x0000' bus='0x81' slot='0x02' function='0x1'/></iommuGroup>
    <numa node='1'/>
  </capability>
</device>)";

const char* kDisk = R"(<device><name>pci_0000_00_17_0</name><capability type='pci'><class>0x010601</class>
  <domain>0</domain><bus>0</bus><slot>23</slot><function>0</function></capability></device>)";

const char* kNet = R"(<device><name>net_ens2f0_3c_fd_fe_a0_00_00</name><parent>pci_0000_81_00_0</parent>
  <capability type='net'><interface>ens2f0</interface><address>3c:fd:fe:a0:00:00</address>
  <link speed='10000' state='up'/></capability></device>)";

TEST(RemoteHost, NodeDevicesBecomeNicsWithVfs) {
  HostTopology host;
  addNetworkDevices(host, {kPf, kVf, kDisk}, {kNet});
  ASSERT_EQ(host.nics.size(), 2u) << "the SATA controller is not a NIC";
  const PciNic* pf = host.findNic("ens2f0");
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf->address.str(), "0000:81:00.0");
  EXPECT_EQ(pf->driver, "i40e");
  EXPECT_EQ(pf->numa_node, 1);
  EXPECT_EQ(pf->iommu_group, 40);
  ASSERT_TRUE(pf->sriov);
  EXPECT_EQ(pf->sriov->total_vfs, 64);
  EXPECT_EQ(pf->sriov->num_vfs, 2);
  EXPECT_EQ(pf->netdevs.front().speed_mbps, 10000);
  const PciNic* vf = host.nic(*parsePciAddress("0000:81:02.1"));
  ASSERT_NE(vf, nullptr);
  EXPECT_EQ(vf->physfn, pf->address);
  EXPECT_EQ(vf->vf_index, 1);
  EXPECT_EQ(vf->driver, "vfio-pci");
}

TEST(RemoteHost, CapabilitiesWithoutTopologyAreAClearError) {
  auto h = topologyFromCapabilities("<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, "libvirt reports no NUMA topology for this host (no <topology><cells>)");
  EXPECT_NE(h.error().fix.find("vnfctl snapshot"), std::string::npos);
  EXPECT_FALSE(topologyFromCapabilities("not xml"));
}

TEST(RemoteHost, TestDriverHostIsDiscovered) {
  auto conn = Connection::open("test:///default", true);
  ASSERT_TRUE(conn) << conn.error().message;
  auto host = discoverViaLibvirt(*conn);
  ASSERT_TRUE(host) << host.error().message;
  ASSERT_EQ(host->nodes.size(), 2u);
  EXPECT_EQ(formatCpuList(host->nodes[1].cpus), "8-15");
  EXPECT_EQ(host->cpu(9)->package, 1);
  EXPECT_EQ(host->cpu(9)->node, 1);
  EXPECT_EQ(host->nodes[0].mem_total_kib, 2097152u);
  ASSERT_NE(host->nodes[0].pool(2048), nullptr);
  EXPECT_FALSE(host->notes.empty()) << "what libvirt cannot tell is said";
}

}  // namespace
}  // namespace vnf
