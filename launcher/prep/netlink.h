// rtnetlink for SR-IOV VF settings (what `ip link set PF vf N mac/vlan/trust/spoofchk` does),
// through libnl-route-3 on a NETLINK_ROUTE socket: no `ip` process, no user strings in a shell.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "prep/host_ops.h"

namespace vnf::prep::netlink {

// The VFs the PF's driver reports (RTM_GETLINK with RTEXT_FILTER_VF), sorted by index. Errors:
// kNotFound when the PF has no netdev of that name, kIo otherwise.
Result<std::vector<VfLinkState>> vfStates(const std::string& ifname);
// IFLA_VF_STATS of each VF of a PF (RTM_GETLINK with IFLA_EXT_MASK RTEXT_FILTER_VF), by VF index:
// "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "broadcast", "multicast", and "rx_dropped",
// "tx_dropped" where the kernel gives them (5.9+). A VF the driver reports no statistics for is
// absent. Parsed from the raw attributes: libnl 3.7 does not read the dropped counters. Errors as
// vfStates.
Result<std::map<int, std::map<std::string, std::uint64_t>>> vfStats(const std::string& ifname);
// One link change carrying IFLA_VFINFO_LIST/IFLA_VF_INFO/<field>. Errors name the PF, the VF, the value
// and the kernel's errno text: kConflict when the driver does not support the setting (EOPNOTSUPP),
// kNotFound when the PF has no netdev of that name, kIo otherwise.
Result<void> setVfMac(const std::string& ifname, int vf, const MacAddress& mac);
Result<void> setVfVlan(const std::string& ifname, int vf, int vlan);
Result<void> setVfTrust(const std::string& ifname, int vf, bool on);
Result<void> setVfSpoofchk(const std::string& ifname, int vf, bool on);

}  // namespace vnf::prep::netlink
