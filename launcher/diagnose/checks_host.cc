// IOMMU/DMAR faults, NUMA alignment of the live domain, and thermal throttling.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diagnose/context.h"
#include "host/parse.h"

namespace vnf::diagnose {
namespace {

// Does a line name this PCI function, as "0000:81:10.2" or as DMAR's "[81:10.2]"? Both forms are
// made once per VF, not per line (64 VNFs x 2,000 records made this the run's main cost).
struct DeviceNames {
  explicit DeviceNames(const PciAddress& a) : full(a.str()) {
    if (a.domain == 0) shortform = fmt::format("[{}]", full.substr(5));
  }
  bool in(std::string_view l) const {
    return l.find(full) != std::string_view::npos ||
           (!shortform.empty() && l.find(shortform) != std::string_view::npos);
  }
  std::string full;
  std::string shortform;
};

std::string dmarMeaning(std::string_view l) {
  if (l.find("INTR-REMAP") != std::string_view::npos || l.find("INVALID_DEVICE_REQUEST") != std::string_view::npos)
    return "the IOMMU blocked the VF's interrupt (interrupt remapping): the guest misses RX interrupts and the "
           "VF's driver may reset";
  return "the IOMMU blocked a DMA of the VF to an address not mapped for it: the packets of that DMA are lost "
         "(a guest driver using stale buffers, a VF reset under a running guest, or an IOMMU group shared with "
         "a host device)";
}

std::set<int> cpuSet(const std::vector<int>& v) { return {v.begin(), v.end()}; }

}  // namespace

void checkDmar(Ctx& c, const VnfPath& v) {
  if (v.meta.vfs.empty()) return;
  const auto& log = c.kernelLog();
  if (!log) {
    c.add({"iommu.dmar", v.name, Severity::kInfo, log.error().message,
           c.via("kernel log (/dev/kmsg, /var/log/kern.log)"), "IOMMU faults of the VNF's VFs cannot be checked",
           log.error().fix});
    return;
  }
  const auto& iommu = c.iommuLog();
  for (const auto& vf : v.meta.vfs) {
    std::size_t n = 0;
    std::string last;
    const DeviceNames names(vf.vf);
    for (const auto& l : iommu) {
      if (names.in(l)) {
        ++n;
        last = l;
      }
    }
    Finding f{"iommu.dmar", v.name, Severity::kOk, "", c.via(fmt::format("kernel log ({})", log->source)), "", ""};
    if (n == 0) {
      f.seen = fmt::format("no IOMMU fault names VF {} in {} kernel log records", vf.vf.str(), log->records.size());
      c.add(std::move(f));
      continue;
    }
    f.severity = Severity::kFail;
    f.seen = fmt::format("{} IOMMU fault record{} name VF {}; last: {}", n, n == 1 ? "" : "s", vf.vf.str(), last);
    f.meaning = dmarMeaning(last);
    // A group holding other devices: they may own the faulting DMA, or the guest may not own the group.
    std::string group = fmt::format("/sys/bus/pci/devices/{}/iommu_group/devices", vf.vf.str());
    if (auto members = c.fs.listDir(group)) {
      std::erase(*members, vf.vf.str());
      if (!members->empty()) f.meaning += fmt::format("; its IOMMU group is shared with {}", fmt::join(*members, ", "));
    }
    f.fix = fmt::format(
        "vnfctl doctor (iommu.* checks: interrupt remapping, groups); then vnfctl stop {0} && "
        "vnfctl start {0} to reset the VF under a fresh mapping",
        v.name);
    c.add(std::move(f));
  }
}

void checkNuma(Ctx& c, const VnfPath& v) {
  int node = v.meta.node;
  for (const auto& vf : v.meta.vfs) {
    std::string path = fmt::format("/sys/bus/pci/devices/{}/numa_node", vf.vf.str());
    auto vf_node = c.readInt(path);
    if (!vf_node || *vf_node < 0 || node < 0) continue;
    Finding f{"numa.vf", v.name, Severity::kOk, "", c.file(path), "", ""};
    if (*vf_node != node) {
      f.severity = Severity::kFail;
      f.seen = fmt::format("VF {} is on node {}, the VNF's vCPUs and memory on node {}", vf.vf.str(), *vf_node, node);
      f.meaning =
          "every packet crosses the inter-socket link twice (DMA to remote memory, remote cache lines): "
          "typically 20-40% less throughput and higher latency";
      f.fix = fmt::format("vnfctl launch SPEC --replace with numa_affinity: required (vnfctl plan shows node {})",
                          *vf_node);
    } else {
      f.seen = fmt::format("VF {} and the VNF both on node {}", vf.vf.str(), node);
    }
    c.add(std::move(f));
    node = static_cast<int>(*vf_node);  // what the rest is judged against: where the packets arrive
  }
  if (node < 0 || !v.running()) return;
  auto local = cpuSet(c.nodeCpus(node));
  if (local.empty()) return;
  std::string pidfile = fmt::format("/run/libvirt/qemu/{}.pid", v.name);
  auto pid = c.readInt(pidfile);
  if (!pid || *pid <= 0) {
    c.add({"numa.threads", v.name, Severity::kInfo, fmt::format("{} unreadable", pidfile), c.file(pidfile),
           "the QEMU threads' real affinity cannot be checked (not root, or a remote host)", ""});
  } else {
    std::string tasks = fmt::format("/proc/{}/task", *pid);
    std::vector<std::string> vcpu_off, other_off;
    if (auto tids = c.fs.listDir(tasks)) {
      for (const auto& tid : *tids) {
        auto comm = c.readTrimmed(fmt::format("{}/{}/comm", tasks, tid)).value_or("?");
        auto status = c.fs.readText(fmt::format("{}/{}/status", tasks, tid));
        if (!status) continue;
        auto at = status->find("Cpus_allowed_list:");
        if (at == std::string::npos) continue;
        auto line = std::string_view(*status).substr(at + 18);
        auto cpus = parseCpuList(trim(line.substr(0, line.find('\n'))));
        if (!cpus) continue;
        bool inside = std::all_of(cpus->begin(), cpus->end(), [&](int cpu) { return local.count(cpu); });
        if (inside) continue;
        bool vcpu = comm.rfind("CPU ", 0) == 0;
        (vcpu ? vcpu_off : other_off).push_back(fmt::format("{} ({}) on {}", tid, comm, formatCpuList(*cpus)));
      }
    }
    Finding f{"numa.threads", v.name, Severity::kOk, "", c.file(tasks + "/*/status"), "", ""};
    if (!vcpu_off.empty() || !other_off.empty()) {
      f.severity = vcpu_off.empty() ? Severity::kWarn : Severity::kFail;
      std::vector<std::string> all = vcpu_off;
      all.insert(all.end(), other_off.begin(), other_off.end());
      f.seen = fmt::format("threads allowed off node {} (CPUs {}): {}", node,
                           formatCpuList({local.begin(), local.end()}), fmt::join(all, "; "));
      f.meaning = vcpu_off.empty() ? "emulator threads run on a remote node: their I/O work crosses sockets"
                                   : "vCPUs run on a remote node: the forwarder reads every packet from remote memory";
      f.fix = fmt::format("vnfctl verify {} shows the pinning; relaunch with vnfctl launch SPEC --replace", v.name);
    } else {
      f.seen = fmt::format("every QEMU thread is allowed only node {}'s CPUs", node);
    }
    c.add(std::move(f));
    // numa_maps: "N0=123 N1=4 kernelpagesize_kB=2048" per mapping.
    std::string maps = fmt::format("/proc/{}/numa_maps", *pid);
    if (auto text = c.fs.readText(maps)) {
      std::map<int, std::uint64_t> kib;
      std::string_view rest = *text;
      while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        std::uint64_t page = 4;
        if (auto k = line.find("kernelpagesize_kB="); k != std::string_view::npos) {
          auto tail = line.substr(k + 18);
          page = parseUnsigned(tail.substr(0, tail.find(' '))).value_or(4);
        }
        for (std::size_t p = line.find(" N"); p != std::string_view::npos; p = line.find(" N", p + 1)) {
          auto tok = line.substr(p + 2);
          tok = tok.substr(0, tok.find(' '));
          auto eq = tok.find('=');
          if (eq == std::string_view::npos) continue;
          auto n = parseInt(tok.substr(0, eq));
          auto pages = parseUnsigned(tok.substr(eq + 1));
          if (n && pages) kib[static_cast<int>(*n)] += *pages * page;
        }
      }
      std::uint64_t total = 0;
      for (const auto& [n, k] : kib) total += k;
      if (total > 0) {
        double share = static_cast<double>(kib[node]) / static_cast<double>(total);
        Finding m{"numa.memory", v.name, Severity::kOk, "", c.file(maps), "", ""};
        std::vector<std::string> parts;
        for (const auto& [n, k] : kib) parts.push_back(fmt::format("node {} {} MiB", n, k / 1024));
        m.seen =
            fmt::format("{:.0f}% of the guest's memory on node {} ({})", share * 100, node, fmt::join(parts, ", "));
        if (share < 0.9) {
          m.severity = Severity::kFail;
          m.meaning = "packet buffers live in remote memory: each packet crosses the inter-socket link";
          m.fix = fmt::format(
              "vnfctl verify {} ; relaunch with hugepages on node {} (vnfctl prepare, then vnfctl "
              "launch SPEC --replace)",
              v.name, node);
        }
        c.add(std::move(m));
      }
    }
  }
  // The PF's queue IRQs: off-node affinity moves the RX interrupt work (and its cache lines) away.
  std::set<std::string> pfs;
  for (const auto& vf : v.meta.vfs) pfs.insert(vf.pf.str());
  for (const auto& pf : pfs) {
    const auto& irqs = c.pfIrqs(pf);
    if (!irqs) continue;
    std::vector<std::string> off;
    for (const auto& [irq, cpus_text] : *irqs) {
      if (!cpus_text) continue;
      auto cpus = parseCpuList(*cpus_text);
      if (cpus && !std::all_of(cpus->begin(), cpus->end(), [&](int cpu) { return local.count(cpu); }))
        off.push_back(fmt::format("{}->{}", irq, *cpus_text));
    }
    Finding f{"numa.irq", v.name, Severity::kOk, "", c.file("/proc/irq/*/smp_affinity_list"), "", ""};
    std::string dev = c.netdevOf(pf);
    if (!off.empty()) {
      f.severity = Severity::kWarn;
      f.seen =
          fmt::format("{} of {} IRQs of PF {} may run off node {}: {}", off.size(), irqs->size(), pf, node,
                      fmt::join(off.size() > 8 ? std::vector<std::string>(off.begin(), off.begin() + 8) : off, " "));
      f.meaning = "the PF's queue interrupts are handled on a remote node (host-stack traffic and VF mailbox work)";
      f.fix = fmt::format("vnfctl tune --nic {} --irq-affinity local", dev.empty() ? pf : dev);
    } else {
      f.seen = fmt::format("all {} IRQs of PF {} on node {}", irqs->size(), pf, node);
    }
    c.add(std::move(f));
  }
}

