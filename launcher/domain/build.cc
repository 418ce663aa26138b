#include "domain/build.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace vnf::domain {
namespace {

bool isUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::vector<int> sortedUnique(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string joinArgs(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

// Hands out MACs: the spec's own, else derived ones that do not collide with any other NIC's.
class MacPool {
 public:
  explicit MacPool(std::string uuid) : uuid_(std::move(uuid)) {}
  void reserve(const std::optional<MacAddress>& mac) {
    if (mac) used_.insert(*mac);
  }
  MacAddress take(const std::optional<MacAddress>& given, const std::string& label) {
    if (given) return *given;
    MacAddress mac = derivedMac(uuid_, label);
    for (int retry = 1; used_.contains(mac); ++retry) mac = derivedMac(uuid_, fmt::format("{}#{}", label, retry));
    used_.insert(mac);
    return mac;
  }

 private:
  std::string uuid_;
  std::set<MacAddress> used_;
};

void checkInput(const VnfSpec& spec, const Placement& pl, const RenderInput& in, std::uint64_t memory_kib,
                std::vector<std::string>& problems) {
  auto problem = [&](std::string text) { problems.push_back(std::move(text)); };
  if (!isUuid(in.uuid)) problem(fmt::format("uuid '{}' is not of the form 8-4-4-4-12 hex digits", in.uuid));
  if (pl.name.empty() && spec.name.empty()) problem("the domain has no name (spec.name and placement.name are empty)");
  if (spec.vcpus < 1) problem(fmt::format("vcpus is {}, at least 1 is needed", spec.vcpus));
  if (pl.node < 0) problem(fmt::format("placement node is {}: the placement was not made", pl.node));
  if (spec.cpu_policy == CpuPolicy::kDedicated && static_cast<int>(pl.vcpu_pins.size()) != spec.vcpus) {
    problem(fmt::format("dedicated policy: the placement pins {} vCPUs, the spec asks for {}", pl.vcpu_pins.size(),
                        spec.vcpus));
  }
  if (spec.cpu_policy == CpuPolicy::kShared && pl.shared_cpus.empty()) {
    problem("shared policy: the placement gives no shared CPUs for the vCPUs");
  }
  if (pl.guest_cores < 1 || pl.guest_threads < 1 || pl.guest_cores * pl.guest_threads != spec.vcpus) {
    problem(fmt::format("guest topology {} cores x {} threads does not make the {} vCPUs", pl.guest_cores,
                        pl.guest_threads, spec.vcpus));
  }
  if (memory_kib == 0) problem("memory is 0 KiB");
  if (pl.page_size_kib > 0 && memory_kib % pl.page_size_kib != 0) {
    problem(fmt::format("memory {} KiB is not a multiple of the {} KiB page size", memory_kib, pl.page_size_kib));
  }
  std::set<int> seen;
  for (const auto& vf : pl.vfs) {
    if (vf.nic_index < 0 || vf.nic_index >= static_cast<int>(spec.nics.size())) {
      problem(fmt::format("VF {} is assigned to nic {}, but the spec has {} nics", vf.vf.str(), vf.nic_index,
                          spec.nics.size()));
    } else if (!seen.insert(vf.nic_index).second) {
      problem(fmt::format("nic {} has more than one VF in the placement", vf.nic_index));
    }
  }
  for (int i = 0; i < static_cast<int>(spec.nics.size()); ++i) {
    if (!seen.contains(i)) problem(fmt::format("nic {} (pf {}) has no VF in the placement", i, spec.nics[i].pf));
  }
  if (spec.guest.kernel.empty() && spec.guest.disk.empty()) {
    problem("the guest has nothing to boot: give guest.kernel (with guest.initrd) or guest.disk");
  }
}

}  // namespace

std::string diskFormat(const std::string& path) { return path.ends_with(".qcow2") ? "qcow2" : "raw"; }

Result<Domain> buildDomain(const RenderInput& in) {
  if (!in.spec || !in.placement) {
    return fail(Errc::kInvalidArgument, "renderDomainXml needs both a spec and a placement");
  }
  const VnfSpec& spec = *in.spec;
  const Placement& pl = *in.placement;
  const std::uint64_t memory_kib = pl.memory_kib > 0 ? pl.memory_kib : spec.memory_mib * 1024;

  std::vector<std::string> problems;
  checkInput(spec, pl, in, memory_kib, problems);
  if (!problems.empty()) {
    std::string text = fmt::format("cannot render the domain of '{}':", pl.name.empty() ? spec.name : pl.name);
    for (const auto& p : problems) text += "\n  " + p;
    return fail(Errc::kInvalidArgument, std::move(text),
                "re-run the planner for this spec (vnfctl plan); the placement does not match it");
  }

  Domain d;
  d.type = in.type;
  d.name = pl.name.empty() ? spec.name : pl.name;
  d.uuid = in.uuid;
  d.memory_kib = d.current_memory_kib = memory_kib;
  d.memory_backing.page_size_kib = pl.page_size_kib;
  if (pl.page_size_kib > 0) d.memory_backing.guest_nodeset = "0";

  d.vcpu.count = spec.vcpus;
  if (spec.cpu_policy == CpuPolicy::kDedicated) {
    d.vcpu.cpuset = sortedUnique(pl.vcpu_pins);
    for (int i = 0; i < spec.vcpus; ++i) d.cputune.vcpupins.push_back({i, pl.vcpu_pins[i]});
  } else {
    d.vcpu.cpuset = sortedUnique(pl.shared_cpus);
  }
  d.cputune.emulator_cpus = sortedUnique(pl.emulator_cpus);

  d.numatune.host_node = pl.node;
  d.numatune.guest_cells = {0};

  d.cpu.mode = in.type == DomainType::kKvm ? Cpu::Mode::kHostPassthrough : Cpu::Mode::kMaximum;
  d.cpu.cores = pl.guest_cores;
  d.cpu.threads = pl.guest_threads;
  NumaCell cell{.id = 0, .vcpus = {}, .memory_kib = memory_kib};
  for (int i = 0; i < spec.vcpus; ++i) cell.vcpus.push_back(i);
  d.cpu.cells.push_back(std::move(cell));

  // "bios" (or auto, unresolved: vnfctl render of a spec alone) is QEMU's default firmware.
  if (spec.guest.firmware.starts_with('/')) d.os.loader = spec.guest.firmware;
  d.os.kernel = spec.guest.kernel;
  if (!spec.guest.kernel.empty()) {
    d.os.initrd = spec.guest.initrd;
    d.os.cmdline = joinArgs(in.kernel_cmdline, spec.guest.cmdline);
  }
  if (!spec.guest.disk.empty()) d.devices.disk = Disk{spec.guest.disk, diskFormat(spec.guest.disk)};

  MacPool macs(in.uuid);
  for (const auto& nic : spec.nics) macs.reserve(nic.mac);
  for (const auto& tap : spec.tap_nics) macs.reserve(tap.mac);
  if (spec.mgmt) macs.reserve(spec.mgmt->mac);

  auto vfs = pl.vfs;
  std::sort(vfs.begin(), vfs.end(), [](const auto& a, const auto& b) { return a.nic_index < b.nic_index; });
  for (const auto& vf : vfs) {
    const NicSpec& nic = spec.nics[vf.nic_index];
    const bool managed = vf.vf_driver != "vfio-pci";
    if (nic.hostdev) {
      d.devices.hostdevs.push_back({vf.vf, managed});
    } else {
      d.devices.hostdev_interfaces.push_back({.source = vf.vf,
                                              .mac = macs.take(nic.mac, fmt::format("vf{}", vf.nic_index)),
                                              .managed = managed,
                                              .vlan = nic.vlan,
                                              .trust_guest_rx_filters = nic.trust.value_or(false)});
    }
    d.metadata.vfs.push_back({.nic_index = vf.nic_index,
                              .pf = vf.pf,
                              .vf = vf.vf,
                              .vf_index = vf.vf_index,
                              .driver = vf.vf_driver,
                              .vlan = nic.vlan,
                              .trust = nic.trust,
                              .spoofchk = nic.spoofchk,
                              .mtu = nic.mtu});
  }
  for (std::size_t i = 0; i < spec.tap_nics.size(); ++i) {
    const auto& tap = spec.tap_nics[i];
    d.devices.ethernet_interfaces.push_back({tap.tap, macs.take(tap.mac, fmt::format("tap{}", i)), tap.mtu});
  }
  if (spec.mgmt) {
    d.devices.mgmt = NetworkInterface{spec.mgmt->kind == MgmtNicSpec::Kind::kBridge ? NetworkInterface::Kind::kBridge
                                                                                    : NetworkInterface::Kind::kNetwork,
                                      spec.mgmt->source, macs.take(spec.mgmt->mac, "mgmt")};
  }
  d.devices.serial.log_path = in.serial_log_path;

  auto& m = d.metadata;
  m.spec_hash = in.meta.spec_hash;
  m.recipe = in.meta.recipe;
  m.spec_fields = in.meta.spec_fields;
  m.tool_version = in.meta.tool_version;
  m.image_hash = in.meta.image_hash;
  m.node = pl.node;
  m.memory_kib = memory_kib;
  m.page_size_kib = pl.page_size_kib;
  m.hugepages = pl.hugepages;
  if (spec.cpu_policy == CpuPolicy::kDedicated) {
    m.vcpu_pins = pl.vcpu_pins;
  } else {
    m.shared_cpus = d.vcpu.cpuset;
  }
  m.emulator_cpus = d.cputune.emulator_cpus;
  return d;
}

}  // namespace vnf::domain

namespace vnf {

MacAddress derivedMac(const std::string& uuid, const std::string& label) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64: tiny, stable across versions and platforms
  for (unsigned char c : uuid + "/" + label) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return {0x52,
          0x54,
          0x00,
          static_cast<std::uint8_t>(h >> 16),
          static_cast<std::uint8_t>(h >> 8),
          static_cast<std::uint8_t>(h)};
}

}  // namespace vnf
