#include "prep/netlink.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace vnf::prep::netlink {
namespace {

// unique_ptr deleter calling libnl's free/put function F.
template <auto F>
struct Release {
  template <class T>
  void operator()(T* p) const {
    F(p);
  }
};
using SocketPtr = std::unique_ptr<nl_sock, Release<nl_socket_free>>;
using LinkPtr = std::unique_ptr<rtnl_link, Release<rtnl_link_put>>;
using VfPtr = std::unique_ptr<rtnl_link_vf, Release<rtnl_link_vf_put>>;
using AddrPtr = std::unique_ptr<nl_addr, Release<nl_addr_put>>;
// rtnl_link_vf_set_vlans takes its own reference (libnl 3.7 increments ce_refcnt, whatever its doc
// comment says), so ours is released like any other.
using VlansPtr = std::unique_ptr<nl_vf_vlans_t, Release<rtnl_link_vf_vlan_put>>;

// libnl folds the kernel's errno into its own NLE_* codes (ERANGE and EINVAL both become "Invalid
// input data or parameter"), so the socket keeps the errno of the kernel's error reply: messages show
// the kernel's own words, as `ip link` does. The callback only sees replies to requests acked through
// the socket's callbacks (rtnl_link_change); rtnl_link_get_kernel installs its own and returns NLE_*.
int keepKernelErrno(sockaddr_nl*, nlmsgerr* err, void* arg) {
  *static_cast<int*>(arg) = -err->error;
  return NL_STOP;
}

// `kernel_errno` must outlive the socket.
Result<SocketPtr> connectRoute(int* kernel_errno, const std::string& what) {
  SocketPtr sock(nl_socket_alloc());
  if (!sock) return fail(Errc::kIo, fmt::format("{}: netlink socket: out of memory", what));
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return fail(Errc::kIo, fmt::format("{}: netlink socket: {}", what, nl_geterror(err)));
  }
  nl_socket_modify_err_cb(sock.get(), NL_CB_CUSTOM, keepKernelErrno, kernel_errno);
  return sock;
}

// RTM_GETLINK by name with RTEXT_FILTER_VF (libnl 3.7's rtnl_link_build_get_request always asks for
// the VF list).
Result<LinkPtr> getLink(nl_sock* sock, const std::string& ifname, const std::string& what) {
  rtnl_link* raw = nullptr;
  const int err = rtnl_link_get_kernel(sock, 0, ifname.c_str(), &raw);
  LinkPtr link(raw);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) {
    return fail(Errc::kNotFound, fmt::format("network interface '{}' not found ({})", ifname, nl_geterror(err)),
                "check that the PF is bound to its kernel driver (it must have a netdev for VF settings)");
  }
  if (err < 0) return fail(Errc::kIo, fmt::format("{}: netlink: {}", what, nl_geterror(err)));
  if (!link) return fail(Errc::kBadContent, what + ": unexpected netlink reply");
  return link;
}

// One RTM_NEWLINK (libnl retries as RTM_SETLINK on EOPNOTSUPP, for kernels older than any we run on)
// carrying IFLA_VFINFO_LIST/IFLA_VF_INFO with the index and the one field `set` puts on the VF.
Result<void> changeVf(const std::string& ifname, int vf_index, const std::function<void(rtnl_link_vf*)>& set,
                      const std::string& what) {
  int kernel_errno = 0;
  auto sock = connectRoute(&kernel_errno, what);
  if (!sock) return std::unexpected(sock.error());
  auto orig = getLink(sock->get(), ifname, what);
  if (!orig) return std::unexpected(orig.error());
  LinkPtr changes(rtnl_link_alloc());
  VfPtr vf(rtnl_link_vf_alloc());
  if (!changes || !vf) return fail(Errc::kIo, what + ": out of memory");
  rtnl_link_vf_set_index(vf.get(), static_cast<std::uint32_t>(vf_index));
  set(vf.get());
  if (int err = rtnl_link_vf_add(changes.get(), vf.get()); err < 0) {
    return fail(Errc::kIo, fmt::format("{}: {}", what, nl_geterror(err)));
  }
  const int err = rtnl_link_change(sock->get(), orig->get(), changes.get(), 0);
  if (err >= 0) return {};
  const bool unsupported = kernel_errno == EOPNOTSUPP || (kernel_errno == 0 && err == -NLE_OPNOTSUPP);
  const std::string why = kernel_errno != 0 ? std::strerror(kernel_errno) : nl_geterror(err);
  return fail(unsupported ? Errc::kConflict : Errc::kIo, fmt::format("{}: the kernel refused: {}", what, why),
              unsupported ? "the PF's driver does not support this VF setting; leave it out of the spec" : "");
}

