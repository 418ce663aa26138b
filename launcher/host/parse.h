// Parsers for the text formats of sysfs and procfs: CPU lists, PCI addresses, MAC addresses,
// meminfo, the kernel command line, integers.
//
// They return std::nullopt on malformed input and never throw or crash on any byte sequence
// (they are fuzzed with libFuzzer; see tests/fuzz/). The caller knows which file the text came
// from and turns nullopt into an error naming the file and the expected form.
// This header deliberately avoids <expected> so the fuzz build can use clang 14.
#pragma once

#include "common/text.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vnf {

// Highest CPU number accepted in a list (the kernel's NR_CPUS limit is 8192).
inline constexpr int kMaxCpuId = 8191;

// Strips ASCII whitespace (including the trailing newline sysfs files end with).
std::string_view trim(std::string_view text);

// "0-3,8-11", "5", "" (empty set), "0-15:2/4" (groups, as isolcpus allows). Sorted, unique.
std::optional<std::vector<int>> parseCpuList(std::string_view text);
// The inverse: {0,1,2,3,8} -> "0-3,8".
std::string formatCpuList(const std::vector<int>& cpus);

// Decimal integer, optional leading '-', surrounding whitespace ignored, no overflow.
std::optional<std::int64_t> parseInt(std::string_view text);
// Non-negative decimal integer.
std::optional<std::uint64_t> parseUnsigned(std::string_view text);
// "0x8086" or "8086" (hex).
std::optional<std::uint64_t> parseHex(std::string_view text);

struct PciAddress {
  std::uint32_t domain = 0;
  std::uint8_t bus = 0;
  std::uint8_t device = 0;    // 0..31
  std::uint8_t function = 0;  // 0..7
  std::string str() const;    // "0000:81:00.0"
  auto operator<=>(const PciAddress&) const = default;
};
// "0000:81:00.0" or "81:00.0" (domain 0).
std::optional<PciAddress> parsePciAddress(std::string_view text);

// "52:54:00:12:34:56" (case-insensitive).
std::optional<MacAddress> parseMac(std::string_view text);
std::string formatMac(const MacAddress& mac);

// /proc/meminfo and /sys/devices/system/node/nodeN/meminfo:
//   "MemTotal:  16303964 kB" or "Node 0 MemTotal:  16303964 kB", "HugePages_Total:  0".
// Values with "kB" are in KiB; values without a unit are counts. Keys keep their names.
std::optional<std::map<std::string, std::uint64_t>> parseMeminfo(std::string_view text);

// The kernel command line as (key, value) pairs in order; "quiet" gives ("quiet", "").
// Double quotes group spaces as the kernel does: foo="a b" gives ("foo", "a b").
// Everything after a bare "--" is for init and is not returned.
std::vector<std::pair<std::string, std::string>> parseCmdline(std::string_view text);

// Sizes such as "1G", "2M", "2048k", "1048576" (bytes when no suffix) -> KiB. Used for
// hugepagesz= and hugetlbfs pagesize= options.
std::optional<std::uint64_t> parseSizeKib(std::string_view text);

}  // namespace vnf
