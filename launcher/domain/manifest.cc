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

std::string manifestCmdline(const VnfSpec& spec, const Placement& p, const HostTopology& host,
                            const std::vector<MacAddress>& ports) {
  auto join = [](const auto& items, auto fmtOne) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + fmtOne(i);
    return out;
  };
  std::string cmd = fmt::format("console=ttyS0 vnf.name={}", p.name.empty() ? spec.name : p.name);
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
  // DPDK in the guest: a quarter of its memory as 2 MiB pages, at most 512 MiB.
  std::uint64_t pages = std::min<std::uint64_t>(256, spec.memory_mib / 4 / 2);
  cmd += fmt::format(" vnf.hugepages={}", std::max<std::uint64_t>(pages, 16));
  if (spec.guest.fast_boot) cmd += std::string(" ") + kFastBootKernelArgs;
  return cmd;
}

}  // namespace vnf
