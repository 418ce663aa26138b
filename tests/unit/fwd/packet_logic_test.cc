// Packet logic on hand-built mbufs: no EAL, no mempool.
#include <array>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "packet_logic.h"

namespace vnf::fwd {
namespace {

// An mbuf whose data points into an owned buffer.
struct FakeFrame {
  rte_mbuf mbuf{};
  std::vector<std::uint8_t> data;

  explicit FakeFrame(std::vector<std::uint8_t> bytes) : data(std::move(bytes)) {
    mbuf.buf_addr = data.data();
    mbuf.data_off = 0;
    mbuf.data_len = static_cast<std::uint16_t>(data.size());
    mbuf.pkt_len = static_cast<std::uint32_t>(data.size());
    mbuf.nb_segs = 1;
  }
};

constexpr std::uint8_t kDst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
constexpr std::uint8_t kSrc[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

std::vector<std::uint8_t> frame(std::size_t length, bool vlan, std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(length);
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
  if (vlan && length >= 18) {
    bytes[12] = 0x81;
    bytes[13] = 0x00;  // TPID
    bytes[14] = 0x20;
    bytes[15] = 0x64;  // PCP 1, VID 100
    bytes[16] = 0x08;
    bytes[17] = 0x00;
  }
  return bytes;
}

std::vector<rte_mbuf*> pointers(std::vector<FakeFrame>& frames) {
  std::vector<rte_mbuf*> out;
  for (auto& f : frames) out.push_back(&f.mbuf);
  return out;
}

TEST(PacketLogic, RewriteSetsDestinationAndSourceOfEveryFrame) {
  std::vector<FakeFrame> frames;
  for (std::uint8_t i = 0; i < 37; ++i) frames.emplace_back(frame(64 + i, false, i));  // more than a burst
  const auto originals = [&] {
    std::vector<std::vector<std::uint8_t>> copy;
    for (auto& f : frames) copy.push_back(f.data);
    return copy;
  }();
  auto pkts = pointers(frames);
  std::uint8_t dst[6];
  std::uint8_t src[6];
  std::memcpy(dst, kDst, 6);
  std::memcpy(src, kSrc, 6);
  rewriteMacs(pkts.data(), static_cast<std::uint16_t>(pkts.size()), makeMacHeader(dst, src));
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(frames[i].data.data(), kDst, 6)) << "frame " << i;
    EXPECT_EQ(0, std::memcmp(frames[i].data.data() + 6, kSrc, 6)) << "frame " << i;
    EXPECT_TRUE(std::equal(frames[i].data.begin() + 12, frames[i].data.end(), originals[i].begin() + 12))
        << "bytes after the MACs changed in frame " << i;
  }
}

TEST(PacketLogic, RewriteKeepsVlanTagAndPayload) {
  std::vector<FakeFrame> frames;
  frames.emplace_back(frame(1518, true, 3));
  frames.emplace_back(frame(9018, true, 5));  // jumbo
  const auto before0 = frames[0].data;
  const auto before1 = frames[1].data;
  auto pkts = pointers(frames);
  std::uint8_t dst[6];
  std::uint8_t src[6];
  std::memcpy(dst, kDst, 6);
  std::memcpy(src, kSrc, 6);
  rewriteMacs(pkts.data(), 2, makeMacHeader(dst, src));
  EXPECT_EQ(0x81, frames[0].data[12]);
  EXPECT_EQ(0x00, frames[0].data[13]);
  EXPECT_EQ(0x20, frames[0].data[14]);
  EXPECT_EQ(0x64, frames[0].data[15]);
  EXPECT_TRUE(std::equal(frames[0].data.begin() + 12, frames[0].data.end(), before0.begin() + 12));
  EXPECT_TRUE(std::equal(frames[1].data.begin() + 12, frames[1].data.end(), before1.begin() + 12));
  EXPECT_EQ(1518u, frames[0].mbuf.pkt_len);
}

TEST(PacketLogic, SwapExchangesMacsAndKeepsVlan) {
  std::vector<FakeFrame> frames;
  for (std::uint8_t i = 0; i < 5; ++i) frames.emplace_back(frame(70, i % 2 == 0, i));
  std::vector<std::vector<std::uint8_t>> before;
  for (auto& f : frames) before.push_back(f.data);
  auto pkts = pointers(frames);
  swapMacs(pkts.data(), static_cast<std::uint16_t>(pkts.size()));
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_TRUE(std::equal(frames[i].data.begin(), frames[i].data.begin() + 6, before[i].begin() + 6));
    EXPECT_TRUE(std::equal(frames[i].data.begin() + 6, frames[i].data.begin() + 12, before[i].begin()));
    EXPECT_TRUE(std::equal(frames[i].data.begin() + 12, frames[i].data.end(), before[i].begin() + 12));
  }
  swapMacs(pkts.data(), static_cast<std::uint16_t>(pkts.size()));
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(before[i], frames[i].data);
}

