#include "host/parse.h"

#include <gtest/gtest.h>

namespace vnf {
namespace {

struct CpuListCase {
  const char* text;
  std::optional<std::vector<int>> expected;
};

class CpuListTest : public testing::TestWithParam<CpuListCase> {};

TEST_P(CpuListTest, Parses) {
  EXPECT_EQ(parseCpuList(GetParam().text), GetParam().expected) << "input '" << GetParam().text << "'";
}

INSTANTIATE_TEST_SUITE_P(Table, CpuListTest,
                         testing::Values(CpuListCase{"0-3,8-11\n", std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11}},
                                         CpuListCase{"5", std::vector<int>{5}}, CpuListCase{"", std::vector<int>{}},
                                         CpuListCase{"\n", std::vector<int>{}},
                                         CpuListCase{"3,1,1", std::vector<int>{1, 3}},
                                         CpuListCase{"0-7:2/4", std::vector<int>{0, 1, 4, 5}},
                                         CpuListCase{"0-", std::nullopt}, CpuListCase{"-1", std::nullopt},
                                         CpuListCase{"3-1", std::nullopt}, CpuListCase{"a", std::nullopt},
                                         CpuListCase{"1,,2", std::nullopt}, CpuListCase{"0-99999", std::nullopt},
                                         CpuListCase{"8192", std::nullopt}, CpuListCase{"0-3:0/4", std::nullopt},
                                         CpuListCase{"5:1/2", std::nullopt}, CpuListCase{" 1 - 2", std::nullopt}));

TEST(CpuList, FormatRoundTrips) {
  EXPECT_EQ(formatCpuList({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(formatCpuList({}), "");
  EXPECT_EQ(*parseCpuList(formatCpuList({1, 2, 5, 6, 7, 100})), (std::vector<int>{1, 2, 5, 6, 7, 100}));
}

TEST(Integers, ParseStrictly) {
  EXPECT_EQ(parseInt("-1\n"), -1);
  EXPECT_EQ(parseInt("42"), 42);
  EXPECT_EQ(parseInt("abc"), std::nullopt);
  EXPECT_EQ(parseInt("4 2"), std::nullopt);
  EXPECT_EQ(parseInt(""), std::nullopt);
  EXPECT_EQ(parseInt("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parseUnsigned("-5"), std::nullopt);
  EXPECT_EQ(parseUnsigned("7\n"), 7u);
  EXPECT_EQ(parseHex("0x8086\n"), 0x8086u);
  EXPECT_EQ(parseHex("10ca"), 0x10cau);
  EXPECT_EQ(parseHex("0x"), std::nullopt);
  EXPECT_EQ(parseHex("0xzz"), std::nullopt);
}

TEST(PciAddress, ParsesAndFormats) {
  auto a = parsePciAddress("0000:81:00.1\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "0000:81:00.1");
  EXPECT_EQ(parsePciAddress("81:02.7")->str(), "0000:81:02.7");
  EXPECT_EQ(parsePciAddress("10000:81:00.0"), std::nullopt);
  EXPECT_EQ(parsePciAddress("0000:81:20.0"), std::nullopt) << "device > 31";
  EXPECT_EQ(parsePciAddress("0000:81:00.8"), std::nullopt) << "function > 7";
  EXPECT_EQ(parsePciAddress("0000:8g:00.0"), std::nullopt);
  EXPECT_EQ(parsePciAddress("0000:81:00"), std::nullopt);
  EXPECT_EQ(parsePciAddress("eth0"), std::nullopt);
  EXPECT_EQ(parsePciAddress("0000:+1:00.0"), std::nullopt);
}

TEST(Mac, ParsesAndFormats) {
  auto m = parseMac("52:54:00:AB:cd:0f\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(formatMac(*m), "52:54:00:ab:cd:0f");
  EXPECT_EQ(parseMac("52:54:00:ab:cd"), std::nullopt);
  // One parser for the launcher, vnf-fwd and vnf-traffic (common/text.h): '-' separators too, but
  // not mixed, no short bytes, nothing after the sixth byte.
  EXPECT_EQ(formatMac(parseMac("52-54-00-ab-cd-0f").value()), "52:54:00:ab:cd:0f");
  EXPECT_EQ(parseMac("52-54:00:ab:cd:0f"), std::nullopt);
  EXPECT_EQ(parseMac("52:54:00:ab:cd:0g"), std::nullopt);
  EXPECT_EQ(parseMac("52:54:0:ab:cd:0f0"), std::nullopt);
  EXPECT_EQ(parseMac("52:54:00:ab:cd:0f:"), std::nullopt);
  EXPECT_EQ(parseMac(" 2:54:00:ab:cd:0f"), std::nullopt) << "vnf-traffic's sscanf parser took this";
}

TEST(Meminfo, ParsesNodeAndGlobalForms) {
  auto node =
      parseMeminfo("Node 1 MemTotal:       16303964 kB\nNode 1 MemFree:  100 kB\nNode 1 HugePages_Total:     4\n");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->at("MemTotal"), 16303964u);
  EXPECT_EQ(node->at("HugePages_Total"), 4u);
  auto global = parseMeminfo("MemTotal: 100 kB\nHugepagesize:       2048 kB\n");
  ASSERT_TRUE(global);
  EXPECT_EQ(global->at("Hugepagesize"), 2048u);
  EXPECT_EQ(parseMeminfo("MemTotal: -5 kB\n"), std::nullopt);
  EXPECT_EQ(parseMeminfo("MemTotal 5 kB\n"), std::nullopt);
  EXPECT_EQ(parseMeminfo("Node x MemTotal: 5 kB\n"), std::nullopt);
}

TEST(Cmdline, SplitsLikeTheKernel) {
  auto p = parseCmdline("BOOT_IMAGE=/vmlinuz quiet intel_iommu=on,sm_on foo=\"a b\" -- init-arg=1\n");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"BOOT_IMAGE", "/vmlinuz"}));
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"quiet", ""}));
  EXPECT_EQ(p[2], (std::pair<std::string, std::string>{"intel_iommu", "on,sm_on"}));
  EXPECT_EQ(p[3], (std::pair<std::string, std::string>{"foo", "a b"}));
}

TEST(Sizes, ParseToKib) {
  EXPECT_EQ(parseSizeKib("1G"), 1048576u);
  EXPECT_EQ(parseSizeKib("2M"), 2048u);
  EXPECT_EQ(parseSizeKib("2048k"), 2048u);
  EXPECT_EQ(parseSizeKib("2097152"), 2048u);
  EXPECT_EQ(parseSizeKib("1"), std::nullopt);
  EXPECT_EQ(parseSizeKib("G"), std::nullopt);
}

}  // namespace
}  // namespace vnf
