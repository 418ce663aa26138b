#include "prep/apply.h"

#include "common/file_io.h"

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace vnf::prep {
namespace {

namespace fsys = std::filesystem;

std::string baseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string devPath(const std::string& addr) { return "/sys/bus/pci/devices/" + addr; }

std::string driverOf(const HostFs& fs, const std::string& addr) {
  auto link = fs.readLinkTarget(devPath(addr) + "/driver");
  return link ? baseName(*link) : "";
}

std::string overrideOf(const HostFs& fs, const std::string& addr) {
  auto text = fs.readText(devPath(addr) + "/driver_override");
  if (!text) return "";
  auto v = std::string(trim(*text));
  return v == "(null)" ? "" : v;
}

// Files prepare --persist writes are a few lines each (a unit, a grub snippet, the host spec).
constexpr std::uint64_t kMaxPersistedFileBytes = 1 << 20;

// The current content of a file prepare --persist replaces. Never blocks on a FIFO or reads a
// device: anything but a regular file (refused later, when written) reads as absent.
std::optional<std::string> readRealFile(const std::string& path) {
  auto text = readUserFile(path, kMaxPersistedFileBytes, "file");
  if (!text) return std::nullopt;
  return *text;
}

bool isVfStep(StepKind k) {
  return k == StepKind::kVfMac || k == StepKind::kVfVlan || k == StepKind::kVfTrust || k == StepKind::kVfSpoofchk ||
         k == StepKind::kDriver;
}

VfField fieldOf(StepKind k) {
  switch (k) {
    case StepKind::kVfMac: return VfField::kMac;
    case StepKind::kVfVlan: return VfField::kVlan;
    case StepKind::kVfTrust: return VfField::kTrust;
    default: return VfField::kSpoofchk;
  }
}

std::string onOff(int v) { return v < 0 ? "unknown" : v ? "on" : "off"; }

}  // namespace

Result<HostFs> Preparer::fs() const { return HostFs::open(root_); }

Result<std::string> Preparer::vfAddress(const HostFs& fs, const std::string& pf, int vf) const {
  auto link = fs.readLinkTarget(fmt::format("{}/virtfn{}", devPath(pf), vf));
  if (!link) return std::string();
  return baseName(*link);
}

Result<std::string> Preparer::pfNetdev(const HostFs& fs, const std::string& pf) const {
  auto names = fs.listDir(devPath(pf) + "/net");
  if (!names || names->empty()) {
    return fail(Errc::kNotFound,
                fmt::format("PF {} has no netdev (driver '{}'): VF settings are made through it", pf, driverOf(fs, pf)),
                "bind the PF to its kernel driver");
  }
  return names->front();
}

Result<std::string> Preparer::current(const Step& step) const {
  auto host = fs();
  if (!host) return std::unexpected(host.error());
  switch (step.kind) {
    case StepKind::kNumVfs:
    case StepKind::kHugepages: {
      auto path = step.kind == StepKind::kNumVfs ? devPath(step.target) + "/sriov_numvfs" : step.target;
      auto text = host->readText(path);
      if (!text) return std::unexpected(text.error());
      return std::string(trim(*text));
    }
    case StepKind::kDriver: {
      auto addr = vfAddress(*host, step.target, step.vf);
      if (!addr) return std::unexpected(addr.error());
      if (addr->empty()) return std::string(kNewVf);
      return driverOf(*host, *addr);
    }
    case StepKind::kVfMac:
    case StepKind::kVfVlan:
    case StepKind::kVfTrust:
    case StepKind::kVfSpoofchk: {
      auto addr = vfAddress(*host, step.target, step.vf);
      if (!addr) return std::unexpected(addr.error());
      if (addr->empty()) return std::string(kNewVf);
      auto dev = pfNetdev(*host, step.target);
      if (!dev) return std::unexpected(dev.error());
      auto states = ops_.vfStates(*dev);
      if (!states) return std::unexpected(states.error());
      for (const auto& s : *states) {
        if (s.index != step.vf) continue;
        switch (step.kind) {
          case StepKind::kVfMac: return formatMac(s.mac);
          case StepKind::kVfVlan: return std::to_string(s.vlan);
          case StepKind::kVfTrust: return onOff(s.trust);
          default: return onOff(s.spoofchk);
        }
      }
      return fail(Errc::kNotFound,
                  fmt::format("{} ({}) does not report VF {} over netlink", step.target, *dev, step.vf));
    }
    case StepKind::kMount: {
      auto mounts = host->readText("/proc/mounts");
      if (!mounts) return std::unexpected(mounts.error());
      std::istringstream in(*mounts);
      std::string line;
      while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string src, dir, type, opts;
        f >> src >> dir >> type >> opts;
        if (type != "hugetlbfs" || dir != step.target) continue;
        auto at = opts.find("pagesize=");
        if (at == std::string::npos) return std::string("default");
        auto end = opts.find(',', at);
        auto kib = parseSizeKib(opts.substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9));
        return kib ? pageSizeName(*kib) : std::string("default");
      }
      return std::string();
    }
    case StepKind::kFile: return readRealFile(step.target).value_or("");
  }
  return std::string();
}

