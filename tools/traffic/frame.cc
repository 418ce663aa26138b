#include "frame.h"

#include "common/text.h"

#include <algorithm>
#include <cstdio>

namespace vnf::traffic {
namespace {

void putBe(std::vector<std::uint8_t>& out, std::size_t offset, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[offset + static_cast<std::size_t>(i)] = value & 0xff;
}

std::uint64_t getBe(std::span<const std::uint8_t> in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[offset + static_cast<std::size_t>(i)];
  return value;
}

}  // namespace

std::vector<std::uint8_t> buildFrame(const FrameSpec& spec, std::uint64_t seq) {
  const std::size_t header = spec.vlan ? 18 : 14;
  std::vector<std::uint8_t> frame(std::max({spec.size_bytes, kMinFrameBytes, header + kPayloadBytes}), 0);
  std::copy(spec.dst.begin(), spec.dst.end(), frame.begin());
  std::copy(spec.src.begin(), spec.src.end(), frame.begin() + 6);
  std::size_t offset = 12;
  if (spec.vlan) {
    putBe(frame, offset, kVlanTpid, 2);
    putBe(frame, offset + 2, *spec.vlan & 0x0fff, 2);
    offset += 4;
  }
  putBe(frame, offset, spec.ethertype, 2);
  putBe(frame, offset + 2, kMagic, 4);
  putBe(frame, offset + 6, spec.run_id, 4);
  putBe(frame, offset + 10, seq, 8);
  for (std::size_t i = offset + 2 + kPayloadBytes; i < frame.size(); ++i) {
    frame[i] = paddingByte(i - offset - 2 - kPayloadBytes);
  }
  return frame;
}

std::optional<TestFrame> parseFrame(std::span<const std::uint8_t> bytes, std::uint16_t ethertype,
                                    std::optional<std::uint16_t> vlan_from_aux) {
  if (bytes.size() < 14 + kPayloadBytes) return std::nullopt;
  TestFrame frame;
  std::copy_n(bytes.begin(), 6, frame.dst.begin());
  std::copy_n(bytes.begin() + 6, 6, frame.src.begin());
  std::size_t offset = 12;
  frame.vlan = vlan_from_aux;
  if (!frame.vlan && getBe(bytes, offset, 2) == kVlanTpid) {
    if (bytes.size() < 18 + kPayloadBytes) return std::nullopt;
    frame.vlan = static_cast<std::uint16_t>(getBe(bytes, offset + 2, 2) & 0x0fff);
    offset += 4;
  }
  frame.ethertype = static_cast<std::uint16_t>(getBe(bytes, offset, 2));
  if (frame.ethertype != ethertype || getBe(bytes, offset + 2, 4) != kMagic) return std::nullopt;
  frame.run_id = static_cast<std::uint32_t>(getBe(bytes, offset + 6, 4));
  frame.seq = getBe(bytes, offset + 10, 8);
  frame.size_bytes = bytes.size() + (vlan_from_aux ? 4 : 0);
  frame.padding_intact = true;
  for (std::size_t i = offset + 2 + kPayloadBytes; i < bytes.size() && frame.padding_intact; ++i) {
    frame.padding_intact = bytes[i] == paddingByte(i - offset - 2 - kPayloadBytes);
  }
  return frame;
}

std::optional<Mac> parseMac(const std::string& text) { return vnf::parseMacText(text); }

std::string formatMac(const Mac& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

}  // namespace vnf::traffic
