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
    cmd += " vnf.mode=" + spec.guest.forwarder_mode;
    if (!spec.guest.peer_macs.empty()) {
      cmd += " vnf.peers=" + join(spec.guest.peer_macs, [](const MacAddress& m) { return formatMac(m); });
    }
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
  return cmd;
}

}  // namespace vnf