// A libnl 0/1 setting, or -1 when the driver does not report it (libnl leaves it unset then).
int setting(int (*get)(rtnl_link_vf*, std::uint32_t*), rtnl_link_vf* vf) {
  std::uint32_t v = 0;
  return get(vf, &v) < 0 ? -1 : static_cast<int>(v != 0);
}

}  // namespace

Result<std::vector<VfLinkState>> vfStates(const std::string& ifname) {
  const auto what = "reading the VFs of " + ifname;
  int kernel_errno = 0;
  auto sock = connectRoute(&kernel_errno, what);
  if (!sock) return std::unexpected(sock.error());
  auto link = getLink(sock->get(), ifname, what);
  if (!link) return std::unexpected(link.error());
  std::vector<VfLinkState> out;
  std::uint32_t num_vfs = 0;
  // rtnl_link_vf_get dereferences the list unchecked: a PF without VFs has none.
  if (rtnl_link_get_num_vf(link->get(), &num_vfs) < 0 || !rtnl_link_has_vf_list(link->get())) return out;
  std::map<int, VfLinkState> vfs;
  for (std::uint32_t i = 0; i < num_vfs; ++i) {
    VfPtr vf(rtnl_link_vf_get(link->get(), i));
    std::uint32_t index = 0;
    // The kernel's IFLA_VF_MAC carries the index; libnl records none without it.
    if (!vf || rtnl_link_vf_get_index(vf.get(), &index) < 0) continue;
    VfLinkState state;
    state.index = static_cast<int>(index);
    if (nl_addr* addr = nullptr; rtnl_link_vf_get_addr(vf.get(), &addr) == 0 && nl_addr_get_len(addr) >= 6) {
      std::copy_n(static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(addr)), 6, state.mac.begin());
    }
    // libnl reports no VLAN list for VLAN 0.
    if (nl_vf_vlans_t* raw = nullptr; rtnl_link_vf_get_vlans(vf.get(), &raw) == 0) {
      VlansPtr vlans(raw);
      if (vlans->size > 0) state.vlan = static_cast<int>(vlans->vlans[0].vf_vlan);
    }
    state.spoofchk = setting(rtnl_link_vf_get_spoofchk, vf.get());
    state.trust = setting(rtnl_link_vf_get_trust, vf.get());
    vfs[state.index] = state;
  }
  for (auto& [i, vf] : vfs) out.push_back(vf);
  return out;
}

namespace {

using VfStatsMap = std::map<int, std::map<std::string, std::uint64_t>>;

struct VfStatsReply {
  VfStatsMap vfs;
  bool seen = false;
};

// One RTM_NEWLINK reply: IFLA_VFINFO_LIST / IFLA_VF_INFO / {IFLA_VF_MAC (the index), IFLA_VF_STATS}.
int parseVfStats(nl_msg* msg, void* arg) {
  auto* out = static_cast<VfStatsReply*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWLINK) return NL_SKIP;
  nlattr* tb[IFLA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return NL_SKIP;
  out->seen = true;
  if (!tb[IFLA_VFINFO_LIST]) return NL_OK;
  nlattr* info = nullptr;
  int rem = 0;
  nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem) {
    if (nla_type(info) != IFLA_VF_INFO) continue;
    nlattr* vf[IFLA_VF_MAX + 1] = {};
    if (nla_parse_nested(vf, IFLA_VF_MAX, info, nullptr) < 0) continue;
    if (!vf[IFLA_VF_MAC] || nla_len(vf[IFLA_VF_MAC]) < static_cast<int>(sizeof(ifla_vf_mac))) continue;
    if (!vf[IFLA_VF_STATS]) continue;
    ifla_vf_mac mac{};
    std::memcpy(&mac, nla_data(vf[IFLA_VF_MAC]), sizeof mac);
    nlattr* st[IFLA_VF_STATS_MAX + 1] = {};
    if (nla_parse_nested(st, IFLA_VF_STATS_MAX, vf[IFLA_VF_STATS], nullptr) < 0) continue;
    auto& counters = out->vfs[static_cast<int>(mac.vf)];
    const std::pair<int, const char*> names[] = {
        {IFLA_VF_STATS_RX_PACKETS, "rx_packets"}, {IFLA_VF_STATS_TX_PACKETS, "tx_packets"},
        {IFLA_VF_STATS_RX_BYTES, "rx_bytes"},     {IFLA_VF_STATS_TX_BYTES, "tx_bytes"},
        {IFLA_VF_STATS_BROADCAST, "broadcast"},   {IFLA_VF_STATS_MULTICAST, "multicast"},
        {IFLA_VF_STATS_RX_DROPPED, "rx_dropped"}, {IFLA_VF_STATS_TX_DROPPED, "tx_dropped"}};
    for (const auto& [attr, name] : names)
      if (st[attr] && nla_len(st[attr]) >= static_cast<int>(sizeof(std::uint64_t)))
        counters[name] = nla_get_u64(st[attr]);
  }
  return NL_OK;
}

}  // namespace

