// Test frames of vnf-traffic: Ethernet (optionally 802.1Q-tagged) with a payload of
// magic, run id and sequence number. Pure functions over byte buffers (no sockets),
// so building and parsing are unit-tested.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vnf::traffic {

using Mac = std::array<std::uint8_t, 6>;

// "VNFT": marks frames this tool sent, so host noise (IPv6 RS, LLDP, ...) is ignored.
inline constexpr std::uint32_t kMagic = 0x564e4654;
inline constexpr std::uint16_t kDefaultEthertype = 0x88b5;  // IEEE 802 local experimental
inline constexpr std::uint16_t kVlanTpid = 0x8100;
inline constexpr std::size_t kMinFrameBytes = 60;  // without FCS
inline constexpr std::size_t kMaxFrameBytes = 9014;
inline constexpr std::size_t kPayloadBytes = 16;  // magic(4) run(4) seq(8)

struct FrameSpec {
  Mac dst{};
  Mac src{};
  std::uint16_t ethertype = kDefaultEthertype;
  std::optional<std::uint16_t> vlan;  // VLAN id 0-4095: adds an 802.1Q tag
  std::size_t size_bytes = 64;        // whole frame without FCS; at least kMinFrameBytes
  std::uint32_t run_id = 0;           // tells this run's frames from an earlier run's stragglers
};

// What a received frame carried, when it is one of ours.
struct TestFrame {
  Mac dst{};
  Mac src{};
  std::optional<std::uint16_t> vlan;
  std::uint16_t ethertype = 0;
  std::uint32_t run_id = 0;
  std::uint64_t seq = 0;
  std::size_t size_bytes = 0;   // length as sent, without FCS (a tag the kernel stripped counts)
  bool padding_intact = false;  // every byte after the payload is paddingByte(i)
};

// Byte i after the 16-byte payload: a pattern, so a truncated, padded or altered frame is noticed.
inline std::uint8_t paddingByte(std::size_t i) { return static_cast<std::uint8_t>(i * 131 + 7); }

// The frame with sequence number seq (big-endian fields in the payload).
std::vector<std::uint8_t> buildFrame(const FrameSpec& spec, std::uint64_t seq);

// Parses bytes as received. vlan_from_aux is the tag the kernel stripped into
// PACKET_AUXDATA, if any. Returns nothing unless ethertype and magic match.
std::optional<TestFrame> parseFrame(std::span<const std::uint8_t> bytes, std::uint16_t ethertype,
                                    std::optional<std::uint16_t> vlan_from_aux);

std::optional<Mac> parseMac(const std::string& text);
std::string formatMac(const Mac& mac);

}  // namespace vnf::traffic
