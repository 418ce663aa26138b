// Rings and buffers (NIC ring sizes and missed counters, the tap's tx_dropped, the forwarder's
// ring-full counters and the guest's "ring buffer full" lines), and the NIC's tunnel offloads.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diagnose/context.h"

namespace vnf::diagnose {
namespace {

bool isMissedCounter(const std::string& k) {
  return k.find("missed") != std::string::npos || k.find("no_buffer") != std::string::npos ||
         k.find("nobuf") != std::string::npos || k == "rx_fifo_errors";
}

std::set<std::string> pfNetdevs(Ctx& c, const VnfPath& v) {
  std::set<std::string> out;
  for (const auto& vf : v.meta.vfs)
    if (auto n = c.netdevOf(vf.pf.str()); !n.empty()) out.insert(n);
  return out;
}

bool containsNoCase(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != hay.end();
}

}  // namespace

void checkRings(Ctx& c, const VnfPath& v, const std::string& serial, const nlohmann::json* fwd) {
  for (const auto& pf : pfNetdevs(c, v)) {
    auto r = c.probe.rings(pf);
    Finding f{"rings.size", v.name, Severity::kOk, "", c.via(fmt::format("ETHTOOL_GRINGPARAM {}", pf)), "", ""};
    std::vector<std::string> missed;
    if (auto s = c.probe.nicStats(pf)) {
      for (const auto& [k, n] : *s)
        if (isMissedCounter(k) && n > 0) missed.push_back(fmt::format("{} {}", k, n));
    }
    if (!r) {
      f.severity = Severity::kInfo;
      f.seen = r.error().message;
      f.meaning = "the ring sizes of this NIC cannot be read or changed through ethtool";
    } else if (r->rx < r->rx_max && !missed.empty()) {
      f.severity = Severity::kWarn;
      f.seen = fmt::format("{} RX ring {} of max {}, TX {} of {}; {}", pf, r->rx, r->rx_max, r->tx, r->tx_max,
                           fmt::join(missed, ", "));
      f.where += ", " + c.via(fmt::format("ETHTOOL_GSTATS {}", pf));
      f.meaning = "the NIC ran out of RX descriptors (missed counters are non-zero) while its ring could be larger";
      f.fix = fmt::format("vnfctl tune --nic {} --rings max", pf);
    } else if (r->rx < r->rx_max) {
      f.severity = Severity::kInfo;
      f.seen = fmt::format("{} RX ring {} of max {}, TX {} of {}; no missed counter", pf, r->rx, r->rx_max, r->tx,
                           r->tx_max);
      f.meaning = "a larger ring absorbs longer bursts (at some cache cost); nothing is lost now";
      f.fix = fmt::format("vnfctl tune --nic {} --rings max (if bursts are lost)", pf);
    } else {
      f.seen = fmt::format("{} RX ring {} (max), TX {} of {}{}", pf, r->rx, r->tx, r->tx_max,
                           missed.empty() ? "" : fmt::format("; {}", fmt::join(missed, ", ")));
      if (!missed.empty()) {
        f.severity = Severity::kWarn;
        f.meaning = "the ring is already at its maximum and still overflows: the consumer is too slow";
        f.fix = fmt::format("give the VNF dedicated CPUs on the NIC's node (vnfctl diagnose {} numa.*)", v.name);
      }
    }
    c.add(std::move(f));
  }
  const auto guest = guestPorts(v);
  auto rxdOf = [&](const GuestPort& gp) -> std::optional<std::uint64_t> {
    const nlohmann::json* port = forwarderPort(fwd, gp.index);
    if (port && port->contains("rxd") && (*port)["rxd"].is_number_unsigned())
      return (*port)["rxd"].get<std::uint64_t>();
    return std::nullopt;
  };
  if (v.running()) {
    for (const auto& t : v.taps) {
      auto s = c.probe.linkStats(t.dev);
      if (!s) continue;
      auto it = s->find("tx_dropped");
      std::uint64_t n = it == s->end() ? 0 : it->second;
      Finding f{
          "rings.tap", v.name, Severity::kOk, "", c.via(fmt::format("/sys/class/net/{}/statistics/tx_dropped", t.dev)),
          "",          ""};
      if (n > 0) {
        const auto gp = std::find_if(guest.begin(), guest.end(), [&](const GuestPort& g) { return g.tap == &t; });
        const auto rxd = gp == guest.end() ? std::nullopt : rxdOf(*gp);
        f.severity = Severity::kWarn;
        f.seen = fmt::format("tap {} tx_dropped {}{}", t.dev, n,
                             gp == guest.end() ? std::string()
                             : rxd ? fmt::format(" (guest port {}, forwarder RX ring {} descriptors)", gp->index, *rxd)
                                   : fmt::format(" (guest port {})", gp->index));
        f.meaning =
            "the guest forwarder's virtio RX ring was full when the host had frames for it (DPDK's virtio driver "
            "reports no imissed: this is where its RX overflows show)";
        f.fix = "give the forwarder more RX descriptors: " + descriptorFix("rx_descriptors", rxd, true) +
                "; or a dedicated vCPU (cpu_policy: dedicated)";
      } else {
        f.seen = fmt::format("tap {} tx_dropped 0", t.dev);
      }
      c.add(std::move(f));
    }
  }
  if (!serial.empty()) {
    std::size_t n = 0;
    std::string last;
    std::string_view rest = serial;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      auto line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (containsNoCase(line, "ring buffer full")) {
        ++n;
        last = std::string(line);
      }
    }
    Finding f{"rings.guest_log", v.name, Severity::kOk, "", c.via(fmt::format("serial log {}", v.serial_log)), "", ""};
    if (n > 0) {
      f.severity = Severity::kWarn;
      f.seen = fmt::format("{} \"ring buffer full\" line{} in the last 1 MiB; last: {}", n, n == 1 ? "" : "s", last);
      f.meaning = "the application in the guest reports a full ring: it receives more than it processes";
      f.fix =
          "raise the forwarder's descriptor counts in the spec (guest.forwarder) and relaunch: vnfctl launch SPEC "
          "--replace";
    } else {
      f.seen = "no \"ring buffer full\" line in the serial log";
    }
    c.add(std::move(f));
  }
  if (fwd) {
    for (const auto& p : fwd->value("ports", nlohmann::json::array())) {
      if (!p.is_object()) continue;
      std::uint64_t imissed = p.value("imissed", 0ull), nombuf = p.value("rx_nombuf", 0ull),
                    full = p.value("tx_full_drops", 0ull);
      Finding f{"rings.forwarder",
                v.name,
                Severity::kOk,
                "",
                c.via(fmt::format("VNF-FWD STATS in {}", v.serial_log)),
                "",
                ""};
      const int index = p.value("index", 0);
      auto number = [&](const char* k) -> std::optional<std::uint64_t> {
        if (p.contains(k) && p[k].is_number_unsigned()) return p[k].get<std::uint64_t>();
        return std::nullopt;
      };
      const auto rxd = number("rxd");
      const auto txd = number("txd");
      const auto gp = std::find_if(guest.begin(), guest.end(), [&](const GuestPort& g) { return g.index == index; });
      const bool virtio = gp != guest.end() && gp->tap != nullptr;
      f.seen = fmt::format("guest port {}: imissed {}, rx_nombuf {}, tx_full_drops {}{}", index, imissed, nombuf, full,
                           rxd && txd ? fmt::format(" (rings: rxd {}, txd {})", *rxd, *txd) : std::string());
      if (imissed + nombuf + full > 0) {
        f.severity = Severity::kWarn;
        f.meaning = imissed + nombuf > 0
                        ? "the port's RX ring or mbuf pool ran out: packets were lost entering the guest"
                        : "the port's TX ring was full: the next hop takes less than the VNF sends";
        f.fix = imissed + nombuf > 0 ? descriptorFix("rx_descriptors", rxd, virtio)
                                     : descriptorFix("tx_descriptors", txd, virtio);
      }
      c.add(std::move(f));
    }
  }
}

