// Golden scenarios: each renders to tests/data/golden/domain/<name>.xml (VNF_UPDATE_GOLDEN=1
// rewrites them; review the diff). The same files are then checked against domain.rng and
// libvirt's test driver.
#pragma once

#include <string>
#include <vector>

#include "tests/unit/domain/fixtures.h"

namespace vnf::test {

struct Scenario {
  std::string name;     // golden file stem
  std::string profile;  // template in domain-templates/
  VnfSpec spec;
  Placement placement;
  DomainType type;
};

inline std::vector<Scenario> goldenScenarios() {
  std::vector<Scenario> out;
  {
    // 2 sockets with HT, X710 VFs on node 1: 4 vCPUs on two SMT pairs, emulator on another pair,
    // 1 GiB pages, a VF vnfctl prepared (vfio-pci) with VLAN, trust and MTU, a VF libvirt manages,
    // management on a libvirt network, direct kernel boot. kvm.
    Scenario sc{"dedicated-smt-1g-vf", "default", dedicatedSpec(), dedicatedPlacement(), DomainType::kKvm};
    sc.spec.name = sc.placement.name = "edge-fw";
    sc.spec.smt_policy = SmtPolicy::kRequire;
    sc.spec.mgmt = MgmtNicSpec{.kind = MgmtNicSpec::Kind::kNetwork, .source = "default", .mac = std::nullopt};
    sc.placement.node = 1;
    sc.placement.vcpu_pins = {10, 30, 11, 31};
    sc.placement.emulator_cpus = {9, 29};
    sc.placement.guest_cores = 2;
    sc.placement.guest_threads = 2;
    addVf(sc.spec, sc.placement, make<NicSpec>([](auto& n) {
            n.vlan = 100;
            n.mtu = 9000;
            n.trust = true;
            n.spoofchk = false;
          }),
          "0000:81:00.0", "0000:81:02.0", 0, "vfio-pci");
    addVf(sc.spec, sc.placement, make<NicSpec>([](auto& n) { n.mac = mac("52:54:00:0f:00:02"); }), "0000:81:00.1",
          "0000:81:0a.1", 1, "iavf");
    out.push_back(sc);
  }
  {
    // A laptop-class host without SR-IOV: shared CPUs 0-3, no hugepages, two tap data NICs (one
    // with jumbo MTU), management on a bridge, boots a qcow2 disk. TCG.
    Scenario sc{"shared-nohuge-tap", "default", dedicatedSpec(), dedicatedPlacement(), DomainType::kQemu};
    sc.spec.name = sc.placement.name = "lab-fw";
    sc.spec.vcpus = 2;
    sc.spec.cpu_policy = CpuPolicy::kShared;
    sc.spec.emulator_policy = EmulatorPolicy::kShare;
    sc.spec.page_size_kib = 0;
    sc.spec.memory_mib = 1024;
    sc.spec.guest = {};
    sc.spec.guest.disk = "/var/lib/vnfctl/images/lab-fw.qcow2";
    sc.spec.tap_nics = {tap("vnf-a0", std::nullopt, 9000), tap("vnf-b0")};
    sc.spec.mgmt = MgmtNicSpec{.kind = MgmtNicSpec::Kind::kBridge, .source = "br-mgmt", .mac = std::nullopt};
    sc.placement.vcpu_pins.clear();
    sc.placement.shared_cpus = {0, 1, 2, 3};
    sc.placement.emulator_cpus = {0, 1, 2, 3};
    sc.placement.memory_kib = 1048576;
    sc.placement.page_size_kib = 0;
    sc.placement.hugepages = 0;
    sc.placement.guest_cores = 2;
    out.push_back(sc);
  }
  {
    // The dpdk-fwd profile: 2 vCPUs pinned on one node, 2 MiB pages, one VF as a plain <hostdev>
    // (VLAN applied by vnfctl on the PF), a tap NIC for the test traffic. TCG.
    Scenario sc{"dpdk-fwd-2m-hostdev", "dpdk-fwd", dedicatedSpec(), dedicatedPlacement(), DomainType::kQemu};
    sc.spec.name = sc.placement.name = "fwd-1";
    sc.spec.vcpus = 2;
    sc.spec.profile = "dpdk-fwd";
    sc.spec.page_size_kib = 2048;
    sc.spec.memory_mib = 1024;
    sc.spec.tap_nics = {tap("fwd-1-t0")};
    sc.placement.vcpu_pins = {1, 2};
    sc.placement.emulator_cpus = {0};
    sc.placement.memory_kib = 1048576;
    sc.placement.page_size_kib = 2048;
    sc.placement.hugepages = 512;
    sc.placement.guest_cores = 2;
    addVf(sc.spec, sc.placement, make<NicSpec>([](auto& n) {
            n.vlan = 42;
            n.spoofchk = true;
            n.hostdev = true;
          }),
          "0000:3b:00.0", "0000:3b:02.3", 3, "vfio-pci");
    out.push_back(sc);
  }
  return out;
}

}  // namespace vnf::test