Result<void> Preparer::checkIommuGroup(const std::string& addr) const {
  auto host = fs();
  if (!host) return std::unexpected(host.error());
  auto group_link = host->readLinkTarget(devPath(addr) + "/iommu_group");
  if (!group_link) {
    return fail(Errc::kConflict, fmt::format("{} has no IOMMU group: the IOMMU is off, and vfio-pci needs it", addr),
                "add intel_iommu=on iommu=pt (AMD: amd_iommu=on iommu=pt) to the kernel command line "
                "(vnfctl prepare --persist writes it), run update-grub and reboot");
  }
  const auto group = baseName(*group_link);
  auto members = host->listDir(fmt::format("/sys/kernel/iommu_groups/{}/devices", group));
  if (!members) return std::unexpected(members.error());
  std::vector<std::string> bad;
  for (const auto& other : *members) {
    if (other == addr) continue;
    auto cls = host->readText(devPath(other) + "/class");
    if (cls && trim(*cls).starts_with("0x0604")) continue;  // PCI bridges stay with the host
    if (cls && trim(*cls).starts_with("0x0600")) continue;  // host bridges too
    const auto drv = driverOf(*host, other);
    if (drv.empty() || drv == "vfio-pci") continue;
    bad.push_back(fmt::format("{} (bound to {})", other, drv));
  }
  if (bad.empty()) return {};
  std::string list;
  for (const auto& b : bad) list += (list.empty() ? "" : ", ") + b;
  return fail(
      Errc::kConflict,
      fmt::format("{} shares IOMMU group {} with {}: vfio gives a VM the whole group, so the VM could DMA into "
                  "memory that the host driver of the other device uses, and vfio-pci refuses to open such a group",
                  addr, group, list),
      fmt::format("bind the other device(s) to vfio-pci as well (they then go to the VM too), unbind them "
                  "(echo ADDR > /sys/bus/pci/devices/ADDR/driver/unbind), or move the NIC to a slot whose "
                  "PCIe switch has ACS so it gets its own group"));
}

Result<std::vector<Step>> Preparer::diff(const std::vector<Step>& desired) const {
  std::vector<Step> out;
  std::vector<std::string> problems;
  for (auto step : desired) {
    auto cur = current(step);
    if (!cur) return std::unexpected(cur.error());
    if (*cur == step.to) continue;
    // The VF count changes: every VF is made anew, whatever its state now.
    if (isVfStep(step.kind)) {
      for (const auto& o : out) {
        if (o.kind == StepKind::kNumVfs && o.target == step.target) *cur = kNewVf;
      }
    }
    if (step.kind == StepKind::kDriver && *cur != kNewVf && step.to == "vfio-pci") {
      auto host = fs();
      auto addr = host ? vfAddress(*host, step.target, step.vf) : Result<std::string>(std::string());
      if (addr && !addr->empty()) {
        if (auto ok = checkIommuGroup(*addr); !ok)
          problems.push_back(ok.error().message + "\n    fix: " + ok.error().fix);
      }
    }
    step.from = *cur;
    out.push_back(std::move(step));
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  - " + p;
    return fail(Errc::kConflict, fmt::format("cannot bind to vfio-pci, nothing was changed:{}", all));
  }
  return out;
}

Result<std::string> Preparer::setDriver(const Step& step, const std::string& value, const std::string& note) {
  auto host = fs();
  if (!host) return std::unexpected(host.error());
  auto addr = vfAddress(*host, step.target, step.vf);
  if (!addr) return std::unexpected(addr.error());
  if (addr->empty()) {
    if (value == "vfio-pci") return fail(Errc::kNotFound, fmt::format("{} has no VF {} to bind", step.target, step.vf));
    return note;  // the VF is gone: nothing to restore
  }
  const auto dev = devPath(*addr);
  if (value == "vfio-pci") {
    if (auto ok = checkIommuGroup(*addr); !ok) return std::unexpected(ok.error());
    if (!host->exists("/sys/bus/pci/drivers/vfio-pci")) {
      return fail(Errc::kNotFound, "vfio-pci is not loaded (no /sys/bus/pci/drivers/vfio-pci)", "modprobe vfio-pci");
    }
  }
  // driver_override makes drivers_probe pick exactly this driver; "\n" clears it.
  const auto override_value = value == "vfio-pci" ? std::string("vfio-pci") : (note.empty() ? std::string("\n") : note);
  if (auto ok = ops_.writeAttr(dev + "/driver_override", override_value); !ok) return std::unexpected(ok.error());
  const auto bound = driverOf(*host, *addr);
  if (bound == value) return note;
  if (!bound.empty()) {
    if (auto ok = ops_.writeAttr(dev + "/driver/unbind", *addr); !ok) return std::unexpected(ok.error());
  }
  if (!value.empty()) {
    if (auto ok = ops_.writeAttr("/sys/bus/pci/drivers_probe", *addr); !ok) return std::unexpected(ok.error());
    auto after = fs();
    const auto now = after ? driverOf(*after, *addr) : std::string();
    if (now != value) {
      return fail(Errc::kIo,
                  fmt::format("{} (VF {} of {}) is bound to '{}' after drivers_probe, expected '{}'", *addr, step.vf,
                              step.target, now, value),
                  value == "vfio-pci" ? "check dmesg for vfio-pci errors (IOMMU group, device reset)"
                                      : fmt::format("modprobe {} and rerun", value));
    }
  }
  return note;
}

