#include "prep/netlink.h"

#include <cerrno>
#include <cstring>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>

#include <fmt/format.h>

namespace vnf::prep::netlink {
namespace {

// Owns a NETLINK_ROUTE socket.
class Socket {
 public:
  Socket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Builds one netlink message: header, ifinfomsg, then attributes (nests patched on close).
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags, int ifindex) {
    buf_.resize(NLMSG_LENGTH(sizeof(ifinfomsg)));
    auto* h = header();
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = 1;
    auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
  }
  void attr(std::uint16_t type, const void* data, std::size_t len) {
    std::size_t at = buf_.size();
    buf_.resize(at + RTA_SPACE(len));
    auto* rta = reinterpret_cast<rtattr*>(buf_.data() + at);
    rta->rta_type = type;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(rta), data, len);
  }
  std::size_t beginNest(std::uint16_t type) {
    std::size_t at = buf_.size();
    buf_.resize(at + RTA_LENGTH(0));
    reinterpret_cast<rtattr*>(buf_.data() + at)->rta_type = type | NLA_F_NESTED;
    return at;
  }
  void endNest(std::size_t at) {
    reinterpret_cast<rtattr*>(buf_.data() + at)->rta_len = static_cast<unsigned short>(buf_.size() - at);
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  std::vector<char>& finish() {
    header()->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    return buf_;
  }

 private:
  std::vector<char> buf_;
};

Result<int> ifindexOf(const std::string& ifname) {
  unsigned idx = ::if_nametoindex(ifname.c_str());
  if (idx == 0) {
    return fail(Errc::kNotFound, fmt::format("network interface '{}' not found ({})", ifname, std::strerror(errno)),
                "check that the PF is bound to its kernel driver (it must have a netdev for VF settings)");
  }
  return static_cast<int>(idx);
}

Result<std::vector<char>> transact(Message& msg, const std::string& what) {
  Socket sock;
  if (sock.fd() < 0) return fail(Errc::kIo, fmt::format("{}: netlink socket: {}", what, std::strerror(errno)));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  auto& buf = msg.finish();
  if (::sendto(sock.fd(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return fail(Errc::kIo, fmt::format("{}: netlink send: {}", what, std::strerror(errno)));
  }
  // Size the reply first: a PF with many VFs answers with more than a page.
  std::vector<char> reply(1 << 16);
  ssize_t peek = ::recv(sock.fd(), reply.data(), reply.size(), MSG_PEEK | MSG_TRUNC);
  if (peek < 0) return fail(Errc::kIo, fmt::format("{}: netlink receive: {}", what, std::strerror(errno)));
  if (static_cast<std::size_t>(peek) > reply.size()) reply.resize(static_cast<std::size_t>(peek));
  ssize_t n = ::recv(sock.fd(), reply.data(), reply.size(), 0);
  if (n < 0) return fail(Errc::kIo, fmt::format("{}: netlink receive: {}", what, std::strerror(errno)));
  reply.resize(static_cast<std::size_t>(n));
  auto* h = reinterpret_cast<nlmsghdr*>(reply.data());
  if (!NLMSG_OK(h, static_cast<unsigned>(n))) return fail(Errc::kBadContent, what + ": short netlink reply");
  if (h->nlmsg_type == NLMSG_ERROR) {
    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
    if (err->error != 0) {
      const int e = -err->error;
      return fail(e == EOPNOTSUPP ? Errc::kConflict : Errc::kIo,
                  fmt::format("{}: the kernel refused: {}", what, std::strerror(e)),
                  e == EOPNOTSUPP ? "the PF's driver does not support this VF setting; leave it out of the spec" : "");
    }
  }
  return reply;
}

Result<void> setVfAttr(const std::string& ifname, std::uint16_t type, const void* data, std::size_t len,
                       const std::string& what) {
  auto idx = ifindexOf(ifname);
  if (!idx) return std::unexpected(idx.error());
  Message msg(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, *idx);
  auto list = msg.beginNest(IFLA_VFINFO_LIST);
  auto info = msg.beginNest(IFLA_VF_INFO);
  msg.attr(type, data, len);
  msg.endNest(info);
  msg.endNest(list);
  auto reply = transact(msg, what);
  if (!reply) return std::unexpected(reply.error());
  return {};
}

// Walks the attributes of a nest.
template <class F>
void forEachAttr(const void* data, int len, F&& f) {
  for (auto* rta = static_cast<const rtattr*>(data); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    f(rta->rta_type & NLA_TYPE_MASK, rta);
  }
}

}  // namespace

Result<std::vector<VfLinkState>> vfStates(const std::string& ifname) {
  auto idx = ifindexOf(ifname);
  if (!idx) return std::unexpected(idx.error());
  Message msg(RTM_GETLINK, NLM_F_REQUEST, *idx);
  std::uint32_t mask = RTEXT_FILTER_VF;
  msg.attr(IFLA_EXT_MASK, &mask, sizeof mask);
  auto reply = transact(msg, "reading the VFs of " + ifname);
  if (!reply) return std::unexpected(reply.error());
  auto* h = reinterpret_cast<nlmsghdr*>(reply->data());
  if (h->nlmsg_type != RTM_NEWLINK) return fail(Errc::kBadContent, "reading the VFs of " + ifname + ": unexpected netlink reply");
  std::map<int, VfLinkState> vfs;
  auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
  const int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
  forEachAttr(IFLA_RTA(ifi), attr_len, [&](int type, const rtattr* list) {
    if (type != IFLA_VFINFO_LIST) return;
    forEachAttr(RTA_DATA(list), static_cast<int>(RTA_PAYLOAD(list)), [&](int t, const rtattr* info) {
      if (t != IFLA_VF_INFO) return;
      VfLinkState vf;
      int index = -1;
      forEachAttr(RTA_DATA(info), static_cast<int>(RTA_PAYLOAD(info)), [&](int k, const rtattr* a) {
        const void* p = RTA_DATA(a);
        if (k == IFLA_VF_MAC && RTA_PAYLOAD(a) >= sizeof(ifla_vf_mac)) {
          const auto* m = static_cast<const ifla_vf_mac*>(p);
          index = static_cast<int>(m->vf);
          std::copy_n(m->mac, 6, vf.mac.begin());
        } else if (k == IFLA_VF_VLAN && RTA_PAYLOAD(a) >= sizeof(ifla_vf_vlan)) {
          vf.vlan = static_cast<int>(static_cast<const ifla_vf_vlan*>(p)->vlan);
        } else if (k == IFLA_VF_SPOOFCHK && RTA_PAYLOAD(a) >= sizeof(ifla_vf_spoofchk)) {
          auto s = static_cast<const ifla_vf_spoofchk*>(p)->setting;
          vf.spoofchk = s == static_cast<std::uint32_t>(-1) ? -1 : static_cast<int>(s != 0);
        } else if (k == IFLA_VF_TRUST && RTA_PAYLOAD(a) >= sizeof(ifla_vf_trust)) {
          auto s = static_cast<const ifla_vf_trust*>(p)->setting;
          vf.trust = s == static_cast<std::uint32_t>(-1) ? -1 : static_cast<int>(s != 0);
        }
      });
      if (index >= 0) {
        vf.index = index;
        vfs[index] = vf;
      }
    });
  });
  std::vector<VfLinkState> out;
  for (auto& [i, vf] : vfs) out.push_back(vf);
  return out;
}

Result<void> setVfMac(const std::string& ifname, int vf, const MacAddress& mac) {
  ifla_vf_mac m{};
  m.vf = static_cast<std::uint32_t>(vf);
  std::copy(mac.begin(), mac.end(), m.mac);
  return setVfAttr(ifname, IFLA_VF_MAC, &m, sizeof m, fmt::format("setting the MAC of {} VF {} to {}", ifname, vf, formatMac(mac)));
}

Result<void> setVfVlan(const std::string& ifname, int vf, int vlan) {
  ifla_vf_vlan v{};
  v.vf = static_cast<std::uint32_t>(vf);
  v.vlan = static_cast<std::uint32_t>(vlan);
  return setVfAttr(ifname, IFLA_VF_VLAN, &v, sizeof v, fmt::format("setting the VLAN of {} VF {} to {}", ifname, vf, vlan));
}

Result<void> setVfTrust(const std::string& ifname, int vf, bool on) {
  ifla_vf_trust t{};
  t.vf = static_cast<std::uint32_t>(vf);
  t.setting = on ? 1 : 0;
  return setVfAttr(ifname, IFLA_VF_TRUST, &t, sizeof t, fmt::format("setting trust of {} VF {} {}", ifname, vf, on ? "on" : "off"));
}

Result<void> setVfSpoofchk(const std::string& ifname, int vf, bool on) {
  ifla_vf_spoofchk s{};
  s.vf = static_cast<std::uint32_t>(vf);
  s.setting = on ? 1 : 0;
  return setVfAttr(ifname, IFLA_VF_SPOOFCHK, &s, sizeof s,
                   fmt::format("setting spoofchk of {} VF {} {}", ifname, vf, on ? "on" : "off"));
}

}  // namespace vnf::prep::netlink
