#include "virt/verify.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "host/parse.h"

namespace vnf {
namespace {

std::string readSmall(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<int> cpusOfMap(const unsigned char* map, int maplen, int ncpus) {
  std::vector<int> out;
  for (int c = 0; c < ncpus && c / 8 < maplen; ++c) {
    if (map[c / 8] & (1u << (c % 8))) out.push_back(c);
  }
  return out;
}

// Threads of a process: name (comm) -> allowed CPUs.
std::map<std::string, std::vector<int>> threadAffinities(int pid) {
  std::map<std::string, std::vector<int>> out;
  std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string base = dir + "/" + e->d_name;
    std::string comm(trim(readSmall(base + "/comm")));
    std::string status = readSmall(base + "/status");
    auto at = status.find("Cpus_allowed_list:");
    if (at == std::string::npos) continue;
    auto end = status.find('\n', at);
    auto list = parseCpuList(status.substr(at + 18, end - at - 18));
    if (list) out[comm + "#" + e->d_name] = *list;
  }
  ::closedir(d);
  return out;
}

// Pages of the guest's memory per host node, from numa_maps (hugetlbfs mappings when backed).
std::map<int, std::uint64_t> memoryNodes(int pid, bool huge_only) {
  std::map<int, std::uint64_t> out;
  std::ifstream f(fmt::format("/proc/{}/numa_maps", pid));
  std::string line;
  while (std::getline(f, line)) {
    if (huge_only && line.find(" huge") == std::string::npos) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w.size() > 1 && w[0] == 'N' && w.find('=') != std::string::npos) {
        auto node = parseInt(w.substr(1, w.find('=') - 1));
        auto pages = parseUnsigned(w.substr(w.find('=') + 1));
        if (node && pages) out[static_cast<int>(*node)] += *pages;
      }
    }
  }
  return out;
}

}  // namespace

Result<std::vector<VerifyCheck>> verifyDomain(const Connection& conn, const ManagedDomain& m) {
  std::vector<VerifyCheck> out;
  virDomainPtr d = virDomainLookupByName(conn.get(), m.name.c_str());
  if (!d) return std::unexpected(lastLibvirtError("look up " + m.name));
  DomainHandle dom(d);
  if (virDomainIsActive(d) != 1) {
    return fail(Errc::kConflict, fmt::format("{} is not running; verify reads back a running VNF", m.name),
                fmt::format("start it: vnfctl start {}", m.name));
  }
  int ncpus = virNodeGetCPUMap(conn.get(), nullptr, nullptr, 0);
  if (ncpus <= 0) return std::unexpected(lastLibvirtError("read the host CPU count"));
  const int maplen = VIR_CPU_MAPLEN(ncpus);
  // 1. libvirt's pinning of each vCPU and of the emulator.
  if (!m.meta.vcpu_pins.empty()) {
    int nv = static_cast<int>(m.meta.vcpu_pins.size());
    std::vector<unsigned char> maps(static_cast<std::size_t>(nv * maplen));
    int got = virDomainGetVcpuPinInfo(d, nv, maps.data(), maplen, VIR_DOMAIN_AFFECT_LIVE);
    for (int v = 0; v < nv; ++v) {
      auto cpus = got > v ? cpusOfMap(&maps[static_cast<std::size_t>(v * maplen)], maplen, ncpus) : std::vector<int>{};
      std::string want = std::to_string(m.meta.vcpu_pins[v]);
      out.push_back(
          {fmt::format("vCPU {} pinning (libvirt)", v), want, formatCpuList(cpus), formatCpuList(cpus) == want});
    }
    // The vCPU threads' real affinity, and the host CPU each ran on last.
    std::vector<virVcpuInfo> info(static_cast<std::size_t>(nv));
    std::vector<unsigned char> real(static_cast<std::size_t>(nv * maplen));
    int n = virDomainGetVcpus(d, info.data(), nv, real.data(), maplen);
    for (int v = 0; v < n; ++v) {
      auto cpus = cpusOfMap(&real[static_cast<std::size_t>(v * maplen)], maplen, ncpus);
      std::string want = std::to_string(m.meta.vcpu_pins[v]);
      out.push_back({fmt::format("vCPU {} thread affinity (kernel)", v), want,
                     fmt::format("{} (last ran on CPU {})", formatCpuList(cpus), info[v].cpu),
                     formatCpuList(cpus) == want});
    }
  }
  std::vector<unsigned char> emap(static_cast<std::size_t>(maplen));
  if (virDomainGetEmulatorPinInfo(d, emap.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) >= 0) {
    auto cpus = cpusOfMap(emap.data(), maplen, ncpus);
    std::string want = formatCpuList(m.meta.emulator_cpus);
    out.push_back({"emulator pinning (libvirt)", want, formatCpuList(cpus), formatCpuList(cpus) == want});
  }
  // 2. The QEMU process itself: its main thread's affinity and where its memory lives.
  std::string pid_text(trim(readSmall(fmt::format("/run/libvirt/qemu/{}.pid", m.name))));
  auto pid = parseInt(pid_text);
  if (pid && *pid > 0) {
    auto threads = threadAffinities(static_cast<int>(*pid));
    std::string want = formatCpuList(m.meta.emulator_cpus);
    for (const auto& [name, cpus] : threads) {
      if (name.starts_with("qemu-system")) {
        out.push_back({"QEMU main thread affinity (/proc)", want, formatCpuList(cpus), formatCpuList(cpus) == want});
        break;
      }
    }
    bool huge = m.meta.page_size_kib > 0;
    auto nodes = memoryNodes(static_cast<int>(*pid), huge);
    std::string where;
    for (const auto& [node, pages] : nodes)
      where += fmt::format("{}node {}: {} pages", where.empty() ? "" : ", ", node, pages);
    bool ok = !nodes.empty() && nodes.size() == 1 && nodes.begin()->first == m.meta.node;
    out.push_back({huge ? "guest hugepages' NUMA node (numa_maps)" : "guest memory's NUMA node (numa_maps)",
                   fmt::format("node {}", m.meta.node), where.empty() ? "none found" : where, ok});
  } else {
    out.push_back({"QEMU process", "a pid in /run/libvirt/qemu", "not readable (remote URI or not root?)", false});
  }
  // 3. VFs: each recorded VF appears in the live definition.
  char* text = virDomainGetXMLDesc(d, 0);
  std::string xml = text ? text : "";
  free(text);
  for (const auto& vf : m.meta.vfs) {
    auto a = vf.vf;
    std::string needle = fmt::format("bus='0x{:02x}' slot='0x{:02x}' function='0x{:x}'", a.bus, a.device, a.function);
    bool found = xml.find(needle) != std::string::npos;
    out.push_back({fmt::format("VF of nic{}", vf.nic_index), a.str(), found ? a.str() : "not in the live XML", found});
  }
  return out;
}

}  // namespace vnf
