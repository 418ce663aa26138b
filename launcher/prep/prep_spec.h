// What `vnfctl prepare` should make of the host: VFs per PF, their settings, hugepage pools and boot
// parameters. Parsed from a host spec file (YAML) or built from command-line flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/parse.h"

namespace vnf::prep {

// Settings of one VF, applied through the PF's netlink interface. Unset fields are left as they are.
struct VfSettings {
  int index = 0;
  std::optional<MacAddress> mac;
  std::optional<int> vlan;  // 0 = untagged, 1..4094
  std::optional<bool> trust;
  std::optional<bool> spoofchk;
};

struct PfSpec {
  std::string pf;  // netdev name ("ens1f0") or PCI address ("0000:81:00.0")
  int num_vfs = 0;
  bool vfio = true;  // bind every VF of this PF to vfio-pci
  std::vector<VfSettings> vfs;
};

struct HugepageSpec {
  std::uint64_t page_size_kib = 2048;
  std::uint64_t count = 0;  // pages wanted on the node (nr_hugepages)
  int node = -1;            // -1: the NUMA node of the first PF (0 when unknown)
  std::string mount;        // hugetlbfs mount point; "" -> /dev/hugepages-<size> when none is mounted
};

// Boot-time kernel parameters written by --persist to /etc/default/grub.d/vnfctl.cfg.
struct KernelSpec {
  bool iommu = true;                       // intel_iommu=on / amd_iommu=on, iommu=pt
  std::string isolcpus;                    // "" = none
  std::uint64_t default_hugepage_kib = 0;  // default_hugepagesz=; 0 = leave
  std::uint64_t boot_1g_pages = 0;         // hugepagesz=1G hugepages=N (1 GiB pages fragment at runtime)
};

struct PrepareSpec {
  std::vector<PfSpec> pfs;
  std::vector<HugepageSpec> hugepages;
  KernelSpec kernel;
};

// Parses a host spec document. Every problem is collected: the error lists them all, each with
// "line:column: what, the value, the limit".
Result<PrepareSpec> parsePrepareSpec(const std::string& text);
// Reads (a regular file of at most kMaxHostSpecBytes: common/file_io.h, readUserFile) and parses a file.
inline constexpr std::uint64_t kMaxHostSpecBytes = 1 << 20;
Result<PrepareSpec> loadPrepareSpec(const std::string& path);
// YAML for a spec (what --persist stores as /etc/vnfctl/host.yaml).
std::string emitPrepareSpec(const PrepareSpec& spec);
// Page-size names: pageSizeName in common/text.h (via host/parse.h).

}  // namespace vnf::prep