Result<std::string> Preparer::set(const Step& step, const std::string& value, const std::string& note) {
  switch (step.kind) {
    case StepKind::kNumVfs: {
      auto cur = current(step);
      if (!cur) return std::unexpected(cur.error());
      if (*cur == value) return note;
      const auto path = devPath(step.target) + "/sriov_numvfs";
      // The kernel refuses to change a non-zero count directly (EBUSY): go through 0.
      if (*cur != "0" && value != "0") {
        if (auto ok = ops_.writeAttr(path, "0"); !ok) return std::unexpected(ok.error());
      }
      if (auto ok = ops_.writeAttr(path, value); !ok) return std::unexpected(ok.error());
      return note;
    }
    case StepKind::kDriver: return setDriver(step, value, note);
    case StepKind::kVfMac:
    case StepKind::kVfVlan:
    case StepKind::kVfTrust:
    case StepKind::kVfSpoofchk: {
      auto host = fs();
      if (!host) return std::unexpected(host.error());
      auto addr = vfAddress(*host, step.target, step.vf);
      if (!addr) return std::unexpected(addr.error());
      if (addr->empty()) return note;
      if (value == "unknown") return note;  // the driver never reported it: nothing known to restore
      auto dev = pfNetdev(*host, step.target);
      if (!dev) return std::unexpected(dev.error());
      if (auto ok = ops_.setVf(*dev, step.vf, fieldOf(step.kind), value); !ok) return std::unexpected(ok.error());
      return note;
    }
    case StepKind::kHugepages: {
      if (auto ok = ops_.writeAttr(step.target, value); !ok) return std::unexpected(ok.error());
      auto got = current(step);
      if (!got) return std::unexpected(got.error());
      const auto want = parseUnsigned(value).value_or(0);
      const auto have = parseUnsigned(*got).value_or(0);
      if (have < want) {
        const auto size_dir = baseName(fsys::path(step.target).parent_path().string());
        return fail(Errc::kConflict,
                    fmt::format("the kernel granted only {} of {} hugepages ({}) on NUMA node {}: its free memory is "
                                "fragmented or too small",
                                have, want, size_dir, step.note),
                    fmt::format("free memory, then compact it and rerun (echo 3 > /proc/sys/vm/drop_caches; echo 1 > "
                                "/proc/sys/vm/compact_memory), ask for fewer pages, or reserve them at boot "
                                "(vnfctl prepare --persist)"));
      }
      return note;
    }
    case StepKind::kMount: {
      if (value.empty()) {
        if (auto ok = ops_.unmount(step.target); !ok) return std::unexpected(ok.error());
        if (note == "created") {
          if (auto ok = ops_.removeDir(step.target); !ok) return std::unexpected(ok.error());
        }
        return note;
      }
      auto made = ops_.makeDir(step.target);
      if (!made) return std::unexpected(made.error());
      auto kib = parseSizeKib(value).value_or(2048);
      if (auto ok = ops_.mountHugetlbfs(step.target, kib); !ok) {
        if (*made) (void)ops_.removeDir(step.target);
        return std::unexpected(ok.error());
      }
      return std::string(*made ? "created" : "");
    }
    case StepKind::kFile: {
      std::error_code ec;
      if (note == "absent" && value.empty()) {
        fsys::remove(step.target, ec);
        if (ec) return fail(Errc::kIo, fmt::format("cannot remove {}: {}", step.target, ec.message()));
        return note;
      }
      fsys::create_directories(fsys::path(step.target).parent_path(), ec);
      if (auto ok = writeFileSafely(step.target, value, 0644); !ok) return std::unexpected(ok.error());
      return note;
    }
  }
  return note;
}

