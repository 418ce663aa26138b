// Loading templates: profile names, paths, and the messages for bad ones.
#include <gtest/gtest.h>

#include "tests/unit/domain/fixtures.h"
#include "tests/unit/test_util.h"

namespace vnf::test {
namespace {

TEST(LoadTemplate, ProfileNameResolvesInTheTemplatesDir) {
  auto t = loadTemplate("dpdk-fwd", templatesDir());
  ASSERT_TRUE(t) << t.error().str();
  EXPECT_EQ(t->source(), (templatesDir() / "dpdk-fwd.xml").string());
}

TEST(LoadTemplate, ValueWithSlashOrXmlSuffixIsAPath) {
  auto dir = makeTempDir("tmpl");
  writeFile(dir / "mine.xml", "<domain type='kvm'><name>x</name></domain>");
  auto by_path = loadTemplate((dir / "mine.xml").string(), "/nonexistent");
  ASSERT_TRUE(by_path) << by_path.error().str();
  auto missing = loadTemplate("nothere.xml", templatesDir());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_EQ(missing.error().message, "domain template nothere.xml does not exist");
  std::filesystem::remove_all(dir);
}

TEST(LoadTemplate, UnknownProfileListsProfilesAndSuggestsACloseName) {
  auto t = loadTemplate("dpdk-fw", templatesDir());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::kNotFound);
  EXPECT_EQ(t.error().message, "unknown domain profile 'dpdk-fw': no " + (templatesDir() / "dpdk-fw.xml").string() +
                                   " (profiles: default, dpdk-fwd); did you mean 'dpdk-fwd'?");
  EXPECT_EQ(t.error().fix, "set profile: dpdk-fwd");
}

TEST(LoadTemplate, UnknownProfileWithNothingCloseGetsNoGuess) {
  auto t = loadTemplate("router", templatesDir());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, "unknown domain profile 'router': no " + (templatesDir() / "router.xml").string() +
                                   " (profiles: default, dpdk-fwd)");
  EXPECT_EQ(t.error().fix,
            "set profile to one of the profiles listed, or to the path of a template file (a name containing '/' or "
            "ending in .xml)");
}

TEST(LoadTemplate, NotWellFormedNamesTheFileAndLibxml2sLine) {
  auto dir = makeTempDir("tmpl");
  const auto path = dir / "broken.xml";
  writeFile(path, "<domain type='kvm'>\n  <name>x</name>\n  <devices>\n</domain>\n");
  auto t = loadTemplate(path.string(), templatesDir());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::kBadContent);
  EXPECT_EQ(t.error().message, "domain template " + path.string() +
                                   " is not well-formed XML: line 4: Opening and ending tag mismatch: devices line 3 "
                                   "and domain");
  EXPECT_EQ(t.error().fix, "fix the XML at that line (xmllint --noout domain template " + path.string() + " shows it)");
  std::filesystem::remove_all(dir);
}

TEST(LoadTemplate, NotXmlAtAll) {
  auto t = parseTemplate("name: fw\nvcpus: 2\n", "fw.yaml");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message,
            "domain template fw.yaml is not well-formed XML: line 1: Start tag expected, '<' not found");
}

TEST(LoadTemplate, RootMustBeDomain) {
  auto t = parseTemplate("<?xml version='1.0'?>\n<network>\n  <name>default</name>\n</network>\n", "net.xml");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::kBadContent);
  EXPECT_EQ(t.error().message, "domain template net.xml: the root element is <network> (line 2), expected <domain>");
  EXPECT_EQ(
      t.error().fix,
      "a template is a complete libvirt domain: <domain type='kvm'>...</domain> (see domain-templates/default.xml)");
}

// vnfctl writes <os> itself; a template's firmware ROM is the one part of it that it carries over.
TEST(LoadTemplate, ARomLoaderIsKeptAndAPflashOneRefused) {
  auto rom = parseTemplate(
      "<domain type='kvm'><name>x</name><os><type>hvm</type>"
      "<loader type='rom'> /usr/share/qemu/qboot.rom </loader></os></domain>",
      "rom.xml");
  ASSERT_TRUE(rom) << rom.error().str();
  EXPECT_EQ(rom->loader(), "/usr/share/qemu/qboot.rom");
  auto untyped = parseTemplate("<domain type='kvm'><os><loader>/roms/q.rom</loader></os></domain>", "u.xml");
  ASSERT_TRUE(untyped) << untyped.error().str();
  EXPECT_EQ(untyped->loader(), "/roms/q.rom") << "libvirt's default loader type is rom";
  auto none = parseTemplate("<domain type='kvm'><os><type>hvm</type></os></domain>", "n.xml");
  ASSERT_TRUE(none) << none.error().str();
  EXPECT_EQ(none->loader(), "");

  auto pflash = parseTemplate(
      "<domain type='kvm'>\n<os>\n<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\n"
      "</os></domain>",
      "uefi.xml");
  ASSERT_FALSE(pflash);
  EXPECT_EQ(pflash.error().code, Errc::kBadContent);
  EXPECT_EQ(pflash.error().message,
            "domain template uefi.xml: <os><loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader> (line 3): "
            "vnfctl keeps only a firmware ROM given by absolute path from a template's <os>");
  EXPECT_EQ(pflash.error().fix,
            "write <loader type='rom'>/usr/share/qemu/qboot.rom</loader> (or another ROM), or remove <loader> and set "
            "guest.firmware in the spec");
  auto relative = parseTemplate("<domain type='kvm'><os><loader type='rom'>qboot.rom</loader></os></domain>", "r.xml");
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("<loader type='rom'>qboot.rom</loader>"), std::string::npos);
}

}  // namespace
}  // namespace vnf::test
