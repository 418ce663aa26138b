// vnfctl's record inside a domain's <metadata>: what the domain was rendered from and what it holds
// on the host. libvirt keeps the element verbatim (one element per namespace URI), so the
// lifecycle code can find the domains vnfctl manages and their allocations without a database.
//
// Layout (namespace kVnfMetadataNs, prefix "vnfctl"; see docs/domain-xml.md):
//   <vnfctl:vnf>
//     <vnfctl:spec hash='sha256:HEX' recipe='3'>          (recipe 1: a 16-hex FNV-1a hash, no fields)
//       <vnfctl:field name='vcpus' value='4'/> ...          (the canonical fields the hash covers)
//     </vnfctl:spec>
//     <vnfctl:tool version='0.1.0'/>
//     <vnfctl:image hash='sha256:..'/>
//     <vnfctl:placement node='0' page-size-kib='1048576' hugepages='4' memory-kib='4194304'>
//       <vnfctl:vcpupin vcpu='0' cpu='2'/> ...          (dedicated policy)
//       <vnfctl:shared cpus='0-7'/>                      (shared policy)
//       <vnfctl:emulatorpin cpus='1'/>
//     </vnfctl:placement>
//     <vnfctl:vf nic='0' pf='0000:81:00.0' address='0000:81:10.0' index='0' driver='vfio-pci'
//                vlan='100' trust='yes' spoofchk='no' mtu='9000'/> ...
//   </vnfctl:vnf>
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/parse.h"
#include "spec/canonical.h"

namespace vnf {

// Versioned: a change of layout gets a new URN, and readers keep accepting the old one.
inline constexpr const char* kVnfMetadataNs = "urn:vnfctl:domain:1";
inline constexpr const char* kVnfMetadataPrefix = "vnfctl";
inline constexpr const char* kVnfMetadataElement = "vnf";

// One VF and the settings libvirt's XML cannot carry for it (spoofchk, mtu on a hostdev VF), which
// vnfctl applies on the PF itself before start.
struct VfMetadata {
  int nic_index = 0;  // index into VnfSpec::nics
  PciAddress pf;
  PciAddress vf;
  int vf_index = -1;
  std::string driver;  // the VF's driver when rendered ("vfio-pci": vnfctl prepared it)
  std::optional<int> vlan;
  std::optional<bool> trust;
  std::optional<bool> spoofchk;
  std::optional<int> mtu;
  bool operator==(const VfMetadata&) const = default;
};

struct VnfMetadata {
  std::string spec_hash;               // "sha256:HEX" (recipe >= 2) or 16 hex digits (recipe 1)
  int recipe = 1;                      // how spec_hash was made (lifecycle/recipe.h); 1 when absent
  std::vector<SpecField> spec_fields;  // recipe >= 2: the fields it covers, for a field-by-field diff
  std::string tool_version;
  std::string image_hash;
  int node = -1;  // host NUMA node of vCPUs and memory
  std::uint64_t memory_kib = 0;
  std::uint64_t page_size_kib = 0;  // 0: no hugepages
  std::uint64_t hugepages = 0;      // pages of page_size_kib taken from `node`
  std::vector<int> vcpu_pins;       // host CPU per vCPU (index = vCPU); empty under the shared policy
  std::vector<int> shared_cpus;     // shared policy: host CPUs the vCPUs float on
  std::vector<int> emulator_cpus;
  std::vector<VfMetadata> vfs;
  bool operator==(const VnfMetadata&) const = default;
};

// Reads vnfctl's metadata from a whole domain XML (virDomainGetXMLDesc) or from the bare element
// (virDomainGetMetadata with kVnfMetadataNs). nullopt: the domain has no vnfctl element (not ours).
// Errors (kBadContent): the XML is not well-formed, or the element is there but malformed; the
// message names the attribute and the value seen.
Result<std::optional<VnfMetadata>> readVnfMetadata(const std::string& xml);

}  // namespace vnf
