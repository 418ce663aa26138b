// AF_PACKET raw socket bound to one interface: the only OS seam of vnf-traffic.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>

namespace vnf::traffic {

struct Error {
  std::string message;
};

struct Received {
  std::size_t length = 0;             // bytes copied into the buffer
  std::optional<std::uint16_t> vlan;  // tag the kernel moved into PACKET_AUXDATA
  bool outgoing = false;              // the host sent it (PACKET_OUTGOING), not the peer
};

class PacketSocket {
 public:
  enum class Role { kSend, kReceive };

  // Opens and binds a socket on interface ifname. A kSend socket receives nothing and
  // bypasses the qdisc; a kReceive socket sees every frame (ETH_P_ALL) with VLAN aux data
  // and a large receive buffer. Errors name the interface and the fix (root, ip link).
  static std::expected<PacketSocket, Error> open(const std::string& ifname, Role role);

  PacketSocket(PacketSocket&& other) noexcept : fd_(other.fd_), ifname_(std::move(other.ifname_)) { other.fd_ = -1; }
  PacketSocket& operator=(PacketSocket&&) = delete;
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;
  ~PacketSocket();

  // Sends one whole frame; returns the errno on failure (ENOBUFS when the device queue is full).
  std::expected<void, int> send(std::span<const std::uint8_t> frame);
  // Waits up to timeout_ms for one frame; nothing on timeout (or EINTR).
  std::expected<std::optional<Received>, Error> receive(std::span<std::uint8_t> buffer, int timeout_ms);
  const std::string& name() const { return ifname_; }

 private:
  PacketSocket(int fd, std::string ifname) : fd_(fd), ifname_(std::move(ifname)) {}
  int fd_ = -1;
  std::string ifname_;
};

}  // namespace vnf::traffic
