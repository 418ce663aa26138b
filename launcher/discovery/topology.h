// HostTopology: what discovery found on a host, as plain values. Discovery fills it; planning,
// doctor and the CLI read it. Units are in the names. -1 means "unknown" where a field is an int.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/parse.h"

namespace vnf {

struct KernelInfo {
  std::string release;                                      // "6.1.0-18-amd64"
  std::string version;                                      // "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"
  std::string cmdline;                                      // verbatim
  std::string cmdline_error;                                // why /proc/cmdline could not be read; "" when it was read
  std::vector<std::pair<std::string, std::string>> params;  // parsed cmdline, in order
  bool preempt_rt = false;

  // Last value of a cmdline parameter, if given ("" for a bare flag).
  std::optional<std::string> param(std::string_view key) const;
};

struct CpuFlags {
  std::string vendor;       // "GenuineIntel", "AuthenticAMD"
  std::string model_name;   // from /proc/cpuinfo
  bool vmx = false;         // Intel VT-x
  bool svm = false;         // AMD-V
  bool pdpe1gb = false;     // 1 GiB pages
  bool hypervisor = false;  // running as a guest itself
};

struct Cpu {
  int id = 0;
  bool online = true;
  int package = -1;  // socket
  int die = -1;
  int core = -1;              // core_id, unique only within a package
  int node = -1;              // NUMA node
  std::vector<int> siblings;  // SMT siblings including itself, sorted
  bool isolated = false;      // isolcpus / cpu/isolated
  bool nohz_full = false;
};

struct HugePagePool {
  std::uint64_t page_size_kib = 0;
  std::uint64_t total = 0;    // nr_hugepages
  std::uint64_t free = 0;     // free_hugepages
  std::uint64_t surplus = 0;  // surplus_hugepages
};

struct NumaNode {
  int id = 0;
  std::vector<int> cpus;
  std::uint64_t mem_total_kib = 0;
  std::uint64_t mem_free_kib = 0;
  std::vector<int> distances;           // indexed by position in HostTopology::nodes
  std::vector<HugePagePool> hugepages;  // sorted by page size

  const HugePagePool* pool(std::uint64_t page_size_kib) const;
};

struct HugetlbfsMount {
  std::string path;
  std::uint64_t page_size_kib = 0;
};

struct NetDev {
  std::string name;
  std::string mac;  // as the kernel prints it, "" if unreadable
  int mtu = -1;
  std::string operstate;         // "up", "down", "unknown", ...
  std::int64_t speed_mbps = -1;  // -1 when the link is down or the driver does not say
};

struct VfRef {
  int index = 0;  // N of virtfnN
  PciAddress address;
};

struct SriovInfo {
  int total_vfs = 0;
  int num_vfs = 0;
  std::vector<VfRef> vfs;  // sorted by index
};

struct PciNic {
  PciAddress address;
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  std::uint32_t pci_class = 0;
  std::string driver;  // "" when no driver is bound
  int numa_node = -1;
  std::vector<int> local_cpus;  // local_cpulist
  int iommu_group = -1;
  std::vector<PciAddress> iommu_group_peers;  // other devices in the same group
  std::optional<SriovInfo> sriov;             // for physical functions that can make VFs
  std::optional<PciAddress> physfn;           // for virtual functions: their PF
  int vf_index = -1;                          // for virtual functions: N of the PF's virtfnN
  std::vector<NetDev> netdevs;                // empty when bound to vfio-pci or no driver

  bool isVf() const { return physfn.has_value(); }
};

struct Platform {
  bool dev_kvm = false;                  // /dev/kvm exists
  bool dev_vfio = false;                 // /dev/vfio/vfio exists
  bool vfio_pci_loaded = false;          // /sys/bus/pci/drivers/vfio-pci
  bool vfio_pci_available = false;       // loaded, built in, or a module file for this kernel
  std::vector<std::string> iommu_units;  // /sys/class/iommu entries (dmar0, ivhd0, ...)
  int iommu_groups = 0;                  // entries of /sys/kernel/iommu_groups
};

// Something discovery could not read and worked around; shown by `vnfctl host` and doctor.
struct DiscoveryNote {
  std::string path;
  std::string message;  // what was wrong and what discovery assumed instead
};

struct HostTopology {
  KernelInfo kernel;
  CpuFlags cpu_flags;
  Platform platform;
  std::vector<Cpu> cpus;                   // sorted by id; possible CPUs
  std::vector<NumaNode> nodes;             // sorted by id
  std::uint64_t default_hugepage_kib = 0;  // Hugepagesize from /proc/meminfo; 0 if unknown
  std::vector<HugetlbfsMount> hugetlbfs;
  std::vector<PciNic> nics;  // network-class PCI functions, sorted by address
  std::vector<DiscoveryNote> notes;

  const Cpu* cpu(int id) const;
  const NumaNode* node(int id) const;
  const PciNic* nic(const PciAddress& address) const;
  // A NIC by PCI address ("0000:81:00.0", "81:00.0") or netdev name ("ens1f0").
  const PciNic* findNic(std::string_view name_or_address) const;
  std::vector<int> isolatedCpus() const;
  // After NICs are added (from sysfs or libvirt): sorts them by address and gives each VF the
  // index its PF lists it under.
  void finishNics();
};

}  // namespace vnf