ThermalSample sampleThermal(Ctx& c, bool reread) {
  ThermalSample s;
  auto cpus = c.fs.listDir("/sys/devices/system/cpu");
  if (!cpus) return s;
  for (const auto& cpu : *cpus) {
    if (cpu.rfind("cpu", 0) != 0 || cpu.size() < 4 || !std::isdigit(static_cast<unsigned char>(cpu[3]))) continue;
    for (const char* k : {"core_throttle_count", "package_throttle_count"}) {
      std::string path = fmt::format("/sys/devices/system/cpu/{}/thermal_throttle/{}", cpu, k);
      Result<std::string> text = reread ? c.probe.reread(path) : c.fs.readText(path);
      if (!text && reread) text = c.fs.readText(path);
      if (!text) continue;
      if (auto v = parseUnsigned(trim(*text))) s.throttle[path] = *v;
    }
  }
  return s;
}

void checkThermal(Ctx& c, const ThermalSample& first, const ThermalSample* later) {
  std::uint64_t total = 0;
  std::vector<std::string> counting, growing;
  for (const auto& [path, n] : first.throttle) {
    total += n;
    if (n > 0) counting.push_back(fmt::format("{} = {}", path.substr(24), n));
    if (later) {
      auto it = later->throttle.find(path);
      if (it != later->throttle.end() && it->second > n)
        growing.push_back(fmt::format("{} +{}", path.substr(24), it->second - n));
    }
  }
  Finding f{"thermal.throttle", "", Severity::kOk, "", c.file("/sys/devices/system/cpu/cpu*/thermal_throttle"), "", ""};
  if (first.throttle.empty()) {
    f.severity = Severity::kInfo;
    f.seen = "no thermal_throttle counters (not an Intel CPU, or a VM)";
  } else if (!growing.empty()) {
    f.severity = Severity::kFail;
    f.seen = fmt::format("throttling during the sample: {}", fmt::join(growing, ", "));
    f.meaning = "CPUs are slowed down right now: the forwarders on them lose packets at their normal rate";
    f.fix = "check cooling and power limits (BIOS), and move VNFs off the hot package; `turbostat` shows the clock";
  } else if (total > 0) {
    f.severity = Severity::kWarn;
    f.seen = fmt::format(
        "{} throttle events since boot: {}", total,
        fmt::join(counting.size() > 6 ? std::vector<std::string>(counting.begin(), counting.begin() + 6) : counting,
                  ", "));
    f.meaning = "CPUs have been throttled for heat; past drops may come from it (not growing now)";
    f.fix = "vnfctl diagnose --all --seconds 10 shows whether it grows under load";
  } else {
    f.seen = fmt::format("{} throttle counters, all 0", first.throttle.size());
  }
  c.add(std::move(f));
  // Temperatures against their own limits: thermal zones' trip points and hwmon's max/crit.
  std::vector<std::string> hot;
  if (auto zones = c.fs.listDir("/sys/class/thermal")) {
    for (const auto& z : *zones) {
      if (z.rfind("thermal_zone", 0) != 0) continue;
      std::string dir = "/sys/class/thermal/" + z;
      auto temp = c.readInt(dir + "/temp");
      if (!temp) continue;
      for (int i = 0; i < 16; ++i) {
        auto type = c.readTrimmed(fmt::format("{}/trip_point_{}_type", dir, i));
        if (!type) break;
        auto trip = c.readInt(fmt::format("{}/trip_point_{}_temp", dir, i));
        if (trip && *trip > 0 && (*type == "passive" || *type == "hot" || *type == "critical") && *temp >= *trip) {
          hot.push_back(fmt::format("{} ({}) {:.1f} C >= {} trip {:.1f} C", z,
                                    c.readTrimmed(dir + "/type").value_or("?"), *temp / 1000.0, *type, *trip / 1000.0));
          break;
        }
      }
    }
  }
  if (auto mons = c.fs.listDir("/sys/class/hwmon")) {
    for (const auto& m : *mons) {
      std::string dir = "/sys/class/hwmon/" + m;
      auto name = c.readTrimmed(dir + "/name").value_or(m);
      for (int i = 1; i < 64; ++i) {
        auto in = c.readInt(fmt::format("{}/temp{}_input", dir, i));
        if (!in) continue;
        auto max = c.readInt(fmt::format("{}/temp{}_max", dir, i));
        auto crit = c.readInt(fmt::format("{}/temp{}_crit", dir, i));
        auto limit = max && *max > 0 ? max : crit;
        if (limit && *limit > 0 && *in >= *limit)
          hot.push_back(fmt::format("{} temp{} {:.1f} C >= {:.1f} C", name, i, *in / 1000.0, *limit / 1000.0));
      }
    }
  }
  Finding t{"thermal.temperature", "", Severity::kOk, "", c.file("/sys/class/thermal, /sys/class/hwmon"), "", ""};
  if (!hot.empty()) {
    t.severity = Severity::kWarn;
    t.seen = fmt::format("{}", fmt::join(hot, "; "));
    t.meaning = "a CPU package or a NIC is at its thermal limit: it throttles (CPU) or may drop links (NIC)";
    t.fix = "check cooling and airflow; vnfctl diagnose --all --seconds 10 shows whether throttling grows";
  } else {
    t.seen = "no sensor at or above its limit";
  }
  c.add(std::move(t));
}

}  // namespace vnf::diagnose
