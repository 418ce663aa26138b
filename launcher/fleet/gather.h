// The fleet's hosts as the planner sees them: the inventory file, and each host read with no agent,
// either from a snapshot folder (`vnfctl snapshot`) or through libvirt's own host APIs
// (virConnectGetCapabilities, virNodeGetCellsFreeMemory, virNodeGetFreePages, the node device API:
// virt/remote_host.h), plus what every domain on its libvirt holds (virt/holdings.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "fleet/plan.h"

namespace vnf::fleet {

struct InventoryHost {
  std::string name;
  std::string uri;       // libvirt URI; "" when only a snapshot is planned against
  std::string snapshot;  // host shape from this folder instead of libvirt's host APIs
};

// The inventory (YAML or JSON, docs/fleet.md):
//   hosts:
//     - name: edge-01
//       uri: qemu+ssh://root@edge-01/system
//     - name: lab-02
//       snapshot: snapshots/lab-02     # relative to the inventory's folder
//       uri: qemu:///session?socket=/run/lab-02/libvirt-sock   # optional with a snapshot
// Every problem is collected (file:line: message); names are 1..64 of [A-Za-z0-9._-], unique.
inline constexpr std::uint64_t kMaxInventoryBytes = 4 << 20;
inline constexpr std::size_t kMaxInventoryHosts = 10000;
Result<std::vector<InventoryHost>> parseInventory(const std::string& text, const std::string& file);
Result<std::vector<InventoryHost>> loadInventory(const std::string& path);

struct Unreachable {
  std::string host;
  Error error;
};

struct Gathered {
  std::vector<HostView> hosts;           // inventory order, the reachable ones
  std::vector<Unreachable> unreachable;  // hosts whose shape or holdings could not be read
};

// Reads every host (several at once, each with its own connection). Managed domains named
// "<family>-<number>" become HostView::instances. A host whose libvirt cannot be reached, or whose
// snapshot cannot be read, goes to `unreachable` with the error.
Gathered gatherHosts(const std::vector<InventoryHost>& inventory, const std::string& family);

}  // namespace vnf::fleet
