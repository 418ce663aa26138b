// Doctor: the NFV readiness checklist, judged from a HostTopology (pure: it reads nothing itself).
// Each check is pass / warn / fail / skip with a detail and, unless it passed, the exact fix.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "discovery/topology.h"
#include "host/host_fs.h"

namespace vnf {

enum class Verdict { kPass, kWarn, kFail, kSkip };
const char* verdictName(Verdict v);  // "pass", "warn", "fail", "skip"

struct Check {
  std::string id;     // stable, e.g. "iommu.cmdline"
  std::string title;  // what is checked, for people
  Verdict verdict = Verdict::kSkip;
  std::string detail;  // what was found
  std::string fix;     // the exact command or edit; empty on pass
};

// What the doctor needs beyond the topology, gathered by the caller.
struct DoctorInputs {
  // Result of connecting to libvirt; nullopt when not checked (e.g. --host-root elsewhere).
  struct Libvirt {
    std::string uri;
    bool reachable = false;
    std::string detail;  // version on success, libvirt's error otherwise
  };
  std::optional<Libvirt> libvirt;
  // The MTU the VNFs need on their NICs (from a spec or --mtu); nullopt skips the MTU check.
  std::optional<int> required_mtu;
  // What libvirt's virt-host-validate qemu also checks: device nodes for virtio networking and the
  // cgroup controllers pinning and numatune depend on. nullopt: not checked (no checks are added).
  struct Devices {
    bool vhost_net = false;             // /dev/vhost-net (vhost for tap/virtio ports)
    bool tun = false;                   // /dev/net/tun (taps)
    std::string cgroup_version;         // "v2", "v1", or "" when neither was found
    std::set<std::string> controllers;  // enabled cgroup controllers ("cpuset", "memory", ...)
  };
  std::optional<Devices> devices;
  // The running kernel's lowest supported release for NFV use.
  int min_kernel_major = 5;
  int min_kernel_minor = 4;
};

std::vector<Check> runDoctor(const HostTopology& host, const DoctorInputs& inputs);

// Reads DoctorInputs::Devices through `fs`: /dev/vhost-net, /dev/net/tun, and the controllers of
// /sys/fs/cgroup/cgroup.controllers (v2) or /proc/cgroups (v1). nullopt when the root has no /dev
// or neither cgroup file (a snapshot: it holds only what discovery reads).
std::optional<DoctorInputs::Devices> readHostDevices(const HostFs& fs);

// Exit code for a doctor run: 0 no failure (warnings allowed), 1 at least one failure.
int doctorExitCode(const std::vector<Check>& checks);

}  // namespace vnf