TEST(PacketLogic, RuntFramesAreLeftUntouched) {
  std::vector<FakeFrame> frames;
  frames.emplace_back(frame(11, false, 9));
  const auto before = frames[0].data;
  auto pkts = pointers(frames);
  swapMacs(pkts.data(), 1);
  std::uint8_t dst[6];
  std::uint8_t src[6];
  std::memcpy(dst, kDst, 6);
  std::memcpy(src, kSrc, 6);
  rewriteMacs(pkts.data(), 1, makeMacHeader(dst, src));
  EXPECT_EQ(before, frames[0].data);
}

TEST(PacketLogic, L2fwdDestinationCarriesTheTxPortId) {
  std::uint8_t dst[6];
  l2fwdDestination(3, dst);
  const std::array<std::uint8_t, 6> expected{0x02, 0, 0, 0, 0, 3};
  EXPECT_EQ(0, std::memcmp(dst, expected.data(), 6));
}

TEST(PacketLogic, EmptyBurstIsANoOp) {
  rewriteMacs(nullptr, 0, MacHeader{});
  swapMacs(nullptr, 0);
}

// Frame lengths without FCS, as DPDK reports them. MTU 1500 takes 1514 untagged, 1518 with one
// VLAN tag, 1522 with two (QinQ); one byte more is dropped.
struct OverMtuCase {
  std::size_t length;
  int tags;  // 0, 1 (0x8100) or 2 (0x88a8 then 0x8100)
  bool dropped;
};

TEST(PacketLogic, FramesLongerThanTheMtuAllowsAreRemovedInOrder) {
  const std::vector<OverMtuCase> cases{{64, 0, false},  {1514, 0, false}, {1515, 0, true},  {1518, 1, false},
                                       {1519, 1, true}, {1518, 0, true},  {1522, 2, false}, {1523, 2, true},
                                       {9014, 0, true}, {9018, 1, true},  {1500, 1, false}, {60, 2, false}};
  std::vector<FakeFrame> frames;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto bytes = frame(cases[i].length, cases[i].tags == 1, static_cast<std::uint8_t>(i));
    if (cases[i].tags == 2) {
      const std::uint8_t tags[10] = {0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
      std::memcpy(bytes.data() + 12, tags, sizeof(tags));
    }
    frames.emplace_back(std::move(bytes));
  }
  auto pkts = pointers(frames);
  std::vector<rte_mbuf*> dropped(pkts.size());
  std::uint16_t dropped_count = 0;
  const std::uint16_t kept = removeOverMtu(pkts.data(), static_cast<std::uint16_t>(pkts.size()), maxUntaggedFrame(1500),
                                           dropped.data(), dropped_count);
  std::vector<rte_mbuf*> expected_kept;
  std::vector<rte_mbuf*> expected_dropped;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    (cases[i].dropped ? expected_dropped : expected_kept).push_back(&frames[i].mbuf);
  }
  ASSERT_EQ(6u, expected_kept.size());
  ASSERT_EQ(expected_kept.size(), kept);
  ASSERT_EQ(expected_dropped.size(), dropped_count);
  EXPECT_EQ(expected_kept, std::vector<rte_mbuf*>(pkts.begin(), pkts.begin() + kept));
  EXPECT_EQ(expected_dropped, std::vector<rte_mbuf*>(dropped.begin(), dropped.begin() + dropped_count));
}

