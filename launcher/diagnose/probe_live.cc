// LiveProbe: the running host. libvirt for the domains, rtnetlink for VF VLANs, SIOCETHTOOL, the
// kernel log from /dev/kmsg (non-blocking, one record per read) or /var/log/kern.log, the ruleset
// from libnftables as JSON (a fixed command: no user string reaches nft), sysfs through HostFs.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include "common/file_io.h"
#include "diagnose/probe.h"
#include "host/parse.h"
#include "prep/netlink.h"
#include "virt/vnf_domains.h"

namespace vnf::diagnose {
namespace {

constexpr std::size_t kMaxKmsgRecords = 200000;
constexpr std::uint64_t kSerialTailBytes = 1 << 20;

struct NftDeleter {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};

class LiveProbe final : public Probe {
 public:
  LiveProbe(const HostFs& fs, std::string uri, bool (*interrupted)())
      : fs_(fs), uri_(std::move(uri)), interrupted_(interrupted) {}

  std::string origin() const override { return ""; }

  Result<std::vector<DomainRecord>> domains() override {
    auto conn = Connection::open(uri_, true);
    if (!conn) return std::unexpected(conn.error());
    auto list = listVnfDomains(*conn);
    if (!list) return std::unexpected(list.error());
    std::vector<DomainRecord> out;
    for (const auto& d : *list) {
      auto xml = domainXml(*conn, d.name, false);
      if (!xml) return std::unexpected(xml.error());
      out.push_back({d.name, domainStateName(d.state), std::move(*xml)});
    }
    return out;
  }

  Result<std::vector<VfVlan>> vfVlans(const std::string& pf) override {
    auto states = prep::netlink::vfStates(pf);
    if (!states) return std::unexpected(states.error());
    std::vector<VfVlan> out;
    for (const auto& s : *states) out.push_back({s.index, s.vlan});
    return out;
  }

  Result<std::map<int, Counters>> vfStats(const std::string& pf) override { return prep::netlink::vfStats(pf); }

  Result<ethtool::RingParams> rings(const std::string& ifname) override { return ethtool::rings(ifname); }
  Result<std::map<std::string, bool>> features(const std::string& ifname) override { return ethtool::features(ifname); }
  Result<Counters> nicStats(const std::string& ifname) override { return ethtool::stats(ifname); }

  // The kernel's rtnl_link_stats64, one file per counter: the numbers IFLA_STATS64 carries.
  Result<Counters> linkStats(const std::string& ifname) override {
    std::string dir = fmt::format("/sys/class/net/{}/statistics", ifname);
    auto names = fs_.listDir(dir);
    if (!names) return std::unexpected(names.error());
    Counters out;
    for (const auto& n : *names) {
      auto text = fs_.readText(dir + "/" + n);
      if (!text) continue;  // a counter the driver does not implement reads as an error
      if (auto v = parseUnsigned(trim(*text))) out[n] = *v;
    }
    return out;
  }

  Result<std::string> serialTail(const std::string& log) override {
    if (log.empty() || log[0] != '/') return fail(Errc::kNotFound, "the domain has no serial log file");
    // Serial logs grow for as long as the guest runs: only the end is read (a FIFO put in the log's
    // place is refused, never read).
    auto tail = readFileTail((fs_.root() / log.substr(1)).string(), kSerialTailBytes, "serial log");
    if (!tail) {
      Error e = tail.error();
      e.code = Errc::kNotFound;
      return std::unexpected(std::move(e));
    }
    return tail;
  }

  Result<std::string> reread(const std::string& path) override { return fs_.readText(path); }

  Result<KernelLog> kernelLog() override {
    KernelLog out{"/dev/kmsg", {}};
    int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      char buf[8192];
      while (out.records.size() < kMaxKmsgRecords) {
        ssize_t n = ::read(fd, buf, sizeof buf);  // one record per read
        if (n < 0 && errno == EPIPE) continue;    // overwritten while we read: skip to the next
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EAGAIN: the end
        std::string_view rec(buf, static_cast<std::size_t>(n));
        auto semi = rec.find(';');
        if (semi == std::string_view::npos) continue;
        auto text = rec.substr(semi + 1);
        out.records.emplace_back(text.substr(0, text.find('\n')));
      }
      ::close(fd);
      return out;
    }
    int e = errno;
    auto log = readKernLogTail(fs_);
    if (!log) {
      return fail(Errc::kUnreadable,
                  fmt::format("cannot read the kernel log: /dev/kmsg: {}; {}", std::strerror(e), log.error().message),
                  "run vnfctl diagnose as root");
    }
    return log;
  }

  Result<nlohmann::json> nftRuleset() override {
    std::unique_ptr<nft_ctx, NftDeleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) return fail(Errc::kIo, "libnftables: nft_ctx_new failed");
    nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
    if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0)
      return fail(Errc::kIo, "libnftables: cannot buffer output");
    if (nft_run_cmd_from_buffer(ctx.get(), "list ruleset") != 0) {
      const char* err = nft_ctx_get_error_buffer(ctx.get());
      return fail(Errc::kUnreadable, fmt::format("libnftables: list ruleset failed: {}", err ? err : "?"),
                  "run vnfctl diagnose as root (reading the ruleset needs CAP_NET_ADMIN)");
    }
    const char* out = nft_ctx_get_output_buffer(ctx.get());
    try {
      return nlohmann::json::parse(out ? out : "{}");
    } catch (const nlohmann::json::exception& e) {
      return fail(Errc::kBadContent, fmt::format("libnftables returned JSON that does not parse: {}", e.what()));
    }
  }

  void advance(std::chrono::milliseconds window) override {
    auto end = std::chrono::steady_clock::now() + window;
    while (std::chrono::steady_clock::now() < end && !(interrupted_ && interrupted_()))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

 private:
  const HostFs& fs_;
  std::string uri_;
  bool (*interrupted_)();
};

}  // namespace

Result<KernelLog> readKernLogTail(const HostFs& fs, std::uint64_t max_bytes) {
  const std::string path = "/var/log/kern.log";
  // kern.log grows for as long as the host runs (rotation aside): only its end is read, and a FIFO
  // or device in its place is refused, never read.
  // One byte more than the limit tells a file of exactly max_bytes (whole) from a longer one, and
  // whether the window begins at a line's start (the byte before it is a newline).
  auto text = readFileTail((fs.root() / path.substr(1)).string(), max_bytes + 1, "kernel log");
  if (!text) {
    Error e = text.error();
    e.code = Errc::kUnreadable;
    return std::unexpected(std::move(e));
  }
  KernelLog out{path, {}};
  std::string_view rest = *text;
  if (rest.size() > max_bytes) {
    // The tail began inside a line: that part is no record.
    auto nl = rest.find('\n');
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    out.source = max_bytes % (1 << 20) == 0 ? fmt::format("{} (its last {} MiB)", path, max_bytes >> 20)
                                            : fmt::format("{} (its last {} bytes)", path, max_bytes);
  }
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    out.records.emplace_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  return out;
}

std::unique_ptr<Probe> makeLiveProbe(const HostFs& fs, std::string uri, bool (*interrupted)()) {
  return std::make_unique<LiveProbe>(fs, std::move(uri), interrupted);
}

}  // namespace vnf::diagnose
