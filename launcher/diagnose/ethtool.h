// The NIC's ethtool interface through the SIOCETHTOOL ioctl (what `ethtool -g/-G/-S/-k` do), so
// no ethtool process and no user string in a shell. Every call names the interface and the kernel's
// errno text in its error; EOPNOTSUPP (lo, a veth for some calls, a driver without the hook) is
// kConflict so callers can report "not supported" apart from real failures (kIo, kNotFound).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/error.h"

namespace vnf::ethtool {

struct RingParams {
  std::uint32_t rx = 0;
  std::uint32_t rx_max = 0;
  std::uint32_t tx = 0;
  std::uint32_t tx_max = 0;
  bool operator==(const RingParams&) const = default;
};

// ETHTOOL_GRINGPARAM.
Result<RingParams> rings(const std::string& ifname);
// ETHTOOL_SRINGPARAM with rx/tx (the other fields as read). The driver may reset the link.
Result<void> setRings(const std::string& ifname, std::uint32_t rx, std::uint32_t tx);
// ETHTOOL_GSSET_INFO(ETH_SS_STATS) + ETHTOOL_GSTRINGS + ETHTOOL_GSTATS: the NIC's own counters.
Result<std::map<std::string, std::uint64_t>> stats(const std::string& ifname);
// ETHTOOL_GSSET_INFO(ETH_SS_FEATURES) + ETHTOOL_GSTRINGS + ETHTOOL_GFEATURES: feature -> active.
Result<std::map<std::string, bool>> features(const std::string& ifname);

}  // namespace vnf::ethtool