TEST(PacketLogic, JumboMtuKeeps9000ByteFramesAndDropsLongerOnes) {
  std::vector<FakeFrame> frames;
  frames.emplace_back(frame(9014, false, 1));
  frames.emplace_back(frame(9018, true, 2));
  frames.emplace_back(frame(9015, false, 3));
  auto pkts = pointers(frames);
  rte_mbuf* dropped[3] = {};
  std::uint16_t dropped_count = 0;
  EXPECT_EQ(2, removeOverMtu(pkts.data(), 3, maxUntaggedFrame(9000), dropped, dropped_count));
  ASSERT_EQ(1, dropped_count);
  EXPECT_EQ(&frames[2].mbuf, dropped[0]);
}

TEST(PacketLogic, SizeClassesFollowRfc2819CountingTheFcs) {
  // pkt_len has no FCS: 60 bytes are a 64-byte frame on the wire.
  EXPECT_EQ(0u, sizeClassOf(14));
  EXPECT_EQ(0u, sizeClassOf(60));
  EXPECT_EQ(1u, sizeClassOf(61));
  EXPECT_EQ(1u, sizeClassOf(123));
  EXPECT_EQ(2u, sizeClassOf(124));
  EXPECT_EQ(2u, sizeClassOf(251));
  EXPECT_EQ(3u, sizeClassOf(252));
  EXPECT_EQ(3u, sizeClassOf(507));
  EXPECT_EQ(4u, sizeClassOf(508));
  EXPECT_EQ(4u, sizeClassOf(1019));
  EXPECT_EQ(5u, sizeClassOf(1020));
  EXPECT_EQ(5u, sizeClassOf(1514));
  EXPECT_EQ(6u, sizeClassOf(1515));
  EXPECT_EQ(6u, sizeClassOf(9230));
  EXPECT_EQ(kSizeClasses, std::size(kSizeClassNames));
}

TEST(PacketLogic, VlanSlotIsTheOuterTagsIdOrUntagged) {
  FakeFrame untagged(frame(64, false, 0));
  untagged.data[12] = 0x08;
  untagged.data[13] = 0x00;
  EXPECT_EQ(kUntaggedSlot, vlanSlotOf(&untagged.mbuf));
  FakeFrame tagged(frame(64, true, 0));  // PCP 1, VID 100: the PCP bits are not part of the id
  EXPECT_EQ(100u, vlanSlotOf(&tagged.mbuf));
  FakeFrame qinq(frame(64, false, 0));
  const std::uint8_t outer[4] = {0x88, 0xa8, 0xef, 0xff};  // PCP 7, DEI 0, VID 4095
  std::memcpy(qinq.data.data() + 12, outer, 4);
  EXPECT_EQ(4095u, vlanSlotOf(&qinq.mbuf));
  FakeFrame vid0(frame(64, false, 0));
  const std::uint8_t priority_tag[4] = {0x81, 0x00, 0xa0, 0x00};  // a priority tag: VLAN 0, not untagged
  std::memcpy(vid0.data.data() + 12, priority_tag, 4);
  EXPECT_EQ(0u, vlanSlotOf(&vid0.mbuf));
  FakeFrame runt(frame(14, false, 0));
  runt.data[12] = 0x81;
  runt.data[13] = 0x00;
  EXPECT_EQ(kUntaggedSlot, vlanSlotOf(&runt.mbuf));  // no room for a tag: never read past data_len
}

}  // namespace
}  // namespace vnf::fwd
