#include "domain/manifest.h"

#include <algorithm>

#include <fmt/format.h>

#include "domain/build.h"

namespace vnf {

Result<std::vector<MacAddress>> dataPortMacs(const RenderInput& input) {
  auto model = domain::buildDomain(input);
  if (!model) return std::unexpected(model.error());
  std::vector<MacAddress> out;
  for (const auto& i : model->devices.hostdev_interfaces) out.push_back(i.mac);
  for (const auto& e : model->devices.ethernet_interfaces) out.push_back(e.mac);
  return out;
}

std::vector<int> dataPortMtus(const VnfSpec& spec) {
  std::vector<int> out;
  for (const auto& nic : spec.nics) {
    if (!nic.hostdev) out.push_back(nic.mtu.value_or(kDefaultMtu));  // <hostdev> NICs are not data ports
  }
  for (const auto& tap : spec.tap_nics) out.push_back(tap.mtu.value_or(kDefaultMtu));
  return out;
}

std::string forwarderMode(const GuestSpec& guest) {
  if (!guest.forwarder_mode.empty()) return guest.forwarder_mode;
  return guest.peer_macs.empty() ? "io" : "mac";
}

std::uint64_t guestHugepages(const VnfSpec& spec) {
  // vnf-fwd's pool (guest/fwd/ports.cc PortSet::setup): per data port one RX queue of --rxd
  // descriptors, one TX queue of --txd plus two bursts, a pool cache per queue; half as much again;
  // at least kMinPoolMbufs. Each mbuf holds a whole frame of the largest MTU after the headroom.
  // --rxd/--txd are the spec's guest.forwarder descriptors, else vnf-fwd's default (1024).
  constexpr std::uint64_t kDefaultDescriptors = 1024, kBurst = 32, kPoolCache = 512;
  const auto rxd = static_cast<std::uint64_t>(spec.guest.rx_descriptors.value_or(kDefaultDescriptors));
  const auto txd = static_cast<std::uint64_t>(spec.guest.tx_descriptors.value_or(kDefaultDescriptors));
  constexpr std::uint64_t kMinPoolMbufs = 8192, kHeadroom = 128, kDefaultBuf = 2048 + kHeadroom;
  // rte_mbuf (two cache lines) and the mempool's object header and trailer.
  constexpr std::uint64_t kPerMbufOverhead = 128 + 64;
  // The EAL's own memzones, the virtio rings and the rings of the pool itself.
  constexpr std::uint64_t kEalPages = 4;
  constexpr std::uint64_t kPage = 2ULL << 20;
  const std::vector<int> mtus = dataPortMtus(spec);
  if (mtus.empty()) return kEalPages;
  std::uint64_t needed = 0, data_room = kDefaultBuf;
  for (int mtu : mtus) {
    needed += rxd + txd + 2 * kBurst + 2 * kPoolCache;
    // Ethernet header, CRC, one VLAN tag and virtio-net's header (guest/fwd/ports.cc frame_bytes).
    data_room = std::max<std::uint64_t>(data_room, kHeadroom + static_cast<std::uint64_t>(mtu) + 14 + 4 + 4 + 12);
  }
  const std::uint64_t mbufs = std::max(kMinPoolMbufs, needed + needed / 2);
  const std::uint64_t pages = (mbufs * (data_room + kPerMbufOverhead) + kPage - 1) / kPage + kEalPages;
  // Never more than half the guest's memory: vnf-fwd says what is missing if that is too little.
  return std::max<std::uint64_t>(std::min(pages, spec.memory_mib / 2 / 2), 1);
}

std::string manifestCmdline(const VnfSpec& spec, const Placement& p, const HostTopology& host,
                            const std::vector<MacAddress>& ports) {
  auto join = [](const auto& items, auto fmtOne) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + fmtOne(i);
    return out;
  };
  // quiet: the kernel's own lines at loglevel 4 and above stay off the serial console (each byte
  // costs a trap under emulation: ~0.3 s of a TCG boot); errors and panics still show, and
  // guest.cmdline "loglevel=7" (later on the line, so it wins) brings them all back.
  std::string cmd = fmt::format("console=ttyS0 quiet vnf.name={}", p.name.empty() ? spec.name : p.name);
  if (!ports.empty()) {
    cmd += " vnf.ports=" + join(ports, [](const MacAddress& m) { return formatMac(m); });
    cmd += " vnf.mtu=" + join(dataPortMtus(spec), [](int mtu) { return std::to_string(mtu); });
    cmd += " vnf.mode=" + forwarderMode(spec.guest);
    if (!spec.guest.peer_macs.empty()) {
      cmd += " vnf.peers=" + join(spec.guest.peer_macs, [](const MacAddress& m) { return formatMac(m); });
    }
    if (spec.guest.rx_descriptors) cmd += fmt::format(" vnf.rxd={}", *spec.guest.rx_descriptors);
    if (spec.guest.tx_descriptors) cmd += fmt::format(" vnf.txd={}", *spec.guest.tx_descriptors);
  }
  // vCPUs whose host CPU is on the node of the first VF (all of them for tap-only VNFs).
  std::vector<int> local;
  int nic_node = p.vfs.empty() ? p.node : p.vfs.front().numa_node;
  for (std::size_t v = 0; v < p.vcpu_pins.size(); ++v) {
    const Cpu* c = host.cpu(p.vcpu_pins[v]);
    if (!c || c->node == nic_node || nic_node < 0) local.push_back(static_cast<int>(v));
  }
  if (p.vcpu_pins.empty()) {
    for (int v = 0; v < spec.vcpus; ++v) local.push_back(v);
  }
  cmd += " vnf.local_cpus=" + (local.empty() ? std::string("none") : formatCpuList(local));
  cmd += fmt::format(" vnf.hugepages={}", guestHugepages(spec));
  if (spec.guest.fast_boot) cmd += std::string(" ") + kFastBootKernelArgs;
  return cmd;
}

}  // namespace vnf
