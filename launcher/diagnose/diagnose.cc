#include "diagnose/diagnose.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "diagnose/context.h"
#include "host/parse.h"
#include "spec/spec.h"

namespace vnf::diagnose {

std::string Ctx::via(const std::string& what) const {
  auto o = probe.origin();
  return o.empty() ? what : fmt::format("{}, {}", what, o);
}

std::string Ctx::file(const std::string& path) const {
  return fs.isLiveHost() ? path : fmt::format("{} under {}", path, fs.root().string());
}

std::optional<std::string> Ctx::readTrimmed(const std::string& path) const {
  auto t = fs.readText(path);
  if (!t) return std::nullopt;
  return std::string(trim(*t));
}

std::optional<std::int64_t> Ctx::readInt(const std::string& path) const {
  auto t = readTrimmed(path);
  if (!t) return std::nullopt;
  return parseInt(*t);
}

std::string Ctx::netdevOf(const std::string& pci) const {
  if (auto it = netdev_.find(pci); it != netdev_.end()) return it->second;
  auto names = fs.listDir(fmt::format("/sys/bus/pci/devices/{}/net", pci));
  return netdev_[pci] = names && !names->empty() ? names->front() : "";
}

std::vector<int> Ctx::nodeCpus(int node) const {
  if (node < 0) return {};
  auto it = node_cpus_.find(node);
  if (it != node_cpus_.end()) return it->second;
  std::vector<int> cpus;
  if (auto t = readTrimmed(fmt::format("/sys/devices/system/node/node{}/cpulist", node))) {
    if (auto l = parseCpuList(*t)) cpus = *l;
  }
  node_cpus_[node] = cpus;
  return cpus;
}

const Result<KernelLog>& Ctx::kernelLog() {
  if (!kmsg_) kmsg_ = probe.kernelLog();
  return *kmsg_;
}

const std::vector<std::string>& Ctx::iommuLog() {
  if (!iommu_lines_) {
    iommu_lines_.emplace();
    if (const auto& log = kernelLog()) {
      for (const auto& l : log->records) {
        for (std::string_view k : {"DMAR", "AMD-Vi", "IO_PAGE_FAULT", "iommu", "IOMMU"}) {
          if (l.find(k) != std::string::npos) {
            iommu_lines_->push_back(l);
            break;
          }
        }
      }
    }
  }
  return *iommu_lines_;
}

const std::optional<Ctx::IrqAffinity>& Ctx::pfIrqs(const std::string& pf) {
  if (auto it = pf_irqs_.find(pf); it != pf_irqs_.end()) return it->second;
  auto& out = pf_irqs_[pf];
  auto irqs = fs.listDir(fmt::format("/sys/bus/pci/devices/{}/msi_irqs", pf));
  if (irqs && !irqs->empty()) {
    out.emplace();
    for (const auto& irq : *irqs)
      out->emplace_back(irq, readTrimmed(fmt::format("/proc/irq/{}/smp_affinity_list", irq)));
  }
  return out;
}

const Result<nlohmann::json>& Ctx::ruleset() {
  if (!nft_) nft_ = probe.nftRuleset();
  return *nft_;
}

const std::vector<std::string>& Ctx::legacyTables() {
  if (!legacy_) {
    legacy_.emplace();
    for (const auto& [file, tool] :
         {std::pair{"/proc/net/ip_tables_names", "iptables"}, std::pair{"/proc/net/ip6_tables_names", "ip6tables"}}) {
      auto text = fs.readText(file);
      if (!text) continue;
      std::string_view rest = *text;
      while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto name = trim(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (!name.empty()) legacy_->push_back(fmt::format("{} {}", tool, name));
      }
    }
  }
  return *legacy_;
}

const Result<std::map<int, Counters>>& Ctx::vfStats(const std::string& pf, int sample) {
  auto key = std::make_pair(pf, sample);
  if (auto it = vf_stats_.find(key); it != vf_stats_.end()) return it->second;
  return vf_stats_.emplace(key, probe.vfStats(pf)).first->second;
}

std::vector<nlohmann::json> lastForwarderStats(std::string_view text, std::size_t count) {
  constexpr std::string_view kTag = "VNF-FWD STATS ";
  std::vector<nlohmann::json> out;
  std::size_t at = text.rfind(kTag);
  while (at != std::string_view::npos && out.size() < count) {
    auto line = text.substr(at + kTag.size());
    line = line.substr(0, line.find('\n'));
    try {
      auto j = nlohmann::json::parse(line);
      if (j.is_object()) out.insert(out.begin(), std::move(j));
    } catch (const nlohmann::json::exception&) {
      // A line cut by the tail or by a console write: try the one before.
    }
    if (at == 0) break;
    at = text.rfind(kTag, at - 1);
  }
  return out;
}

std::optional<nlohmann::json> lastForwarderStats(std::string_view text) {
  auto last = lastForwarderStats(text, 1);
  if (last.empty()) return std::nullopt;
  return std::move(last.front());
}

std::vector<GuestPort> guestPorts(const VnfPath& v) {
  std::vector<GuestPort> out;
  for (const auto& vf : v.meta.vfs) {
    // recipe >= 2 metadata records each NIC's mode; a hostdev VF is the guest's own, not vnf-fwd's.
    const std::string key = fmt::format("nics[{}].mode", vf.nic_index);
    const bool hostdev = std::any_of(v.meta.spec_fields.begin(), v.meta.spec_fields.end(),
                                     [&](const SpecField& f) { return f.first == key && f.second == "hostdev"; });
    if (!hostdev) out.push_back({static_cast<int>(out.size()), &vf, nullptr});
  }
  for (const auto& t : v.taps) out.push_back({static_cast<int>(out.size()), nullptr, &t});
  return out;
}

const nlohmann::json* forwarderPort(const nlohmann::json* fwd, int index) {
  if (!fwd || !fwd->is_object() || !fwd->contains("ports") || !(*fwd)["ports"].is_array()) return nullptr;
  for (const auto& p : (*fwd)["ports"]) {
    if (p.is_object() && p.contains("index") && p["index"].is_number_integer() && p["index"].get<int>() == index)
      return &p;
  }
  return nullptr;
}

std::string descriptorFix(const char* field, std::optional<std::uint64_t> now, bool virtio) {
  return fmt::format(
      "raise the spec's guest.forwarder.{} ({}{}..{}, a power of two{}), then vnfctl launch SPEC --replace", field,
      now ? fmt::format("now {}; ", *now) : std::string(), kMinForwarderDescriptors, kMaxForwarderDescriptors,
      virtio ? "; a virtio port uses at most its virtqueue's size, 256 under QEMU's default" : "");
}

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

// One hop's counters at one moment.
struct HopSample {
  std::string hop;
  std::string where;
  std::optional<std::uint64_t> packets;  // packets passing this hop
  Counters drops;                        // counters that count packets lost here
  // Whether `packets` are the VNF's to compare along its path: a PF's rx_packets are not (its own
  // queues; on SR-IOV NICs they do not count what its VFs receive), so the PF hop counts drops only.
  bool rate = true;
};

std::uint64_t get(const Counters& c, const char* k) {
  auto it = c.find(k);
  return it == c.end() ? 0 : it->second;
}

// Counters whose growth means packets were lost at a netdev.
Counters dropCounters(const Counters& c, std::initializer_list<const char*> names) {
  Counters out;
  for (const char* n : names)
    if (auto it = c.find(n); it != c.end()) out[n] = it->second;
  return out;
}

std::string tapIn(const TapPort& t) { return fmt::format("tap {} -> guest", t.dev); }
std::string tapOut(const TapPort& t) { return fmt::format("guest -> tap {}", t.dev); }
std::string vfIn(const VfMetadata& vf) { return fmt::format("VF {} rx", vf.vf.str()); }
std::string vfOut(const VfMetadata& vf) { return fmt::format("VF {} tx", vf.vf.str()); }
std::string guestRx(int i) { return fmt::format("guest port {} rx", i); }
std::string guestTx(int i) { return fmt::format("guest port {} tx", i); }
std::string ingressOf(const GuestPort& gp) { return gp.tap ? tapIn(*gp.tap) : vfIn(*gp.vf); }
std::string egressOf(const GuestPort& gp) { return gp.tap ? tapOut(*gp.tap) : vfOut(*gp.vf); }

// The port vnf-fwd sends guest port `index`'s frames out of: its default pairs 0-1, 2-3, ... (one
// port: 0-0), which vnfctl's guest init uses (it passes no --pair); -1 for a port in no pair.
int pairOf(int index, std::size_t count) {
  if (count == 1) return 0;
  const int j = index ^ 1;
  return static_cast<std::size_t>(j) < count ? j : -1;
}

// The ways packets travel through a VNF, as hop names: for each guest port i, what enters it (tap
// i's tx: what the host sends the guest; or VF i's rx), guest port i rx, guest port j tx (j: i's
// pair), and what leaves by j (tap j's rx, or VF j's tx). Rates are compared along these only.
std::vector<std::vector<std::string>> directions(const VnfPath& v) {
  std::vector<std::vector<std::string>> out;
  const auto ports = guestPorts(v);
  for (const auto& gp : ports) {
    const int j = pairOf(gp.index, ports.size());
    if (j < 0) continue;
    out.push_back({ingressOf(gp), guestRx(gp.index), guestTx(j), egressOf(ports[static_cast<std::size_t>(j)])});
  }
  return out;
}

// Samples every hop of a VNF's path, in the order packets travel: PF, what enters the guest (VF
// rx, tap), the guest ports, what leaves it (VF tx, tap). `sample`: 0 before the window, 1 after.
std::vector<HopSample> sampleHops(Ctx& c, const VnfPath& v, const nlohmann::json* fwd, int sample) {
  std::vector<HopSample> out, egress;
  for (const auto& vf : v.meta.vfs) {
    std::string pf = c.netdevOf(vf.pf.str());
    if (pf.empty()) continue;
    HopSample h{fmt::format("PF {} rx", pf), c.via(fmt::format("/sys/class/net/{}/statistics", pf)), {}, {}, false};
    if (auto s = c.probe.linkStats(pf)) {
      h.packets = get(*s, "rx_packets");
      h.drops = dropCounters(*s, {"rx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_over_errors"});
    }
    if (auto n = c.probe.nicStats(pf)) {
      for (const auto& [k, val] : *n) {
        // One source per counter: the driver's ethtool rx_missed_errors is the link's (same number).
        if (h.drops.count(k)) continue;
        if (k.find("missed") != std::string::npos || k.find("no_buffer") != std::string::npos ||
            k.find("nobuf") != std::string::npos)
          h.drops["ethtool " + k] = val;
      }
      h.where += ", " + c.via("ETHTOOL_GSTATS " + pf);
    }
    out.push_back(std::move(h));
    const auto& stats = c.vfStats(pf, sample);
    if (!stats) continue;
    auto it = stats->find(vf.vf_index);
    if (it == stats->end()) continue;
    const std::string where = c.via(fmt::format("RTM_GETLINK {} IFLA_VF_STATS (VF {})", pf, vf.vf_index));
    out.push_back({vfIn(vf), where, get(it->second, "rx_packets"), dropCounters(it->second, {"rx_dropped"})});
    egress.push_back({vfOut(vf), where, get(it->second, "tx_packets"), dropCounters(it->second, {"tx_dropped"})});
  }
  for (const auto& t : v.taps) {
    const std::string where = c.via(fmt::format("/sys/class/net/{}/statistics", t.dev));
    HopSample in{tapIn(t), where, {}, {}}, outward{tapOut(t), where, {}, {}};
    if (auto s = c.probe.linkStats(t.dev)) {
      in.packets = get(*s, "tx_packets");  // the host transmits what the guest receives
      in.drops = dropCounters(*s, {"tx_dropped"});
      outward.packets = get(*s, "rx_packets");  // and receives what the guest sends
      outward.drops = dropCounters(*s, {"rx_dropped"});
    }
    out.push_back(std::move(in));
    egress.push_back(std::move(outward));
  }
  if (fwd) {
    for (const auto& p : fwd->value("ports", nlohmann::json::array())) {
      if (!p.is_object()) continue;
      int idx = p.value("index", 0);
      HopSample rx{guestRx(idx), c.via(fmt::format("VNF-FWD STATS in {}", v.serial_log)), p.value("rx", 0ull), {}};
      // "drops" is not one of them: it sums these and the TX port's tx_full_drops (the tx hop's).
      for (const char* k : {"imissed", "rx_nombuf", "ierrors", "mtu_drops"}) rx.drops[k] = p.value(k, 0ull);
      out.push_back(std::move(rx));
      HopSample tx{guestTx(idx), c.via(fmt::format("VNF-FWD STATS in {}", v.serial_log)), p.value("tx", 0ull), {}};
      tx.drops["tx_full_drops"] = p.value("tx_full_drops", 0ull);
      out.push_back(std::move(tx));
    }
  }
  for (auto& h : egress) out.push_back(std::move(h));
  return out;
}

const char* likelyCause(const std::string& counter, const std::string& hop) {
  if (counter.find("missed") != std::string::npos || counter.find("fifo") != std::string::npos ||
      counter.find("no_buffer") != std::string::npos || counter.find("nobuf") != std::string::npos)
    return "the NIC's RX ring was full: the consumer (the VF's guest or the host stack) did not drain it in time";
  const bool vf = hop.rfind("VF ", 0) == 0;
  if (vf && counter == "rx_dropped")
    return "the VF's RX queue was full: the guest forwarder did not drain it in time (or its ring is small)";
  if (vf && counter == "tx_dropped")
    return "the VF could not send: its TX queue was full, or the NIC's switch refused the frames (spoof check, "
           "VLAN filter)";
  if (counter == "tx_dropped")
    return "the guest's virtio RX ring was full (the forwarder polls too slowly, or its ring is small)";
  if (counter == "imissed" || counter == "rx_nombuf") return "the guest port's RX ring or mbuf pool ran out";
  if (counter == "mtu_drops") return "frames larger than the guest port's MTU";
  if (counter == "tx_full_drops") return "the guest port's TX ring was full (the next hop is slower)";
  if (counter == "rx_dropped") return "the kernel dropped received frames (no socket/bridge took them, or a filter)";
  return "packets counted as dropped at this hop";
}

void comparePath(Ctx& c, const VnfPath& v, const std::vector<HopSample>& a, const std::vector<HopSample>& b,
                 double seconds, const nlohmann::json* fwd_now, std::vector<Hop>& hops) {
  std::string first_counter;
  const std::size_t base = hops.size();
  std::map<std::string, std::size_t> index;  // hop name -> position in hops, for hops with a rate
  for (const auto& s0 : a) {
    // The same hop in the second sample (a hop may be missing from it: the forwarder's stats line
    // was not there the second time).
    auto s1 = std::find_if(b.begin(), b.end(), [&](const HopSample& h) { return h.hop == s0.hop; });
    if (s1 == b.end()) continue;
    Hop h{v.name, s0.hop, s0.where, 0, 0, ""};
    const bool counted = s0.packets && s1->packets && *s1->packets >= *s0.packets;
    if (counted) h.packets_per_s = static_cast<double>(*s1->packets - *s0.packets) / seconds;
    std::uint64_t worst = 0;
    std::string worst_name;
    for (const auto& [k, before] : s0.drops) {
      auto it = s1->drops.find(k);
      if (it == s1->drops.end() || it->second <= before) continue;
      std::uint64_t d = it->second - before;
      h.dropped += d;
      h.drop_counters += fmt::format("{}{} +{}", h.drop_counters.empty() ? "" : ", ", k, d);
      if (d > worst) worst = d, worst_name = k;
    }
    hops.push_back(std::move(h));
    if (hops.back().dropped > 0 && first_counter.empty()) first_counter = worst_name;
    if (counted && s0.rate) index[s0.hop] = hops.size() - 1;
  }
  const Hop* first_drop = nullptr;
  for (std::size_t i = base; i < hops.size(); ++i) {
    if (hops[i].dropped > 0) {
      first_drop = &hops[i];
      break;
    }
  }
  // A fall in rate only along a way packets really travel (tap 0 in, tap 1 out is healthy).
  const Hop* fall_from = nullptr;
  const Hop* fall_to = nullptr;
  for (const auto& way : directions(v)) {
    const Hop* prev = nullptr;
    for (const auto& name : way) {
      auto it = index.find(name);
      if (it == index.end()) continue;  // not sampled (no forwarder stats, no VF statistics)
      const Hop* cur = &hops[it->second];
      if (prev && prev->packets_per_s > 100 && cur->packets_per_s < prev->packets_per_s * 0.9) {
        fall_from = prev;
        fall_to = cur;
        break;
      }
      prev = cur;
    }
    if (fall_from) break;
  }
  Finding f{"path.drops", v.name, Severity::kOk, "", "", "", ""};
  if (first_drop) {
    std::string counter = first_counter;
    if (counter.rfind("ethtool ", 0) == 0) counter = counter.substr(8);
    f.severity = Severity::kFail;
    f.seen = fmt::format("first hop with drops in {:.1f} s: {} ({}), {:.0f} packets/s", seconds, first_drop->hop,
                         first_drop->drop_counters, first_drop->packets_per_s);
    f.where = first_drop->where;
    f.meaning = fmt::format("packets die at {}: {}", first_drop->hop, likelyCause(counter, first_drop->hop));
    // The guest port behind a tap, a VF or a guest rx hop, and its RX ring as the forwarder reports it.
    std::optional<GuestPort> guest;
    for (const auto& gp : guestPorts(v)) {
      if (first_drop->hop == ingressOf(gp) || first_drop->hop == guestRx(gp.index)) guest = gp;
    }
    const nlohmann::json* port = guest ? forwarderPort(fwd_now, guest->index) : nullptr;
    std::optional<std::uint64_t> rxd;
    if (port && port->contains("rxd") && (*port)["rxd"].is_number_unsigned()) rxd = (*port)["rxd"].get<std::uint64_t>();
    const bool vf_rx = first_drop->hop.rfind("VF ", 0) == 0 && counter == "rx_dropped";
    const bool ring_full = (counter == "tx_dropped" && first_drop->hop.rfind("tap ", 0) == 0) || counter == "imissed" ||
                           counter == "rx_nombuf" || vf_rx;
    // A VF in mode hostdev is driven by the guest's own driver, not vnf-fwd: its ring is the guest's.
    const bool hostdev_vf = first_drop->hop.rfind("VF ", 0) == 0 && !guest &&
                            std::any_of(v.meta.vfs.begin(), v.meta.vfs.end(), [&](const VfMetadata& vf) {
                              return first_drop->hop == vfIn(vf) || first_drop->hop == vfOut(vf);
                            });
    if (first_drop->hop.rfind("PF ", 0) == 0) {
      f.fix = fmt::format("vnfctl tune {} --rings max", v.name);
    } else if (hostdev_vf) {
      f.meaning = fmt::format(
          "packets die at {}, a VF passed to the guest as a PCI device (mode hostdev): the guest's own driver "
          "owns its rings, not vnf-fwd",
          first_drop->hop);
      f.fix =
          "inside the guest, raise that NIC's ring (ethtool -G IFACE rx 4096) or give the VNF dedicated vCPUs "
          "(cpu_policy: dedicated)";
    } else if (guest && ring_full) {
      f.meaning = fmt::format("packets die at the guest forwarder's RX ring (guest port {}{}), seen at {}: {}",
                              guest->index, rxd ? fmt::format(", {} descriptors", *rxd) : std::string(),
                              first_drop->hop, likelyCause(counter, first_drop->hop));
      f.fix = descriptorFix("rx_descriptors", rxd, guest->tap != nullptr) +
              "; or give the forwarder a dedicated vCPU (cpu_policy: dedicated)";
    } else if (first_drop->hop.rfind("tap ", 0) == 0 || first_drop->hop.find(" rx") != std::string::npos) {
      f.fix =
          "give the forwarder more RX descriptors (the spec's guest.forwarder.rx_descriptors) or a dedicated "
          "vCPU (cpu_policy: dedicated), then vnfctl launch SPEC --replace";
    } else {
      f.fix = "check the next hop's capacity (vnfctl diagnose on its VNF or NIC)";
    }
  } else if (fall_from) {
    f.severity = Severity::kWarn;
    f.seen = fmt::format("{:.0f} packets/s at {} but {:.0f} at {} over {:.1f} s, no drop counter grew",
                         fall_from->packets_per_s, fall_from->hop, fall_to->packets_per_s, fall_to->hop, seconds);
    f.where = fall_to->where;
    f.meaning = fmt::format(
        "packets are lost between {} and {} where no counter sees them (a filter, or the "
        "guest forwards less than it receives)",
        fall_from->hop, fall_to->hop);
    f.fix = fmt::format("vnfctl diagnose {} --json (forward.* and vlan.* findings)", v.name);
  } else {
    f.seen = fmt::format("{} hop{} sampled over {:.1f} s, no drop counter grew", hops.size() - base,
                         hops.size() - base == 1 ? "" : "s", seconds);
    f.where = hops.size() > base ? hops[base].where : "";
  }
  c.add(std::move(f));
}

// By VNF in name order, the host's last; within one, in the order the checks ran.
void sortFindings(std::vector<Finding>& f) {
  std::stable_sort(f.begin(), f.end(), [](const Finding& a, const Finding& b) {
    if (a.vnf.empty() != b.vnf.empty()) return b.vnf.empty();
    return a.vnf < b.vnf;
  });
}

}  // namespace

