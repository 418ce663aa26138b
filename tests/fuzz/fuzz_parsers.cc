// Feeds arbitrary bytes to every sysfs/procfs text parser and checks round-trip properties.
// A crash, sanitizer report or failed property (trap) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/parse.h"

namespace {
void require(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto cpus = vnf::parseCpuList(text)) {
    // Sorted, unique, in range; formatting and parsing again gives the same set.
    for (std::size_t i = 0; i < cpus->size(); ++i) {
      require((*cpus)[i] >= 0 && (*cpus)[i] <= vnf::kMaxCpuId);
      if (i) require((*cpus)[i - 1] < (*cpus)[i]);
    }
    auto again = vnf::parseCpuList(vnf::formatCpuList(*cpus));
    require(again && *again == *cpus);
  }
  if (auto pci = vnf::parsePciAddress(text)) {
    auto again = vnf::parsePciAddress(pci->str());
    require(again && *again == *pci);
  }
  if (auto mac = vnf::parseMac(text)) {
    auto again = vnf::parseMac(vnf::formatMac(*mac));
    require(again && *again == *mac);
  }
  (void)vnf::parseMeminfo(text);
  for (const auto& [key, value] : vnf::parseCmdline(text)) require(key.find('"') == std::string::npos);
  if (auto kib = vnf::parseSizeKib(text)) require(*kib > 0);
  (void)vnf::parseInt(text);
  (void)vnf::parseUnsigned(text);
  (void)vnf::parseHex(text);
  return 0;
}
