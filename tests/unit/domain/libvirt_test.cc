// libvirt itself accepts what we render: each template and golden file is defined in the test
// driver (test:///default, in-process, no daemon) with VIR_DOMAIN_DEFINE_VALIDATE (as
// `virsh define --validate`), read back, and the parts vnfctl relies on must have survived.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <gtest/gtest.h>

#include "tests/unit/domain/golden_files.h"
#include "virt/connection.h"

namespace vnf::test {
namespace {

struct DomainDeleter {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;

std::string takeString(char* s) {
  std::string out = s ? s : "";
  free(s);
  return out;
}

class TestDriver : public testing::TestWithParam<std::filesystem::path> {
 protected:
  void SetUp() override {
    auto c = Connection::open("test:///default", false);
    ASSERT_TRUE(c) << c.error().str();
    conn_.emplace(std::move(*c));
  }
  std::optional<Connection> conn_;
};

// The parts that must survive libvirt's parse and format, compared between what we wrote and
// what libvirt gives back.
const char* const kSurviving[] = {
    "/domain/name",
    "count(/domain/cputune/vcpupin)",
    "/domain/cputune/vcpupin[last()]/@cpuset",
    "/domain/cputune/emulatorpin/@cpuset",
    "/domain/vcpu/@cpuset",
    "/domain/numatune/memory/@mode",
    "/domain/numatune/memory/@nodeset",
    "/domain/numatune/memnode/@nodeset",
    "/domain/memoryBacking/hugepages/page/@size",
    "/domain/memoryBacking/hugepages/page/@nodeset",
    "/domain/cpu/@mode",
    "/domain/cpu/topology/@threads",
    "/domain/cpu/numa/cell/@cpus",
    "count(/domain/devices/interface[@type='hostdev'])",
    // libvirt writes managed='no' by leaving the attribute out.
    "string(/domain/devices/interface[@type='hostdev'][1]/@managed = 'yes')",
    "string(/domain/devices/hostdev[1]/@managed = 'yes')",
    "/domain/devices/interface[@type='hostdev'][1]/source/address/@slot",
    "/domain/devices/interface[@type='hostdev'][1]/vlan/tag/@id",
    "/domain/devices/interface[@type='hostdev'][1]/mac/@address",
    "/domain/devices/interface[@type='hostdev'][1]/@trustGuestRxFilters",
    "count(/domain/devices/hostdev)",
    "/domain/devices/hostdev/source/address/@function",
    "/domain/devices/interface[@type='ethernet'][1]/target/@dev",
    "/domain/devices/interface[@type='ethernet'][1]/mtu/@size",
    "/domain/devices/serial/source/@path",
    "/domain/devices/memballoon/@model",
    "/domain/os/cmdline",
    "count(/domain/devices/rng)",
};

TEST_P(TestDriver, DefinesWithValidationAndKeyPartsSurvive) {
  const std::string xml = readFile(GetParam());
  DomainHandle dom(virDomainDefineXMLFlags(conn_->get(), xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE));
  ASSERT_TRUE(dom) << GetParam() << ": " << virGetLastErrorMessage();
  const std::string back = takeString(virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_INACTIVE));
  for (const char* expr : kSurviving) EXPECT_EQ(xpath(back, expr), xpath(xml, expr)) << expr << "\n" << back;
  // Templates have no uuid (libvirt makes one); rendered files keep theirs.
  if (!xpath(xml, "/domain/uuid").empty()) {
    EXPECT_EQ(xpath(back, "/domain/uuid"), xpath(xml, "/domain/uuid"));
  }

  // The metadata as the lifecycle code will read it: by namespace, and inside the whole XML.
  auto ours = readVnfMetadata(xml);
  ASSERT_TRUE(ours) << ours.error().str();
  if (ours->has_value()) {
    const std::string element = takeString(
        virDomainGetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, kVnfMetadataNs, VIR_DOMAIN_AFFECT_CONFIG));
    ASSERT_FALSE(element.empty()) << virGetLastErrorMessage();
    auto by_ns = readVnfMetadata(element);
    ASSERT_TRUE(by_ns) << by_ns.error().str() << "\n" << element;
    EXPECT_EQ(*by_ns, *ours);
    auto in_xml = readVnfMetadata(back);
    ASSERT_TRUE(in_xml) << in_xml.error().str();
    EXPECT_EQ(*in_xml, *ours);
  }
  EXPECT_EQ(virDomainUndefine(dom.get()), 0) << virGetLastErrorMessage();
}

INSTANTIATE_TEST_SUITE_P(Libvirt, TestDriver, testing::ValuesIn(validDomainFiles()),
                         [](const auto& info) { return testName(info.param); });

class TestDriverInvalid : public TestDriver {};

TEST_P(TestDriverInvalid, RefusedByDefineValidate) {
  const std::string xml = readFile(GetParam());
  DomainHandle dom(virDomainDefineXMLFlags(conn_->get(), xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE));
  EXPECT_FALSE(dom) << GetParam() << " was accepted by libvirt";
  if (dom) virDomainUndefine(dom.get());
}

INSTANTIATE_TEST_SUITE_P(Libvirt, TestDriverInvalid, testing::ValuesIn(xmlFiles(goldenDomainDir(), true)),
                         [](const auto& info) { return testName(info.param); });

}  // namespace
}  // namespace vnf::test
