// VnfSpec: what one VNF asks for, validated. Loaded from YAML (spec/load.h) or CLI flags.
// Units are in the names; defaults are the values given here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/parse.h"

namespace vnf {

enum class CpuPolicy { kDedicated, kShared };
enum class SmtPolicy { kPrefer, kIsolate, kRequire };  // as Nova's hw:cpu_thread_policy
enum class EmulatorPolicy { kIsolate, kShare };        // as Nova's hw:emulator_threads_policy
enum class NumaAffinity { kRequired, kPreferred };     // as Nova's pci_numa_affinity_policy

// One data-plane NIC: a VF of a physical function.
struct NicSpec {
  std::string pf;                 // netdev name ("ens2f0") or PCI address of the PF
  std::optional<int> vf;          // a specific VF index; nullopt: any free VF
  std::optional<MacAddress> mac;  // MAC the guest sees; nullopt: generated from the domain UUID
  std::optional<int> vlan;        // 1..4094, set on the VF by libvirt
  std::optional<int> mtu;         // 68..9216
  std::optional<bool> trust;      // VF trust (promiscuous/multicast in the guest)
  std::optional<bool> spoofchk;   // VF MAC anti-spoofing
  bool hostdev = false;           // <hostdev> instead of <interface type='hostdev'> (no MAC/VLAN by libvirt)
};

// The management NIC: virtio on a libvirt network or a host bridge.
struct MgmtNicSpec {
  enum class Kind { kNetwork, kBridge } kind = Kind::kNetwork;
  std::string source;  // network name or bridge name
  std::optional<MacAddress> mac;
};

// A virtio data NIC on a host tap device (for hosts without SR-IOV, and for the tests).
struct TapNicSpec {
  std::string tap;  // host tap device, created by the caller (managed='no')
  std::optional<MacAddress> mac;
  std::optional<int> mtu;
};

// Bounds of guest.forwarder.rx_descriptors / tx_descriptors: what every PMD a data port can have in
// the guest accepts. iavf (Intel VFs) takes 64..4096 in steps of 32, ixgbevf and igbvf 32..4096 in
// steps of 8; DPDK's virtio PMD takes any count and uses at most its virtqueue's size (QEMU: 256 by
// default). A power of two fits every step; vnf-fwd's burst (32) is below the minimum.
inline constexpr int kMinForwarderDescriptors = 64;
inline constexpr int kMaxForwarderDescriptors = 4096;

// What the guest boots and how its forwarder runs.
struct GuestSpec {
  std::string kernel;  // path on the host; with initrd: direct kernel boot
  std::string initrd;
  std::string cmdline;                // extra kernel arguments
  std::string disk;                   // a disk image instead of kernel+initrd
  std::string forwarder_mode;         // io | mac | macswap | l2fwd; "": mac with peer_macs, else io
  std::vector<MacAddress> peer_macs;  // for mac / l2fwd mode, one per data port (nics, then taps)
  // guest.forwarder.rx_descriptors / tx_descriptors: vnf-fwd's --rxd / --txd per queue (a power of
  // two, kMinForwarderDescriptors..kMaxForwarderDescriptors); unset = vnf-fwd's default (1024).
  std::optional<int> rx_descriptors;
  std::optional<int> tx_descriptors;
  // The firmware QEMU starts: "" = auto (the template's <loader>, else qboot for a direct kernel
  // boot where QEMU has it, else QEMU's SeaBIOS), "bios" (SeaBIOS), "qboot", or an absolute path
  // to a ROM (<loader type='rom'>). lifecycle/render.h resolveFirmware makes it "bios" or a path.
  std::string firmware;
  // Kernel options that trade hardening for boot time (kFastBootKernelArgs, domain/manifest.h).
  // Never on by default; launch says when it is on.
  bool fast_boot = false;
};

struct VnfSpec {
  std::string name;  // 1..48 chars of [A-Za-z0-9._-], starting with a letter or digit
  int vcpus = 2;
  std::uint64_t memory_mib = 2048;
  std::uint64_t page_size_kib = 1048576;  // 1 GiB; 2048 for 2 MiB; 0 for no hugepages
  CpuPolicy cpu_policy = CpuPolicy::kDedicated;
  SmtPolicy smt_policy = SmtPolicy::kPrefer;
  EmulatorPolicy emulator_policy = EmulatorPolicy::kIsolate;
  NumaAffinity numa_affinity = NumaAffinity::kRequired;
  std::vector<NicSpec> nics;
  std::vector<TapNicSpec> tap_nics;
  std::optional<MgmtNicSpec> mgmt;
  std::string profile = "default";  // template name in domain-templates/, or a path to an XML file
  GuestSpec guest;
  int count = 1;       // N identical instances name-1..name-N
  std::string source;  // file the spec came from ("" for flags), for messages
};

// Whether a profile names a template file (it has a '/' or ends in .xml) rather than a template in
// domain-templates/. A relative path in a spec file is resolved from the file's folder.
inline bool profileIsPath(const std::string& profile) {
  return profile.find('/') != std::string::npos || profile.ends_with(".xml");
}

}  // namespace vnf
