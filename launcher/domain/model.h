// The typed model of the libvirt domain elements vnfctl writes, and nothing more. buildDomain()
// (build.h) fills it from a VnfSpec and a Placement; writeDomain() (write.h) turns it into XML
// inside a template document. Values are already decided here: the writer does no policy.
//
// CPU sets are kept as host CPU lists (vector<int>) and formatted by the writer ("2-5,8").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/metadata.h"
#include "host/parse.h"

namespace vnf {

// <domain type=...>: kvm only where the CPU has vmx/svm; qemu is TCG (software emulation).
enum class DomainType { kKvm, kQemu };

}  // namespace vnf

namespace vnf::domain {

// <memoryBacking><hugepages><page size=.. unit='KiB' nodeset=../></hugepages>. No <locked/>:
// see docs/domain-xml.md ("memoryBacking").
struct MemoryBacking {
  std::uint64_t page_size_kib = 0;  // 0: no hugepages, the element is left out
  std::string guest_nodeset;        // guest NUMA cells backed by these pages ("0")
};

// <vcpu placement='static' cpuset=..>count</vcpu>
struct Vcpu {
  int count = 1;
  std::vector<int> cpuset;  // host CPUs the vCPUs may run on (the default for unpinned threads)
};

struct VcpuPin {
  int vcpu = 0;
  int host_cpu = 0;
};

// <cputune>: one <vcpupin> per vCPU (dedicated policy) and <emulatorpin>.
struct CpuTune {
  std::vector<VcpuPin> vcpupins;
  std::vector<int> emulator_cpus;  // empty: no <emulatorpin>
  bool empty() const { return vcpupins.empty() && emulator_cpus.empty(); }
};

// <numatune>: strict host-node binding of all memory and of each guest cell.
struct NumaTune {
  int host_node = 0;
  std::vector<int> guest_cells;  // <memnode cellid=..> for each
};

struct NumaCell {
  int id = 0;
  std::vector<int> vcpus;  // guest vCPU ids in this cell
  std::uint64_t memory_kib = 0;
};

// <cpu>: host-passthrough under kvm; 'maximum' under TCG (QEMU refuses host-passthrough there).
struct Cpu {
  enum class Mode { kHostPassthrough, kMaximum } mode = Mode::kHostPassthrough;
  int sockets = 1;
  int dies = 1;
  int cores = 1;
  int threads = 1;
  std::vector<NumaCell> cells;
};

// <os>: direct kernel boot when `kernel` is set, else <boot dev='hd'/>. `loader`: the firmware
// ROM (<loader type='rom'>PATH</loader>, e.g. qboot); "" leaves QEMU's default (SeaBIOS).
struct Os {
  std::string arch = "x86_64";
  std::string machine = "q35";
  std::string loader;
  std::string kernel;
  std::string initrd;
  std::string cmdline;
};

// Elements under <features> vnfctl requires; the template may add others.
struct Features {
  bool acpi = true;  // without it the guest kernel runs with acpi=off
  bool apic = true;
};

struct Lifecycle {
  std::string on_poweroff = "destroy";
  std::string on_reboot = "restart";
  std::string on_crash = "destroy";
};

// <interface type='hostdev'>: a VF given to the guest whole, with libvirt setting MAC and VLAN on it.
struct HostdevInterface {
  PciAddress source;
  MacAddress mac{};
  bool managed = true;  // false: vnfctl bound the VF to vfio-pci itself
  std::optional<int> vlan;
  bool trust_guest_rx_filters = false;
};

// <hostdev mode='subsystem' type='pci'>: a VF passed through with no network configuration.
struct Hostdev {
  PciAddress source;
  bool managed = true;
};

// <interface type='ethernet'>: virtio on a tap device the caller created.
struct EthernetInterface {
  std::string tap;
  MacAddress mac{};
  std::optional<int> mtu;
};

// <interface type='network'|'bridge'>: the virtio management NIC.
struct NetworkInterface {
  enum class Kind { kNetwork, kBridge } kind = Kind::kNetwork;
  std::string source;
  MacAddress mac{};
};

// <serial type='file'> plus its <console>; an empty path gives type='pty'.
struct Serial {
  std::string log_path;
};

// <disk type='file' device='disk'> as vda on virtio.
struct Disk {
  std::string path;
  std::string format;  // "qcow2" or "raw"
};

struct Devices {
  std::vector<HostdevInterface> hostdev_interfaces;
  std::vector<Hostdev> hostdevs;
  std::vector<EthernetInterface> ethernet_interfaces;
  std::optional<NetworkInterface> mgmt;
  std::optional<Disk> disk;
  Serial serial;
  bool memballoon_none = true;  // ballooning would hand hugepage-backed memory back; never wanted
};

struct Domain {
  DomainType type = DomainType::kQemu;
  std::string name;
  std::string uuid;
  VnfMetadata metadata;
  std::uint64_t memory_kib = 0;
  std::uint64_t current_memory_kib = 0;
  MemoryBacking memory_backing;
  Vcpu vcpu;
  CpuTune cputune;
  NumaTune numatune;
  Cpu cpu;
  Os os;
  Features features;
  Lifecycle lifecycle;
  Devices devices;
};

}  // namespace vnf::domain
