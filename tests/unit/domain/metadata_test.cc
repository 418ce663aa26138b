// vnfctl's metadata: written by the renderer, read back by the lifecycle code.
#include <gtest/gtest.h>

#include "tests/unit/domain/fixtures.h"

namespace vnf::test {
namespace {

TEST(ReadVnfMetadata, RoundTripsWhatTheRendererWrote) {
  auto s = dedicatedSpec();
  auto p = dedicatedPlacement();
  addVf(s, p, make<NicSpec>([](auto& n) {
          n.vlan = 100;
          n.mtu = 9000;
          n.trust = true;
          n.spoofchk = false;
        }),
        "0000:81:00.0", "0000:81:10.0", 0, "vfio-pci");
  addVf(s, p, make<NicSpec>([](auto& n) { n.hostdev = true; }), "0000:81:00.1", "0000:81:10.1", 5, "iavf");
  auto m = readVnfMetadata(render(s, p));
  ASSERT_TRUE(m) << m.error().str();
  ASSERT_TRUE(m->has_value());
  const VnfMetadata& got = **m;
  EXPECT_EQ(got.spec_hash, "sha256:5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(got.tool_version, "0.1.0");
  EXPECT_EQ(got.image_hash, "sha256:7d793037a0760186574b0282f2f435e7");
  EXPECT_EQ(got.node, 0);
  EXPECT_EQ(got.memory_kib, 4194304u);
  EXPECT_EQ(got.page_size_kib, 1048576u);
  EXPECT_EQ(got.hugepages, 4u);
  EXPECT_EQ(got.vcpu_pins, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_TRUE(got.shared_cpus.empty());
  EXPECT_EQ(got.emulator_cpus, std::vector<int>{1});
  ASSERT_EQ(got.vfs.size(), 2u);
  EXPECT_EQ(got.vfs[0], (VfMetadata{.nic_index = 0,
                                    .pf = pci("0000:81:00.0"),
                                    .vf = pci("0000:81:10.0"),
                                    .vf_index = 0,
                                    .driver = "vfio-pci",
                                    .vlan = 100,
                                    .trust = true,
                                    .spoofchk = false,
                                    .mtu = 9000}));
  EXPECT_EQ(got.vfs[1], (VfMetadata{.nic_index = 1,
                                    .pf = pci("0000:81:00.1"),
                                    .vf = pci("0000:81:10.1"),
                                    .vf_index = 5,
                                    .driver = "iavf",
                                    .vlan = std::nullopt,
                                    .trust = std::nullopt,
                                    .spoofchk = std::nullopt,
                                    .mtu = std::nullopt}));
}

TEST(ReadVnfMetadata, SharedPolicyRecordsTheSharedCpus) {
  auto s = dedicatedSpec();
  s.cpu_policy = CpuPolicy::kShared;
  auto p = dedicatedPlacement();
  p.vcpu_pins.clear();
  p.shared_cpus = {6, 4, 5};
  auto m = readVnfMetadata(render(s, p));
  ASSERT_TRUE(m && m->has_value());
  EXPECT_EQ((*m)->shared_cpus, (std::vector<int>{4, 5, 6}));
  EXPECT_TRUE((*m)->vcpu_pins.empty());
}

TEST(ReadVnfMetadata, AcceptsTheBareElementAsVirDomainGetMetadataReturnsIt) {
  const std::string bare =
      "<vnf xmlns=\"urn:vnfctl:domain:1\"><spec hash=\"h\"/><tool version=\"0.1.0\"/><image hash=\"i\"/>"
      "<placement node=\"1\" page-size-kib=\"2048\" hugepages=\"512\"><vcpupin vcpu=\"1\" cpu=\"7\"/>"
      "<vcpupin vcpu=\"0\" cpu=\"6\"/></placement></vnf>";
  auto m = readVnfMetadata(bare);
  ASSERT_TRUE(m) << m.error().str();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->node, 1);
  EXPECT_EQ((*m)->vcpu_pins, (std::vector<int>{6, 7}));
  EXPECT_EQ((*m)->hugepages, 512u);
}

TEST(ReadVnfMetadata, DomainsWithoutItAreNotOurs) {
  auto m = readVnfMetadata(
      "<domain type='kvm'><name>other</name><metadata><x:y xmlns:x='urn:other'/></metadata>"
      "</domain>");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_value());
  auto none = readVnfMetadata("<domain type='kvm'><name>other</name></domain>");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(ReadVnfMetadata, MalformedElementListsEveryProblem) {
  auto m = readVnfMetadata(
      "<domain><metadata><v:vnf xmlns:v='urn:vnfctl:domain:1'><v:spec/>"
      "<v:placement node='x' page-size-kib='0' hugepages='0'><v:vcpupin vcpu='1' cpu='3'/>"
      "<v:emulatorpin cpus='1-'/></v:placement>"
      "<v:vf nic='0' pf='81:00.0' address='zz' index='1' trust='maybe'/></v:vnf></metadata></domain>");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadContent);
  EXPECT_EQ(m.error().message,
            "vnfctl's metadata (urn:vnfctl:domain:1) is malformed:\n"
            "  <spec> has no 'hash'\n"
            "  <placement> node='x' is not a number\n"
            "  <emulatorpin> cpus='1-' is not a CPU list\n"
            "  vCPU 0 has no <vcpupin>\n"
            "  <vf> address='zz' is not a PCI address\n"
            "  <vf> trust='maybe' is not yes or no");
}

TEST(ReadVnfMetadata, OtherDocumentsAndBrokenXmlAreErrors) {
  auto other = readVnfMetadata("<network><name>default</name></network>");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message,
            "expected a <domain> or a <vnf xmlns='urn:vnfctl:domain:1'> element, found <network>");
  auto broken = readVnfMetadata("<domain>");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message,
            "the domain XML is not well-formed XML: line 1: Premature end of data in tag domain line 1");
}

}  // namespace
}  // namespace vnf::test
