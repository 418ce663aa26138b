// Host spec parsing: the documented format, and every problem reported at once with its position.
#include <gtest/gtest.h>

#include "prep/prep_spec.h"

namespace vnf::prep {
namespace {

TEST(PrepSpecTest, ParsesTheDocumentedFormat) {
  auto spec = parsePrepareSpec(R"(
pfs:
  - pf: ens2f1
    vfs: 2
    vf_settings:
      - {index: 0, mac: "52:54:00:00:00:01", vlan: 100, trust: true, spoofchk: false}
hugepages:
  - {size: 2M, count: 64, node: 1}
kernel:
  isolcpus: 2-3
)");
  ASSERT_TRUE(spec) << spec.error().str();
  ASSERT_EQ(spec->pfs.size(), 1u);
  EXPECT_EQ(spec->pfs[0].num_vfs, 2);
  EXPECT_TRUE(spec->pfs[0].vfio);
  EXPECT_EQ(formatMac(*spec->pfs[0].vfs[0].mac), "52:54:00:00:00:01");
  EXPECT_EQ(*spec->pfs[0].vfs[0].spoofchk, false);
  EXPECT_EQ(spec->hugepages[0].page_size_kib, 2048u);
  EXPECT_EQ(spec->hugepages[0].node, 1);
  EXPECT_EQ(spec->kernel.isolcpus, "2-3");
  auto round = parsePrepareSpec(emitPrepareSpec(*spec));
  ASSERT_TRUE(round) << round.error().str();
  EXPECT_EQ(round->pfs[0].vfs[0].vlan, 100);
}

TEST(PrepSpecTest, CollectsEveryProblemWithItsPosition) {
  auto spec = parsePrepareSpec(R"(pfs:
  - pf: ens2f1
    vfs: 2
    vf_settings:
      - {index: 5, mac: "01:00:5e:00:00:01", vlan: 5000}
hugepages:
  - {size: 3M, count: 1}
colour: blue
)");
  ASSERT_FALSE(spec);
  const auto& m = spec.error().message;
  EXPECT_NE(m.find("5 problem(s)"), std::string::npos) << m;
  EXPECT_NE(m.find("5:17: VF index is 5, allowed 0..1"), std::string::npos) << m;
  EXPECT_NE(m.find("is a multicast address"), std::string::npos) << m;
  EXPECT_NE(m.find("vlan is 5000, allowed 0..4094"), std::string::npos) << m;
  EXPECT_NE(m.find("7:12: hugepage size '3M' is not supported: use 2M or 1G"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'colour'"), std::string::npos) << m;
}

}  // namespace
}  // namespace vnf::prep
