#include "packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace vnf::traffic {
namespace {

constexpr int kReceiveBufferBytes = 16 * 1024 * 1024;

}  // namespace

std::expected<PacketSocket, Error> PacketSocket::open(const std::string& ifname, Role role) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    return std::unexpected(
        Error{fmt::format("no network interface '{}' here: check the name with 'ip -br link' "
                          "(in the right namespace: 'ip netns exec NS ip -br link')",
                          ifname)});
  }
  // Protocol 0 on a sending socket: it is never handed incoming frames, so it never fills up.
  const std::uint16_t protocol = role == Role::kSend ? 0 : htons(ETH_P_ALL);
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    const int err = errno;
    return std::unexpected(Error{fmt::format("cannot open an AF_PACKET socket: {}{}", std::strerror(err),
                                             err == EPERM ? " (needs root or CAP_NET_RAW: run with sudo)" : "")});
  }
  PacketSocket socket(fd, ifname);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = protocol;
  address.sll_ifindex = static_cast<int>(index);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return std::unexpected(Error{fmt::format("cannot bind a packet socket to '{}': {}", ifname, std::strerror(errno))});
  }
  if (role == Role::kSend) {
    const int one = 1;
    ::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);  // best effort: an optimisation
  } else {
    const int one = 1;
    if (::setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0) {
      return std::unexpected(
          Error{fmt::format("cannot enable PACKET_AUXDATA on '{}': {}", ifname, std::strerror(errno))});
    }
    const int bytes = kReceiveBufferBytes;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);  // capped by net.core.rmem_max
    }
  }
  return socket;
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<void, int> PacketSocket::send(std::span<const std::uint8_t> frame) {
  const ssize_t n = ::send(fd_, frame.data(), frame.size(), 0);
  if (n < 0) return std::unexpected(errno);
  return {};
}

std::expected<std::optional<Received>, Error> PacketSocket::receive(std::span<std::uint8_t> buffer, int timeout_ms) {
  pollfd waiting{fd_, POLLIN, 0};
  const int ready = ::poll(&waiting, 1, timeout_ms);
  if (ready < 0 && errno != EINTR) {
    return std::unexpected(Error{fmt::format("poll on '{}' failed: {}", ifname_, std::strerror(errno))});
  }
  if (ready <= 0) return std::optional<Received>{};

  sockaddr_ll from{};
  iovec io{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  msghdr message{};
  message.msg_name = &from;
  message.msg_namelen = sizeof from;
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd_, &message, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return std::optional<Received>{};
    return std::unexpected(Error{fmt::format("recvmsg on '{}' failed: {}", ifname_, std::strerror(errno))});
  }
  Received received;
  received.length = static_cast<std::size_t>(n);
  received.outgoing = from.sll_pkttype == PACKET_OUTGOING;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    tpacket_auxdata aux{};
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    if (aux.tp_status & TP_STATUS_VLAN_VALID) received.vlan = aux.tp_vlan_tci & 0x0fff;
  }
  return std::optional<Received>{received};
}

}  // namespace vnf::traffic