Result<Report> runDiagnose(const HostFs& fs, Probe& probe, const Request& request) {
  auto domains = probe.domains();
  if (!domains) return std::unexpected(domains.error());
  std::vector<const DomainRecord*> chosen;
  for (const auto& name : request.names) {
    auto it = std::find_if(domains->begin(), domains->end(), [&](const auto& d) { return d.name == name; });
    if (it == domains->end()) {
      std::string best;
      std::size_t best_d = 3;
      for (const auto& d : *domains) {
        auto dist = editDistance(name, d.name);
        if (dist < best_d) best_d = dist, best = d.name;
      }
      std::string fix = best.empty() ? "vnfctl list shows the VNFs vnfctl manages"
                                     : fmt::format("did you mean {}? (vnfctl list shows them all)", best);
      return fail(Errc::kNoSuchVnf,
                  fmt::format("no VNF named '{}' ({} VNF{} managed here)", name, domains->size(),
                              domains->size() == 1 ? "" : "s"),
                  fix);
    }
    if (std::find(chosen.begin(), chosen.end(), &*it) == chosen.end()) chosen.push_back(&*it);
  }
  if (request.all)
    for (const auto& d : *domains)
      if (std::find(chosen.begin(), chosen.end(), &d) == chosen.end()) chosen.push_back(&d);

  Report report;
  Ctx c{fs, probe, report.findings};
  std::vector<VnfPath> paths;
  for (const auto* d : chosen) {
    auto p = parseVnfPath(*d);
    if (!p) {
      c.add({"vnf.metadata", d->name, Severity::kFail, p.error().message, c.via("libvirt domain XML"),
             "diagnose cannot know this VNF's path without vnfctl's metadata", p.error().fix});
      continue;
    }
    paths.push_back(std::move(*p));
  }
  std::vector<std::optional<nlohmann::json>> fwd(paths.size());
  std::vector<std::string> serial(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto& v = paths[i];
    if (!v.running()) {
      c.add({"vnf.state", v.name, Severity::kFail, fmt::format("the domain is {}", v.state), c.via("libvirt"),
             "it forwards nothing; the runtime checks (NUMA threads, forwarder counters, sampling) are skipped",
             fmt::format("vnfctl start {}", v.name)});
    } else {
      c.add({"vnf.state", v.name, Severity::kOk, "running", c.via("libvirt"), "", ""});
      if (!v.serial_log.empty()) {
        if (auto t = probe.serialTail(v.serial_log)) {
          serial[i] = std::move(*t);
          fwd[i] = lastForwarderStats(serial[i]);
        }
      }
    }
    const nlohmann::json* stats = fwd[i] ? &*fwd[i] : nullptr;
    checkDmar(c, v);
    checkVlan(c, v, stats);
    checkMtu(c, v, stats);
    checkForwarding(c, v);
    checkNuma(c, v);
    checkRings(c, v, serial[i], stats);
    checkOffloads(c, v);
  }
  if (std::any_of(paths.begin(), paths.end(), [](const VnfPath& p) { return !p.taps.empty(); })) checkLegacyIptables(c);
  auto thermal0 = sampleThermal(c, false);
  if (request.window.count() <= 0) {
    checkThermal(c, thermal0, nullptr);
    sortFindings(report.findings);
    return report;
  }
  std::vector<std::vector<HopSample>> first(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i)
    if (paths[i].running()) first[i] = sampleHops(c, paths[i], fwd[i] ? &*fwd[i] : nullptr, 0);
  probe.advance(request.window);
  auto thermal1 = sampleThermal(c, true);
  checkThermal(c, thermal0, &thermal1);
  double seconds = static_cast<double>(request.window.count()) / 1000.0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!paths[i].running()) continue;
    std::optional<nlohmann::json> later;
    if (!paths[i].serial_log.empty()) {
      if (auto t = probe.serialTail(paths[i].serial_log)) later = lastForwarderStats(*t);
    }
    auto second = sampleHops(c, paths[i], later ? &*later : nullptr, 1);
    const nlohmann::json* fwd_now = later ? &*later : (fwd[i] ? &*fwd[i] : nullptr);
    comparePath(c, paths[i], first[i], second, seconds, fwd_now, report.hops);
  }
  sortFindings(report.findings);
  return report;
}

}  // namespace vnf::diagnose
