// Each golden scenario renders byte for byte to its file in tests/data/golden/domain/.
#include <gtest/gtest.h>

#include "tests/unit/domain/scenarios.h"
#include "tests/unit/golden.h"

namespace vnf::test {
namespace {

class Golden : public testing::TestWithParam<Scenario> {};

TEST_P(Golden, RendersToItsGoldenFile) {
  const auto& sc = GetParam();
  auto tmpl = loadTemplate(sc.profile, templatesDir());
  ASSERT_TRUE(tmpl) << tmpl.error().str();
  auto xml = renderDomainXml(*tmpl, inputFor(sc.spec, sc.placement, sc.type));
  ASSERT_TRUE(xml) << xml.error().str();
  expectGolden("domain/" + sc.name + ".xml", *xml);
}

INSTANTIATE_TEST_SUITE_P(Domain, Golden, testing::ValuesIn(goldenScenarios()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& c : n) c = c == '-' ? '_' : c;
  return n;
});

}  // namespace
}  // namespace vnf::test