// What is known of the VNF's traffic: it crosses the PF of each of its VFs (the NIC's embedded
// switch). The spec has no notion of tunnelling, so tunnel offloads are reported, not judged; a
// checksum offload turned off on that PF is a known cost.
void checkOffloads(Ctx& c, const VnfPath& v) {
  for (const auto& pf : pfNetdevs(c, v)) {
    auto feats = c.probe.features(pf);
    const std::string where = c.via(fmt::format("ETHTOOL_GFEATURES {}", pf));
    if (!feats) {
      c.add({"offload.tunnel", v.name, Severity::kInfo, feats.error().message, where,
             "the NIC's offload features cannot be read", ""});
      continue;
    }
    auto has = [&](const char* k) { return feats->count(k) > 0; };
    auto on = [&](const char* k) {
      auto it = feats->find(k);
      return it != feats->end() && it->second;
    };
    // Checksums: rx-checksum, and any of the TX checksum features (a NIC has one of them).
    std::vector<std::string> csum_off, csum_args;
    if (has("rx-checksum") && !on("rx-checksum")) csum_off.push_back("rx-checksum"), csum_args.push_back("rx on");
    const char* tx_csum[] = {"tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6"};
    const bool tx_known = std::any_of(std::begin(tx_csum), std::end(tx_csum), has);
    const bool tx_on = std::any_of(std::begin(tx_csum), std::end(tx_csum), on);
    if (tx_known && !tx_on) {
      std::vector<std::string> names;
      for (const char* k : tx_csum)
        if (has(k)) names.push_back(k);
      csum_off.push_back(fmt::format("{}", fmt::join(names, "/")));
      csum_args.push_back("tx on");
    }
    Finding cs{"offload.checksum", v.name, Severity::kOk, "", where, "", ""};
    if (!csum_off.empty()) {
      cs.severity = Severity::kWarn;
      cs.seen = fmt::format("{} (the PF of the VNF's VF): off: {}", pf, fmt::join(csum_off, ", "));
      cs.meaning =
          "checksums the NIC could verify and fill in are done in software instead: by the host stack for the "
          "PF's own traffic, and by the VF's guest driver where the NIC ties its VFs' offloads to the PF's; each "
          "packet costs CPU cycles on the VNF's path";
      cs.fix =
          fmt::format("ethtool -K {} {} (on the host; vnfctl does not change offloads)", pf, fmt::join(csum_args, " "));
    } else if (!has("rx-checksum") && !tx_known) {
      cs.severity = Severity::kInfo;
      cs.seen = fmt::format("{} reports no checksum offload features", pf);
      cs.meaning = "the NIC offers no checksum offload: checksums are computed in software";
    } else {
      cs.seen = fmt::format("{}: RX and TX checksum offload on", pf);
    }
    c.add(std::move(cs));
    std::vector<std::string> tnl_off;
    for (const char* k : {"tx-udp_tnl-segmentation", "rx-udp_tunnel-port-offload"})
      if (!on(k)) tnl_off.push_back(k);
    Finding f{"offload.tunnel", v.name, Severity::kOk, "", where, "", ""};
    if (!tnl_off.empty()) {
      f.severity = Severity::kInfo;
      f.seen = fmt::format("{}: off or missing: {}", pf, fmt::join(tnl_off, ", "));
      f.meaning =
          "VXLAN/Geneve segmentation and tunnel-port parsing fall to software, for the PF and the VFs it "
          "carries; the VNF pays only if its traffic is tunnelled, which its spec does not say";
      f.fix = fmt::format(
          "if the VNF's traffic is VXLAN/Geneve: ethtool -K {} tx-udp_tnl-segmentation on "
          "rx-udp_tunnel-port-offload on (where the NIC has them)",
          pf);
    } else {
      f.seen = fmt::format("{}: tunnel segmentation and UDP tunnel port offload on", pf);
    }
    c.add(std::move(f));
  }
}

}  // namespace vnf::diagnose