Result<VfStatsMap> vfStats(const std::string& ifname) {
  const auto what = "reading the VF statistics of " + ifname;
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: '{}' is not a network interface name (1..{} characters)", what, ifname, IFNAMSIZ - 1));
  int kernel_errno = 0;
  auto sock = connectRoute(&kernel_errno, what);
  if (!sock) return std::unexpected(sock.error());
  using MsgPtr = std::unique_ptr<nl_msg, Release<nlmsg_free>>;
  MsgPtr msg(nlmsg_alloc_simple(RTM_GETLINK, 0));
  if (!msg) return fail(Errc::kIo, what + ": out of memory");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
      nla_put_string(msg.get(), IFLA_IFNAME, ifname.c_str()) < 0 ||
      nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_VF) < 0)
    return fail(Errc::kIo, what + ": netlink message too large");
  VfStatsReply reply;
  nl_socket_modify_cb(sock->get(), NL_CB_VALID, NL_CB_CUSTOM, parseVfStats, &reply);
  if (int err = nl_send_auto(sock->get(), msg.get()); err < 0)
    return fail(Errc::kIo, fmt::format("{}: netlink: {}", what, nl_geterror(err)));
  const int err = nl_recvmsgs_default(sock->get());
  if (kernel_errno == ENODEV || err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
    return fail(Errc::kNotFound, fmt::format("network interface '{}' not found", ifname),
                "check that the PF is bound to its kernel driver (it must have a netdev for VF statistics)");
  if (err < 0 || kernel_errno != 0)
    return fail(Errc::kIo, fmt::format("{}: netlink: {}", what,
                                       kernel_errno != 0 ? std::strerror(kernel_errno) : nl_geterror(err)));
  if (!reply.seen) return fail(Errc::kBadContent, what + ": unexpected netlink reply");
  return reply.vfs;
}

Result<void> setVfMac(const std::string& ifname, int vf, const MacAddress& mac) {
  const auto what = fmt::format("setting the MAC of {} VF {} to {}", ifname, vf, formatMac(mac));
  AddrPtr addr(nl_addr_build(AF_LLC, mac.data(), mac.size()));
  if (!addr) return fail(Errc::kIo, what + ": out of memory");
  return changeVf(
      ifname, vf, [&](rtnl_link_vf* v) { rtnl_link_vf_set_addr(v, addr.get()); }, what);
}

Result<void> setVfVlan(const std::string& ifname, int vf, int vlan) {
  const auto what = fmt::format("setting the VLAN of {} VF {} to {}", ifname, vf, vlan);
  nl_vf_vlans_t* raw = nullptr;
  if (int err = rtnl_link_vf_vlan_alloc(&raw, 1); err < 0)
    return fail(Errc::kIo, fmt::format("{}: {}", what, nl_geterror(err)));
  VlansPtr vlans(raw);
  // One 802.1Q VLAN, QoS 0: libnl sends the plain IFLA_VF_VLAN (as `ip link ... vf N vlan V` does).
  vlans->vlans[0].vf_vlan = static_cast<std::uint32_t>(vlan);
  vlans->vlans[0].vf_vlan_qos = 0;
  vlans->vlans[0].vf_vlan_proto = 0;
  return changeVf(
      ifname, vf, [&](rtnl_link_vf* v) { rtnl_link_vf_set_vlans(v, vlans.get()); }, what);
}

Result<void> setVfTrust(const std::string& ifname, int vf, bool on) {
  return changeVf(
      ifname, vf, [&](rtnl_link_vf* v) { rtnl_link_vf_set_trust(v, on ? 1 : 0); },
      fmt::format("setting trust of {} VF {} {}", ifname, vf, on ? "on" : "off"));
}

Result<void> setVfSpoofchk(const std::string& ifname, int vf, bool on) {
  return changeVf(
      ifname, vf, [&](rtnl_link_vf* v) { rtnl_link_vf_set_spoofchk(v, on ? 1 : 0); },
      fmt::format("setting spoofchk of {} VF {} {}", ifname, vf, on ? "on" : "off"));
}

}  // namespace vnf::prep::netlink
