// Test frames built and parsed back: layout, VLAN tag in-band or from aux data,
// and that foreign frames (other ethertype, no magic, runts) are not taken for ours.
#include <gtest/gtest.h>

#include "frame.h"

namespace vt = vnf::traffic;

namespace {

vt::FrameSpec spec() {
  vt::FrameSpec s;
  s.dst = *vt::parseMac("52:54:00:00:00:02");
  s.src = *vt::parseMac("02:00:00:00:00:01");
  s.run_id = 7;
  return s;
}

}  // namespace

TEST(TrafficFrame, RoundTripUntagged) {
  const auto bytes = vt::buildFrame(spec(), 123456789012ULL);
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ(bytes[12], 0x88);
  EXPECT_EQ(bytes[13], 0xb5);
  const auto frame = vt::parseFrame(bytes, vt::kDefaultEthertype, std::nullopt);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->seq, 123456789012ULL);
  EXPECT_EQ(frame->run_id, 7u);
  EXPECT_EQ(vt::formatMac(frame->dst), "52:54:00:00:00:02");
  EXPECT_EQ(vt::formatMac(frame->src), "02:00:00:00:00:01");
  EXPECT_FALSE(frame->vlan);
}

TEST(TrafficFrame, VlanInBandAndFromAuxData) {
  auto s = spec();
  s.vlan = 100;
  const auto tagged = vt::buildFrame(s, 5);
  EXPECT_EQ(tagged[12], 0x81);
  const auto in_band = vt::parseFrame(tagged, vt::kDefaultEthertype, std::nullopt);
  ASSERT_TRUE(in_band);
  EXPECT_EQ(in_band->vlan, std::optional<std::uint16_t>(100));
  EXPECT_EQ(in_band->seq, 5u);
  // The kernel stripped the tag: the frame looks untagged, the id comes from PACKET_AUXDATA.
  const auto stripped = vt::parseFrame(vt::buildFrame(spec(), 5), vt::kDefaultEthertype, 100);
  ASSERT_TRUE(stripped);
  EXPECT_EQ(stripped->vlan, std::optional<std::uint16_t>(100));
}

TEST(TrafficFrame, ForeignFramesAreIgnored) {
  auto bytes = vt::buildFrame(spec(), 1);
  EXPECT_FALSE(vt::parseFrame(bytes, 0x0800, std::nullopt)) << "other ethertype";
  bytes[16] ^= 0xff;
  EXPECT_FALSE(vt::parseFrame(bytes, vt::kDefaultEthertype, std::nullopt)) << "magic damaged";
  const std::vector<std::uint8_t> runt(20, 0);
  EXPECT_FALSE(vt::parseFrame(runt, vt::kDefaultEthertype, std::nullopt));
}

TEST(TrafficFrame, JumboFramesCarryAPaddingPatternThatIsChecked) {
  auto s = spec();
  s.size_bytes = 9014;
  auto bytes = vt::buildFrame(s, 42);
  ASSERT_EQ(9014u, bytes.size());
  EXPECT_EQ(vt::paddingByte(0), bytes[14 + 2 + 16 - 2]);  // after ethertype(2) magic(4) run(4) seq(8)
  EXPECT_EQ(vt::paddingByte(9014 - 30 - 1), bytes.back());
  auto frame = vt::parseFrame(bytes, vt::kDefaultEthertype, std::nullopt);
  ASSERT_TRUE(frame);
  EXPECT_EQ(9014u, frame->size_bytes);
  EXPECT_TRUE(frame->padding_intact);

  bytes[5000] ^= 0x01;
  frame = vt::parseFrame(bytes, vt::kDefaultEthertype, std::nullopt);
  ASSERT_TRUE(frame);
  EXPECT_FALSE(frame->padding_intact) << "one flipped bit in the middle";

  bytes[5000] ^= 0x01;
  bytes.resize(1514);
  frame = vt::parseFrame(bytes, vt::kDefaultEthertype, std::nullopt);
  ASSERT_TRUE(frame);
  EXPECT_EQ(1514u, frame->size_bytes) << "truncated";
  EXPECT_TRUE(frame->padding_intact);

  s.vlan = 7;
  const auto tagged = vt::buildFrame(s, 42);
  std::vector<std::uint8_t> stripped(tagged.begin(), tagged.begin() + 12);  // the kernel moved the tag to aux data
  stripped.insert(stripped.end(), tagged.begin() + 16, tagged.end());
  frame = vt::parseFrame(stripped, vt::kDefaultEthertype, 7);
  ASSERT_TRUE(frame);
  EXPECT_EQ(9014u, frame->size_bytes);
  EXPECT_TRUE(frame->padding_intact);
}

TEST(TrafficFrame, MacParsing) {
  EXPECT_TRUE(vt::parseMac("52:54:00:AB:cd:0f"));
  EXPECT_FALSE(vt::parseMac("52:54:00:ab:cd"));
  EXPECT_FALSE(vt::parseMac("52:54:00:ab:cd:0f:11"));
  EXPECT_FALSE(vt::parseMac("nonsense"));
}
