// CPUs, NUMA nodes, hugepages and hugetlbfs mounts.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "discovery/reader.h"

namespace vnf::detail {
namespace {

constexpr const char* kCpuDir = "/sys/devices/system/cpu";
constexpr const char* kNodeDir = "/sys/devices/system/node";

// isolcpus= and nohz_full= may carry flags before the list: "isolcpus=managed_irq,domain,2-7".
std::vector<int> cmdlineCpuList(const KernelInfo& kernel, std::string_view key, Reader& r) {
  auto value = kernel.param(key);
  if (!value) return {};
  std::string_view list = *value;
  while (!list.empty() && !(list.front() >= '0' && list.front() <= '9')) {
    auto comma = list.find(',');
    if (comma == std::string_view::npos) return {};
    list.remove_prefix(comma + 1);
  }
  auto cpus = parseCpuList(list);
  if (!cpus) {
    r.note("/proc/cmdline", fmt::format("{}={}: expected a CPU list such as '2-7'; ignored", key, *value));
    return {};
  }
  return *cpus;
}

std::vector<HugePagePool> readHugepagePools(Reader& r, const std::string& dir) {
  std::vector<HugePagePool> pools;
  auto names = r.fs().listDir(dir);
  if (!names) return pools;
  for (const auto& name : *names) {
    // "hugepages-2048kB"
    if (!name.starts_with("hugepages-") || !name.ends_with("kB")) continue;
    auto size = parseUnsigned(std::string_view(name).substr(10, name.size() - 12));
    if (!size || *size == 0) {
      r.note(dir + "/" + name, "expected a directory named hugepages-<size>kB; ignored");
      continue;
    }
    HugePagePool pool;
    pool.page_size_kib = *size;
    const auto base = dir + "/" + name + "/";
    pool.total = static_cast<std::uint64_t>(r.optionalInt(base + "nr_hugepages", 0, 0, true));
    pool.free = static_cast<std::uint64_t>(r.optionalInt(base + "free_hugepages", 0, 0, true));
    pool.surplus = static_cast<std::uint64_t>(r.optionalInt(base + "surplus_hugepages", 0, 0, false));
    pools.push_back(pool);
  }
  std::sort(pools.begin(), pools.end(),
            [](const HugePagePool& a, const HugePagePool& b) { return a.page_size_kib < b.page_size_kib; });
  return pools;
}

void readMeminfo(Reader& r, const std::string& path, NumaNode& node) {
  auto text = r.fs().readText(path);
  if (!text) {
    r.note(path, text.error().message + "; memory treated as unknown (0)");
    return;
  }
  auto info = parseMeminfo(*text);
  if (!info) {
    r.note(path, "expected lines such as 'Node 0 MemTotal: 16303964 kB'; memory treated as unknown (0)");
    return;
  }
  if (auto it = info->find("MemTotal"); it != info->end()) node.mem_total_kib = it->second;
  if (auto it = info->find("MemFree"); it != info->end()) node.mem_free_kib = it->second;
}

}  // namespace

Result<void> discoverCpus(Reader& r, HostTopology& host) {
  auto names = r.fs().listDir(kCpuDir);
  if (!names) return std::unexpected(names.error());
  std::vector<int> ids;
  for (const auto& name : *names) {
    if (name.size() > 3 && name.starts_with("cpu")) {
      if (auto id = parseCpuList(std::string_view(name).substr(3));
          id && id->size() == 1 && std::to_string(id->front()) == name.substr(3)) {
        ids.push_back(id->front());
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  auto online = r.requiredCpuList(std::string(kCpuDir) + "/online");
  if (!online) return std::unexpected(online.error());
  if (online->empty()) {
    return std::unexpected(badContent(std::string(kCpuDir) + "/online", "at least one online CPU", ""));
  }
  std::set<int> online_set(online->begin(), online->end());
  for (int id : *online) {
    if (!std::binary_search(ids.begin(), ids.end(), id)) {
      return std::unexpected(
          Error{Errc::kBadContent,
                fmt::format("{}/online lists CPU {} but {}/cpu{} does not exist", kCpuDir, id, kCpuDir, id),
                "capture the host again with 'vnfctl snapshot'"});
    }
  }

  auto isolated = r.optionalCpuList(std::string(kCpuDir) + "/isolated");
  for (int c : cmdlineCpuList(host.kernel, "isolcpus", r)) isolated.push_back(c);
  // Kernels without nohz_full= write "(null)" there.
  auto nohz_text = r.optionalText(std::string(kCpuDir) + "/nohz_full");
  auto nohz = nohz_text == "(null)" ? std::vector<int>{} : r.optionalCpuList(std::string(kCpuDir) + "/nohz_full");
  for (int c : cmdlineCpuList(host.kernel, "nohz_full", r)) nohz.push_back(c);
  std::set<int> isolated_set(isolated.begin(), isolated.end());
  std::set<int> nohz_set(nohz.begin(), nohz.end());

  host.cpus.reserve(ids.size());
  std::unordered_map<int, std::size_t> read_by;  // CPU -> index of the sibling whose topology was read
  for (int id : ids) {
    Cpu cpu;
    cpu.id = id;
    cpu.online = online_set.contains(id);
    cpu.isolated = isolated_set.contains(id);
    cpu.nohz_full = nohz_set.contains(id);
    // SMT siblings share their package and core by definition, so a core's topology is read once,
    // from its first online thread (half the files on an SMT host).
    if (auto first = read_by.find(id); cpu.online && first != read_by.end()) {
      const Cpu& f = host.cpus[first->second];
      cpu.package = f.package;
      cpu.core = f.core;
      cpu.die = f.die;
      cpu.siblings = f.siblings;
      host.cpus.push_back(std::move(cpu));
      continue;
    }
    if (cpu.online) {
      const auto topo = fmt::format("{}/cpu{}/topology/", kCpuDir, id);
      auto package = r.requiredInt(topo + "physical_package_id", -1);
      if (!package) return std::unexpected(package.error());
      auto core = r.requiredInt(topo + "core_id", 0);
      if (!core) return std::unexpected(core.error());
      auto siblings = r.requiredCpuList(topo + "thread_siblings_list");
      if (!siblings) return std::unexpected(siblings.error());
      if (std::find(siblings->begin(), siblings->end(), id) == siblings->end()) {
        return std::unexpected(badContent(topo + "thread_siblings_list",
                                          fmt::format("a CPU list that includes CPU {} itself", id),
                                          formatCpuList(*siblings)));
      }
      cpu.package = static_cast<int>(*package);
      cpu.core = static_cast<int>(*core);
      cpu.die = static_cast<int>(r.optionalInt(topo + "die_id", -1, -1, false));
      cpu.siblings = *siblings;
      for (int s : cpu.siblings) {
        if (s != id) read_by.emplace(s, host.cpus.size());
      }
    }
    host.cpus.push_back(std::move(cpu));
  }
  return {};
}

Result<void> discoverNuma(Reader& r, HostTopology& host) {
  const std::string node_dir = kNodeDir;
  if (r.fs().kind(node_dir) != PathKind::kDirectory) {
    // Kernels built without CONFIG_NUMA: the whole machine is node 0.
    r.note(node_dir, "does not exist (kernel without NUMA support); the host is treated as one node 0");
    NumaNode node;
    node.id = 0;
    for (auto& c : host.cpus) {
      if (c.online) node.cpus.push_back(c.id);
      c.node = 0;
    }
    readMeminfo(r, "/proc/meminfo", node);
    node.distances = {10};
    node.hugepages = readHugepagePools(r, "/sys/kernel/mm/hugepages");
    host.nodes.push_back(std::move(node));
    return {};
  }
  auto online = r.requiredCpuList(node_dir + "/online");  // same list syntax as CPUs
  if (!online) return std::unexpected(online.error());
  for (int id : *online) {
    const auto dir = fmt::format("{}/node{}", node_dir, id);
    NumaNode node;
    node.id = id;
    auto cpus = r.requiredCpuList(dir + "/cpulist");
    if (!cpus) return std::unexpected(cpus.error());
    node.cpus = *cpus;
    for (int c : node.cpus) {
      auto cpu = std::lower_bound(host.cpus.begin(), host.cpus.end(), c, [](const Cpu& a, int v) { return a.id < v; });
      if (cpu == host.cpus.end() || cpu->id != c) {
        return std::unexpected(Error{
            Errc::kBadContent, fmt::format("{}/cpulist lists CPU {} which {}/cpu{} does not have", dir, c, kCpuDir, c),
            "capture the host again with 'vnfctl snapshot'"});
      }
      cpu->node = id;
    }
    readMeminfo(r, dir + "/meminfo", node);
    if (auto text = r.fs().readText(dir + "/distance")) {
      std::string_view rest = trim(*text);
      bool ok = true;
      while (!rest.empty()) {
        auto sp = rest.find(' ');
        auto d = parseInt(rest.substr(0, sp));
        if (!d || *d < 0 || *d > 255) {
          ok = false;
          break;
        }
        node.distances.push_back(static_cast<int>(*d));
        rest = sp == std::string_view::npos ? std::string_view{} : trim(rest.substr(sp));
      }
      if (!ok || node.distances.size() != online->size()) {
        r.note(dir + "/distance", fmt::format("expected {} distances such as '10 21', found '{}'; treated as unknown",
                                              online->size(), trim(*text).substr(0, 40)));
        node.distances.clear();
      }
    }
    node.hugepages = readHugepagePools(r, dir + "/hugepages");
    host.nodes.push_back(std::move(node));
  }
  return {};
}

void discoverHugetlbfs(Reader& r, HostTopology& host) {
  if (auto text = r.fs().readText("/proc/meminfo")) {
    if (auto info = parseMeminfo(*text)) {
      if (auto it = info->find("Hugepagesize"); it != info->end()) host.default_hugepage_kib = it->second;
    } else {
      r.note("/proc/meminfo", "expected lines such as 'Hugepagesize: 2048 kB'; default page size unknown");
    }
  }
  auto mounts = r.fs().readText("/proc/mounts");
  if (!mounts) return;
  std::string_view rest = *mounts;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    // "nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0"
    std::vector<std::string_view> f;
    std::size_t i = 0;
    while (i < line.size() && f.size() < 4) {
      auto j = line.find(' ', i);
      if (j == std::string_view::npos) j = line.size();
      f.push_back(line.substr(i, j - i));
      i = j + 1;
    }
    if (f.size() < 4 || f[2] != "hugetlbfs") continue;
    HugetlbfsMount m;
    m.path = std::string(f[1]);
    m.page_size_kib = host.default_hugepage_kib;
    std::string_view opts = f[3];
    if (auto pos = opts.find("pagesize="); pos != std::string_view::npos) {
      auto v = opts.substr(pos + 9);
      v = v.substr(0, v.find(','));
      if (auto kib = parseSizeKib(v)) {
        m.page_size_kib = *kib;
      } else {
        r.note("/proc/mounts", fmt::format("hugetlbfs at {}: pagesize '{}' not understood", m.path, v));
      }
    }
    host.hugetlbfs.push_back(std::move(m));
  }
}

}  // namespace vnf::detail
