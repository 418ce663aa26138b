// The manifest vnfctl hands the guest on its kernel command line (read by guest/image/init):
// which NICs are data ports (by MAC: PCI order is not reliable in a guest), the forwarder mode and
// peer MACs, the vCPUs local to the data NICs, and how many 2 MiB pages to reserve in the guest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "domain/render.h"

namespace vnf {

// MACs of the data ports in guest port order: VF NICs in spec order, then tap NICs. These are the
// MACs the rendered XML gives them (derived from the uuid where the spec leaves them out).
Result<std::vector<MacAddress>> dataPortMacs(const RenderInput& input);

inline constexpr int kDefaultMtu = 1500;

// MTU of each data port in guest port order (as dataPortMacs): the spec's mtu, kDefaultMtu where
// it gives none.
std::vector<int> dataPortMtus(const VnfSpec& spec);

// The forwarder mode the guest runs: the spec's, or when it names none, "mac" if peer MACs are
// given and "io" (frames unchanged) if not, so a spec with NICs and nothing else boots to READY.
std::string forwarderMode(const GuestSpec& guest);

// Kernel options guest.fast_boot adds, each trading hardening for boot time: no zeroing of every
// page at allocation (init_on_alloc=0), no crypto self-tests (cryptomgr.notests), no CPU
// vulnerability mitigations (mitigations=off). Never on by default.
inline constexpr const char* kFastBootKernelArgs = "init_on_alloc=0 cryptomgr.notests mitigations=off";

// The 2 MiB pages the guest reserves for vnf-fwd: its mbuf pool as vnf-fwd sizes it for the spec's
// data ports, their MTUs and descriptor counts, plus the EAL's own, at most half the guest's memory.
// Every page is zeroed when the guest reserves it and again when DPDK maps it, so reserving more
// than vnf-fwd uses costs boot time (64 pages took ~1 s under TCG where 15 are enough).
std::uint64_t guestHugepages(const VnfSpec& spec);

// "console=ttyS0 quiet vnf.name=fw1 vnf.ports=MAC,MAC vnf.mtu=1500,9000 vnf.mode=mac vnf.peers=...
//  vnf.rxd=N vnf.txd=N vnf.local_cpus=0-3 vnf.hugepages=N" (vnf.ports, vnf.mtu, vnf.mode, vnf.peers,
//  vnf.rxd and vnf.txd only with data ports; vnf.rxd/txd only when guest.forwarder sets them), then
//  kFastBootKernelArgs with guest.fast_boot. `host` gives the NUMA node of each pinned CPU (for
//  local_cpus).
std::string manifestCmdline(const VnfSpec& spec, const Placement& placement, const HostTopology& host,
                            const std::vector<MacAddress>& ports);

}  // namespace vnf
