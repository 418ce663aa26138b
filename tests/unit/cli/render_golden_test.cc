// Scenarios (host tree + spec) rendered end to end (plan -> manifest -> XML) to golden files under
// tests/data/golden/domain/scenario-*.xml. The domain tests (label golden) validate every file
// there against libvirt's domain.rng and define it in libvirt's test driver.
#include <gtest/gtest.h>

#include "cli/domains.h"
#include "discovery/discover.h"
#include "domain/metadata.h"
#include "spec/load.h"
#include "tests/unit/golden.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

struct Scenario {
  const char* host;
  const char* spec;
  const char* golden;
};

class RenderScenario : public testing::TestWithParam<Scenario> {};

TEST_P(RenderScenario, MatchesGoldenAndValidates) {
  auto fs = HostFs::open(test::dataDir() / "hosts" / GetParam().host);
  auto host = discoverHost(*fs);
  ASSERT_TRUE(host) << host.error().message;
  auto spec = loadSpecFile((test::dataDir() / "specs" / GetParam().spec).string());
  ASSERT_TRUE(spec) << spec.error().message;
  cli::RenderOptions options;
  options.templates_dir = VNF_TEMPLATES;
  // The scenario hosts have QEMU's qboot ROM (and nothing else), whatever this machine has.
  options.firmware_exists = [](const std::filesystem::path& p) { return p == lifecycle::kQbootRom; };
  auto domains = cli::renderAll(*host, {}, expandCount(*spec), options);
  ASSERT_TRUE(domains) << domains.error().message;
  ASSERT_EQ(domains->size(), 1u);
  test::expectGolden(std::string("domain/") + GetParam().golden, domains->front().xml);
  // The metadata reads back as the placement that was planned.
  auto meta = readVnfMetadata(domains->front().xml);
  ASSERT_TRUE(meta && *meta);
  EXPECT_EQ((*meta)->node, domains->front().placement.node);
  EXPECT_EQ((*meta)->vcpu_pins, domains->front().placement.vcpu_pins);
}

INSTANTIATE_TEST_SUITE_P(
    Golden, RenderScenario,
    testing::Values(Scenario{"2socket-ht-x710-node1", "fw-node1.yaml", "scenario-2socket-fw-node1.xml"},
                    Scenario{"2socket-ht-x710-node1", "fw-isolate-2m.yaml", "scenario-2socket-isolate-2m.xml"},
                    Scenario{"1socket-isolcpus-rt", "fw-isolcpus.yaml", "scenario-isolcpus-fw.xml"},
                    Scenario{"amd-epyc-2socket-nps2", "fw-amd-preferred.yaml", "scenario-amd-preferred.xml"},
                    Scenario{"1node-tcg-vm", "fw-taps.yaml", "scenario-tcg-vm-taps.xml"},
                    Scenario{"1node-tcg-vm", "fw-taps-fast.yaml", "scenario-tcg-vm-taps-fast.xml"},
                    Scenario{"1node-tcg-vm", "fw-taps-rings.yaml", "scenario-tcg-vm-taps-rings.xml"}),
    [](const testing::TestParamInfo<Scenario>& info) {
      std::string n = info.param.golden;
      for (auto& c : n) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(Render, UnknownTemplateWritesNothingAndNamesTheChoices) {
  auto fs = HostFs::open(test::dataDir() / "hosts" / "2socket-ht-x710-node1");
  auto host = discoverHost(*fs);
  auto spec = parseSpecYaml("name: fw\nmemory: 2G\nprofile: dpdk-fw\n", "t.yaml");
  ASSERT_TRUE(spec);
  cli::RenderOptions options;
  options.templates_dir = VNF_TEMPLATES;
  auto domains = cli::renderAll(*host, {}, {*spec}, options);
  ASSERT_FALSE(domains);
  EXPECT_NE(domains.error().message.find("dpdk-fw"), std::string::npos) << domains.error().message;
  EXPECT_NE(domains.error().message.find("did you mean 'dpdk-fwd'?"), std::string::npos) << domains.error().message;
}

TEST(Render, NameUuidIsStableAndWellFormed) {
  EXPECT_EQ(cli::nameUuid("fw1"), cli::nameUuid("fw1"));
  EXPECT_NE(cli::nameUuid("fw1"), cli::nameUuid("fw2"));
  auto u = cli::nameUuid("fw1");
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '5');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
}

}  // namespace
}  // namespace vnf
