// Every template and golden file validates against libvirt's domain.rng; *-invalid.xml must not
// (as libvirt's own virschematest).
#include <gtest/gtest.h>

#include "tests/unit/domain/golden_files.h"

namespace vnf::test {
namespace {

class ValidFile : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(ValidFile, ValidatesAgainstDomainRng) {
  auto ok = validateDomainXml(readFile(GetParam()));
  EXPECT_TRUE(ok) << GetParam() << ": " << ok.error().str();
}

INSTANTIATE_TEST_SUITE_P(Schema, ValidFile, testing::ValuesIn(validDomainFiles()),
                         [](const auto& info) { return testName(info.param); });

class InvalidFile : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(InvalidFile, FailsValidationWithLibxml2sLine) {
  auto ok = validateDomainXml(readFile(GetParam()));
  ASSERT_FALSE(ok) << GetParam() << " validates, but its name says it must not";
  EXPECT_EQ(ok.error().code, Errc::kBadContent);
  EXPECT_TRUE(ok.error().message.starts_with(
      "the domain XML does not validate against /usr/share/libvirt/schemas/domain.rng:\n  line "))
      << ok.error().message;
}

INSTANTIATE_TEST_SUITE_P(Schema, InvalidFile, testing::ValuesIn(xmlFiles(goldenDomainDir(), true)),
                         [](const auto& info) { return testName(info.param); });

TEST(Schema, AtLeastTheExpectedFilesExist) {
  EXPECT_GE(xmlFiles(goldenDomainDir(), false).size(), 3u);
  EXPECT_GE(xmlFiles(goldenDomainDir(), true).size(), 2u);
  EXPECT_GE(xmlFiles(templatesDir(), false).size(), 2u);
}

// libxml2 reports a defect inside an <interleave> at the enclosing element, not the attribute: the
// message points at <cputune> and its line, which is as precise as virt-xml-validate gets.
TEST(Schema, BadVcpupinMessagePointsAtCputune) {
  auto ok = validateDomainXml(readFile(goldenDomainDir() / "vcpupin-cpuset-invalid.xml"));
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("line 28: Extra element cputune in interleave"), std::string::npos)
      << ok.error().message;
}

TEST(Schema, MissingSchemaIsReported) {
  auto ok = validateDomainXml(render(dedicatedSpec(), dedicatedPlacement()), "/nonexistent/domain.rng");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, Errc::kNotFound);
  EXPECT_TRUE(ok.error().message.starts_with("cannot load libvirt's domain schema /nonexistent/domain.rng:"))
      << ok.error().message;
  EXPECT_EQ(ok.error().fix,
            "install libvirt's schemas (Debian: libvirt-daemon ships /usr/share/libvirt/schemas/domain.rng)");
}

TEST(Schema, NotXmlIsReportedBeforeTheSchema) {
  auto ok = validateDomainXml("<domain>");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message,
            "the domain XML is not well-formed XML: line 1: Premature end of data in tag domain line 1");
}

}  // namespace
}  // namespace vnf::test
