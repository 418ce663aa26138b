#include "diagnose/ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

namespace vnf::ethtool {
namespace {

// The kernel copies at most this many strings for us; a driver reporting more is refused, not
// trusted with an allocation of its choosing.
constexpr std::uint32_t kMaxStrings = 65536;

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// One SIOCETHTOOL call with `data` (whose first u32 is the command).
Result<void> call(const std::string& ifname, void* data, const char* what) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('/') != std::string::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' is not an interface name (1..{} characters, no '/')", ifname, IFNAMSIZ - 1),
                "name a netdev from `ip link`");
  }
  Socket s;
  if (s.fd() < 0) return fail(Errc::kIo, fmt::format("socket(AF_INET) for {} failed: {}", what, std::strerror(errno)));
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_data = static_cast<char*>(data);
  if (::ioctl(s.fd(), SIOCETHTOOL, &ifr) == 0) return {};
  int e = errno;
  if (e == ENODEV) return fail(Errc::kNotFound, fmt::format("{}: no network interface named {}", what, ifname));
  if (e == EOPNOTSUPP || e == EINVAL) {
    return fail(Errc::kConflict,
                fmt::format("{} on {}: not supported by its driver ({})", what, ifname, std::strerror(e)));
  }
  return fail(Errc::kIo, fmt::format("{} on {} failed: {}", what, ifname, std::strerror(e)));
}

Result<std::uint32_t> setSize(const std::string& ifname, std::uint32_t set) {
  // ethtool_sset_info ends in a flexible array: room for one u32 after it.
  alignas(ethtool_sset_info) std::uint8_t buf[sizeof(ethtool_sset_info) + sizeof(std::uint32_t)] = {};
  auto* hdr = reinterpret_cast<ethtool_sset_info*>(buf);
  hdr->cmd = ETHTOOL_GSSET_INFO;
  hdr->sset_mask = 1ULL << set;
  if (auto r = call(ifname, hdr, "ETHTOOL_GSSET_INFO"); !r) return std::unexpected(r.error());
  if (!(hdr->sset_mask & (1ULL << set))) return 0u;
  std::uint32_t len = 0;
  std::memcpy(&len, buf + sizeof(ethtool_sset_info), sizeof len);
  if (len > kMaxStrings) {
    return fail(Errc::kBadContent,
                fmt::format("{} reports {} ethtool strings; more than the {} vnfctl reads", ifname, len, kMaxStrings));
  }
  return len;
}

Result<std::vector<std::string>> strings(const std::string& ifname, std::uint32_t set, std::uint32_t n) {
  std::vector<std::uint8_t> buf(sizeof(ethtool_gstrings) + std::size_t{n} * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(buf.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = set;
  gs->len = n;
  if (auto r = call(ifname, gs, "ETHTOOL_GSTRINGS"); !r) return std::unexpected(r.error());
  std::vector<std::string> out;
  std::uint32_t got = gs->len < n ? gs->len : n;
  out.reserve(got);
  for (std::uint32_t i = 0; i < got; ++i) {
    const char* s = reinterpret_cast<const char*>(gs->data) + std::size_t{i} * ETH_GSTRING_LEN;
    out.emplace_back(s, strnlen(s, ETH_GSTRING_LEN));
  }
  return out;
}

}  // namespace

Result<RingParams> rings(const std::string& ifname) {
  ethtool_ringparam rp{};
  rp.cmd = ETHTOOL_GRINGPARAM;
  if (auto r = call(ifname, &rp, "ETHTOOL_GRINGPARAM"); !r) return std::unexpected(r.error());
  return RingParams{rp.rx_pending, rp.rx_max_pending, rp.tx_pending, rp.tx_max_pending};
}

Result<void> setRings(const std::string& ifname, std::uint32_t rx, std::uint32_t tx) {
  ethtool_ringparam rp{};
  rp.cmd = ETHTOOL_GRINGPARAM;
  if (auto r = call(ifname, &rp, "ETHTOOL_GRINGPARAM"); !r) return r;
  if (rx > rp.rx_max_pending || tx > rp.tx_max_pending) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: rings rx {} tx {} exceed the driver's maximum rx {} tx {}", ifname, rx, tx,
                            rp.rx_max_pending, rp.tx_max_pending),
                fmt::format("use at most rx {} tx {} (or --rings max)", rp.rx_max_pending, rp.tx_max_pending));
  }
  rp.cmd = ETHTOOL_SRINGPARAM;
  rp.rx_pending = rx;
  rp.tx_pending = tx;
  return call(ifname, &rp, "ETHTOOL_SRINGPARAM");
}

Result<std::map<std::string, std::uint64_t>> stats(const std::string& ifname) {
  auto n = setSize(ifname, ETH_SS_STATS);
  if (!n) return std::unexpected(n.error());
  std::map<std::string, std::uint64_t> out;
  if (*n == 0) return out;
  auto names = strings(ifname, ETH_SS_STATS, *n);
  if (!names) return std::unexpected(names.error());
  std::vector<std::uint8_t> buf(sizeof(ethtool_stats) + std::size_t{*n} * sizeof(std::uint64_t));
  auto* st = reinterpret_cast<ethtool_stats*>(buf.data());
  st->cmd = ETHTOOL_GSTATS;
  st->n_stats = *n;
  if (auto r = call(ifname, st, "ETHTOOL_GSTATS"); !r) return std::unexpected(r.error());
  std::uint32_t got = st->n_stats < *n ? st->n_stats : *n;
  for (std::uint32_t i = 0; i < got && i < names->size(); ++i) {
    std::uint64_t v = 0;
    std::memcpy(&v, buf.data() + sizeof(ethtool_stats) + std::size_t{i} * sizeof(std::uint64_t), sizeof v);
    out[(*names)[i]] += v;
  }
  return out;
}

Result<std::map<std::string, bool>> features(const std::string& ifname) {
  auto n = setSize(ifname, ETH_SS_FEATURES);
  if (!n) return std::unexpected(n.error());
  std::map<std::string, bool> out;
  if (*n == 0) return out;
  auto names = strings(ifname, ETH_SS_FEATURES, *n);
  if (!names) return std::unexpected(names.error());
  std::uint32_t blocks = (*n + 31) / 32;
  std::vector<std::uint8_t> buf(sizeof(ethtool_gfeatures) + std::size_t{blocks} * sizeof(ethtool_get_features_block));
  auto* gf = reinterpret_cast<ethtool_gfeatures*>(buf.data());
  gf->cmd = ETHTOOL_GFEATURES;
  gf->size = blocks;
  if (auto r = call(ifname, gf, "ETHTOOL_GFEATURES"); !r) return std::unexpected(r.error());
  for (std::uint32_t i = 0; i < names->size(); ++i) {
    ethtool_get_features_block b{};
    std::memcpy(&b, buf.data() + sizeof(ethtool_gfeatures) + std::size_t{i / 32} * sizeof b, sizeof b);
    out[(*names)[i]] = (b.active >> (i % 32)) & 1u;
  }
  return out;
}

}  // namespace vnf::ethtool