void Preparer::rollback(std::vector<std::pair<Step, bool>>& done, std::vector<std::string>& report) {
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    const auto& [before, is_new] = *it;
    if (isVfStep(before.kind) && before.from == kNewVf) continue;  // its VF goes with the VF count
    auto ok = set(before, before.from, before.note);
    report.push_back(ok ? "  undone: " + describe(before)
                        : "  NOT undone: " + describe(before) + ": " + ok.error().message);
    auto* entry = journal_.find(before);
    if (!ok || !entry) continue;
    if (is_new) {
      journal_.entries.erase(journal_.entries.begin() + (entry - journal_.entries.data()));
    } else {
      entry->step.to = before.from;
      entry->done = true;
    }
  }
  if (journal_.empty())
    (void)journal_.remove();
  else
    (void)journal_.save();
}

Result<std::vector<Step>> Preparer::apply(const std::vector<Step>& steps) {
  std::vector<Step> applied;
  std::vector<std::pair<Step, bool>> done;  // state before this run, and whether the journal entry is new
  for (const auto& step : steps) {
    auto cur = current(step);
    if (!cur) return std::unexpected(cur.error());
    if (*cur == step.to) continue;
    Step before = step;
    before.from = *cur;
    if (step.kind == StepKind::kDriver && *cur != kNewVf) {
      auto host = fs();
      auto addr = host ? vfAddress(*host, step.target, step.vf) : Result<std::string>(std::string());
      if (host && addr && !addr->empty()) before.note = overrideOf(*host, *addr);
    }
    if (step.kind == StepKind::kFile && !fsys::exists(step.target)) before.note = "absent";
    JournalEntry* entry = journal_.find(step);
    const bool is_new = entry == nullptr;
    if (is_new) {
      journal_.entries.push_back({before, false});
      journal_.entries.back().step.to = step.to;
      entry = &journal_.entries.back();
    } else {
      entry->step.to = step.to;
      entry->done = false;
    }
    // Journal first: an interruption after this point still leaves the original on disk.
    if (auto ok = journal_.save(); !ok) {
      if (is_new) journal_.entries.pop_back();
      std::vector<std::string> report;
      rollback(done, report);
      return std::unexpected(ok.error());
    }
    done.emplace_back(before, is_new);
    auto note = set(step, step.to, before.note);
    if (!note) {
      auto error = note.error();
      std::vector<std::string> report;
      rollback(done, report);
      error.message += "\nthe changes of this run were rolled back, the host is as before:";
      for (const auto& r : report) error.message += "\n" + r;
      return std::unexpected(error);
    }
    done.back().first.note = *note;
    entry = journal_.find(step);
    if (step.kind == StepKind::kMount && is_new) entry->step.note = *note;
    entry->done = true;
    if (auto ok = journal_.save(); !ok) return std::unexpected(ok.error());
    applied.push_back(before);
    applied.back().to = step.to;
  }
  return applied;
}

bool Preparer::vfGoneAfterRestore(const Step& step) const {
  if (!isVfStep(step.kind)) return false;
  for (const auto& e : journal_.entries) {
    if (e.step.kind == StepKind::kNumVfs && e.step.target == step.target) {
      return static_cast<std::uint64_t>(step.vf) >= parseUnsigned(e.step.from).value_or(0);
    }
  }
  return false;
}

Result<std::vector<Step>> Preparer::restoreAll(bool dry_run) {
  std::vector<Step> restored;
  std::vector<std::string> failures;
  for (auto i = journal_.entries.size(); i-- > 0;) {
    const Step entry = journal_.entries[i].step;
    Step undo = entry;
    auto cur = current(entry);
    undo.from = cur ? *cur : "?";
    undo.to = entry.from;
    const bool skip = vfGoneAfterRestore(entry) || (cur && *cur == entry.from) || (cur && *cur == kNewVf);
    if (!skip) {
      if (dry_run) {
        restored.push_back(undo);
        continue;
      }
      auto ok = set(entry, entry.from, entry.note);
      if (!ok) {
        failures.push_back(describe(undo) + ": " + ok.error().message);
        continue;
      }
      restored.push_back(undo);
    }
    if (!dry_run) {
      journal_.entries.erase(journal_.entries.begin() + static_cast<std::ptrdiff_t>(i));
      if (auto ok = journal_.save(); !ok) return std::unexpected(ok.error());
    }
  }
  if (!failures.empty()) {
    std::string all;
    for (const auto& f : failures) all += "\n  - " + f;
    return fail(Errc::kIo,
                fmt::format("{} change(s) could not be undone (kept in the journal {}):{}", failures.size(),
                            journal_.path, all),
                "fix the cause and run vnfctl unprepare again");
  }
  if (!dry_run) {
    if (auto ok = journal_.remove(); !ok) return std::unexpected(ok.error());
  }
  return restored;
}

}  // namespace vnf::prep
