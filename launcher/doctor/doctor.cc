#include "doctor/doctor.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace vnf {
namespace {

constexpr const char* kGrubFix = "add {} to GRUB_CMDLINE_LINUX in /etc/default/grub, then run: update-grub && reboot";

bool isIntel(const HostTopology& h) { return h.cpu_flags.vendor == "GenuineIntel"; }
bool isAmd(const HostTopology& h) { return h.cpu_flags.vendor == "AuthenticAMD"; }

Check make(std::string id, std::string title, Verdict v, std::string detail, std::string fix = {}) {
  return Check{std::move(id), std::move(title), v, std::move(detail), v == Verdict::kPass ? "" : std::move(fix)};
}

Check kernelVersion(const HostTopology& h, const DoctorInputs& in) {
  auto release = h.kernel.release;
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) {
    return make("kernel.version", "Kernel release", Verdict::kWarn, fmt::format("release '{}' not understood", release),
                "check /proc/sys/kernel/osrelease");
  }
  bool ok = major > in.min_kernel_major || (major == in.min_kernel_major && minor >= in.min_kernel_minor);
  return make(
      "kernel.version", "Kernel release", ok ? Verdict::kPass : Verdict::kFail,
      fmt::format("{} ({} {}.{} or newer)", release, ok ? "is" : "needs", in.min_kernel_major, in.min_kernel_minor),
      fmt::format("install a kernel >= {}.{}: apt-get install linux-image-amd64 && reboot", in.min_kernel_major,
                  in.min_kernel_minor));
}

Check cpuVirt(const HostTopology& h) {
  const auto& f = h.cpu_flags;
  if (f.vmx || f.svm) {
    return make("cpu.virt", "CPU virtualization (VT-x/AMD-V)", Verdict::kPass,
                fmt::format("{} present", f.vmx ? "vmx" : "svm"));
  }
  std::string where = f.hypervisor ? "this host is itself a VM: enable nested virtualization on its hypervisor "
                                     "(e.g. kvm_intel nested=1 and <cpu mode='host-passthrough'/>)"
                                   : "enable Intel VT-x / AMD-V (SVM) in the firmware setup";
  return make("cpu.virt", "CPU virtualization (VT-x/AMD-V)", Verdict::kFail,
              "no vmx or svm flag in /proc/cpuinfo: VNFs can only run under TCG emulation, far too slow for "
              "packet forwarding",
              where);
}

Check kvmDevice(const HostTopology& h) {
  const auto& f = h.cpu_flags;
  if (!h.platform.dev_kvm) {
    return make("kvm.device", "/dev/kvm", Verdict::kFail, "/dev/kvm does not exist",
                isAmd(h) ? "modprobe kvm_amd" : "modprobe kvm_intel");
  }
  if (!f.vmx && !f.svm) {
    return make("kvm.device", "/dev/kvm", Verdict::kWarn,
                "/dev/kvm exists but the CPU exposes no vmx/svm: it is a paravirtual or nested device that stock "
                "guest kernels may not boot on; vnfctl uses domain type 'qemu' (TCG) here",
                "use a host whose CPU exposes vmx or svm to run VNFs under KVM");
  }
  return make("kvm.device", "/dev/kvm", Verdict::kPass, "/dev/kvm present, guests run under KVM");
}

// intel_iommu / amd_iommu and iommu=pt on a command line that was read.
Check iommuCmdline(const HostTopology& h, const std::string& param) {
  auto intel = h.kernel.param("intel_iommu");
  auto amd = h.kernel.param("amd_iommu");
  auto pt = h.kernel.param("iommu");
  bool on = false;
  std::string seen;
  if (isAmd(h)) {
    on = !amd || (*amd != "off");  // AMD's IOMMU is on by default when firmware has it
    seen = amd ? "amd_iommu=" + *amd : "amd_iommu not set (on by default)";
  } else {
    on = intel && intel->find("on") != std::string::npos;
    seen = intel ? "intel_iommu=" + *intel : "intel_iommu not set";
    if (!intel && !isIntel(h)) seen += " (CPU vendor unknown)";
  }
  bool passthrough = pt && *pt == "pt";
  Verdict v = !on ? Verdict::kFail : passthrough ? Verdict::kPass : Verdict::kWarn;
  std::string detail = seen + (passthrough ? ", iommu=pt" : ", iommu=pt not set");
  if (on && !passthrough) detail += " (host DMA goes through IOMMU translation: slower host networking)";
  std::string add = !on ? param + " iommu=pt" : "iommu=pt";
  return make("iommu.cmdline", "IOMMU on the kernel command line", v, detail, fmt::format(kGrubFix, add));
}

std::vector<Check> iommuChecks(const HostTopology& h) {
  std::vector<Check> out;
  const auto& p = h.platform;
  const std::string param = isAmd(h) ? "amd_iommu=on" : "intel_iommu=on";
  // Firmware: the kernel registers IOMMU units (dmar*, ivhd*) only when firmware describes them.
  if (!p.iommu_units.empty()) {
    std::string units;
    for (const auto& u : p.iommu_units) units += (units.empty() ? "" : ",") + u;
    out.push_back(make("iommu.firmware", "IOMMU enabled in firmware (VT-d/AMD-Vi)", Verdict::kPass,
                       fmt::format("IOMMU units: {}", units)));
  } else {
    out.push_back(make("iommu.firmware", "IOMMU enabled in firmware (VT-d/AMD-Vi)", Verdict::kFail,
                       "no IOMMU units in /sys/class/iommu",
                       fmt::format("enable {} in the firmware setup, and {}", isAmd(h) ? "AMD-Vi (IOMMU)" : "VT-d",
                                   fmt::format(kGrubFix, param + " iommu=pt"))));
  }
  if (!h.kernel.cmdline_error.empty()) {
    out.push_back(make("iommu.cmdline", "IOMMU on the kernel command line", Verdict::kWarn,
                       fmt::format("could not read the kernel command line ({}), so intel_iommu/amd_iommu and "
                                   "iommu=pt are unknown",
                                   h.kernel.cmdline_error),
                       "make /proc/cmdline readable (mount proc, or run doctor as root) and run it again; for "
                       "a --host-root tree, capture the host again with 'vnfctl snapshot'"));
  } else {
    out.push_back(iommuCmdline(h, param));
  }
  if (p.iommu_groups > 0) {
    out.push_back(make("iommu.groups", "IOMMU groups", Verdict::kPass,
                       fmt::format("{} groups in /sys/kernel/iommu_groups", p.iommu_groups)));
  } else {
    out.push_back(make("iommu.groups", "IOMMU groups", Verdict::kFail,
                       "/sys/kernel/iommu_groups is empty: devices cannot be passed through with vfio",
                       fmt::format("enable the IOMMU (see iommu.firmware and iommu.cmdline), then reboot")));
  }
  return out;
}

Check vfioCheck(const HostTopology& h) {
  const auto& p = h.platform;
  if (p.vfio_pci_loaded) return make("vfio.pci", "vfio-pci driver", Verdict::kPass, "vfio-pci is loaded");
  if (p.vfio_pci_available) {
    return make("vfio.pci", "vfio-pci driver", Verdict::kWarn, "vfio-pci is available but not loaded",
                "modprobe vfio-pci && echo vfio-pci > /etc/modules-load.d/vfio-pci.conf");
  }
  return make("vfio.pci", "vfio-pci driver", Verdict::kFail,
              fmt::format("no vfio-pci driver loaded and no module for kernel {} in /lib/modules",
                          h.kernel.release.empty() ? "(unknown)" : h.kernel.release),
              "apt-get install linux-image-$(uname -r) (a kernel with modules), then modprobe vfio-pci");
}

std::vector<Check> hugepageChecks(const HostTopology& h) {
  std::vector<Check> out;
  out.push_back(make("hugepages.1g", "1 GiB page support (pdpe1gb)",
                     h.cpu_flags.pdpe1gb ? Verdict::kPass : Verdict::kWarn,
                     h.cpu_flags.pdpe1gb ? "CPU supports 1 GiB pages" : "no pdpe1gb flag: only 2 MiB pages",
                     "use hugepage size 2M in the VNF spec, or a CPU with pdpe1gb"));
  // Reserved pages per node: every node with CPUs should have some, of either size.
  std::vector<std::string> empty_nodes;
  std::string summary;
  for (const auto& n : h.nodes) {
    std::uint64_t kib = 0;
    std::string pools;
    for (const auto& p : n.hugepages) {
      kib += p.total * p.page_size_kib;
      if (p.total) pools += fmt::format("{}{}x{}", pools.empty() ? "" : "+", p.total, pageSizeName(p.page_size_kib));
    }
    summary += fmt::format("{}node{}: {}", summary.empty() ? "" : "; ", n.id,
                           kib ? fmt::format("{} ({} MiB, {} free pages)", pools, kib / 1024,
                                             [&] {
                                               std::uint64_t f = 0;
                                               for (auto& p : n.hugepages) f += p.free;
                                               return f;
                                             }())
                               : "none");
    if (!n.cpus.empty() && kib == 0) empty_nodes.push_back(std::to_string(n.id));
  }
  std::string fix;
  const std::string size_dir = h.cpu_flags.pdpe1gb ? "hugepages-1048576kB" : "hugepages-2048kB";
  const std::string count = h.cpu_flags.pdpe1gb ? "4" : "1024";
  for (const auto& id : empty_nodes) {
    fix += fmt::format("{}echo {} > /sys/devices/system/node/node{}/hugepages/{}/nr_hugepages", fix.empty() ? "" : "; ",
                       count, id, size_dir);
  }
  out.push_back(make("hugepages.reserved", "Hugepages reserved per NUMA node",
                     empty_nodes.empty() ? Verdict::kPass : Verdict::kFail, summary, fix));
  if (!h.hugetlbfs.empty()) {
    std::string mounts;
    for (const auto& m : h.hugetlbfs)
      mounts += fmt::format("{}{} ({} KiB pages)", mounts.empty() ? "" : ", ", m.path, m.page_size_kib);
    out.push_back(make("hugetlbfs.mounted", "hugetlbfs mounted", Verdict::kPass, mounts));
  } else {
    out.push_back(make("hugetlbfs.mounted", "hugetlbfs mounted", Verdict::kFail, "no hugetlbfs mount in /proc/mounts",
                       h.cpu_flags.pdpe1gb
                           ? "mkdir -p /dev/hugepages1G && mount -t hugetlbfs -o pagesize=1G nodev /dev/hugepages1G"
                           : "mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages"));
  }
  return out;
}

Check isolatedCores(const HostTopology& h) {
  auto iso = h.isolatedCpus();
  if (!iso.empty()) {
    return make("cpu.isolated", "Isolated cores for packet processing", Verdict::kPass,
                fmt::format("isolated CPUs: {}", formatCpuList(iso)));
  }
  // Suggest everything but the first core of each node (and its SMT siblings) for housekeeping.
  std::vector<int> suggest;
  std::set<int> housekeeping;
  for (const auto& n : h.nodes) {
    if (n.cpus.empty()) continue;
    if (const auto* c = h.cpu(n.cpus.front())) housekeeping.insert(c->siblings.begin(), c->siblings.end());
  }
  for (const auto& c : h.cpus) {
    if (c.online && !housekeeping.contains(c.id)) suggest.push_back(c.id);
  }
  std::string fix =
      suggest.empty()
          ? "this host has no CPU to spare beyond housekeeping: use a host with more cores"
          : fmt::format(kGrubFix, fmt::format("isolcpus={0} nohz_full={0} rcu_nocbs={0}", formatCpuList(suggest)));
  return make("cpu.isolated", "Isolated cores for packet processing", Verdict::kWarn,
              "no isolated CPUs (isolcpus / cpu/isolated): packet cores share time with host tasks", fix);
}

Check realtimeKernel(const HostTopology& h) {
  if (h.kernel.preempt_rt)
    return make("kernel.rt", "Low-latency (PREEMPT_RT) kernel", Verdict::kPass, "PREEMPT_RT kernel");
  return make("kernel.rt", "Low-latency (PREEMPT_RT) kernel", Verdict::kWarn,
              "not a PREEMPT_RT kernel: fine for throughput, worse tail latency",
              "apt-get install linux-image-rt-amd64 && reboot");
}

std::vector<Check> nicChecks(const HostTopology& h, const DoctorInputs& in) {
  std::vector<Check> out;
  std::vector<const PciNic*> pfs;
  for (const auto& n : h.nics) {
    if (n.sriov) pfs.push_back(&n);
  }
  if (pfs.empty()) {
    out.push_back(
        make("sriov.nics", "SR-IOV capable NICs", Verdict::kWarn,
             fmt::format("none of the {} network functions can create VFs: VNFs get virtio NICs only", h.nics.size()),
             "install an SR-IOV NIC (and enable SR-IOV in the firmware setup), or use virtio data NICs"));
    out.push_back(make("numa.nic_local_cores", "NIC-local cores", Verdict::kSkip, "no SR-IOV NIC to place VNFs near"));
  } else {
    std::string detail;
    bool any_vfs = false;
    for (const auto* pf : pfs) {
      std::string name = pf->netdevs.empty() ? pf->address.str() : pf->netdevs.front().name + " " + pf->address.str();
      detail += fmt::format("{}{} ({}): {}/{} VFs", detail.empty() ? "" : "; ", name,
                            pf->driver.empty() ? "no driver" : pf->driver, pf->sriov->num_vfs, pf->sriov->total_vfs);
      any_vfs |= pf->sriov->num_vfs > 0;
    }
    std::string fix;
    const auto* first = pfs.front();
    fix = fmt::format("echo {} > /sys/bus/pci/devices/{}/sriov_numvfs", first->sriov->total_vfs, first->address.str());
    out.push_back(make("sriov.nics", "SR-IOV capable NICs", any_vfs ? Verdict::kPass : Verdict::kWarn,
                       detail + (any_vfs ? "" : "; no VFs created yet"), fix));
    // NIC-local cores: the PF's node must have online CPUs that are not housekeeping-only.
    std::string local;
    Verdict v = Verdict::kPass;
    std::string lfix;
    for (const auto* pf : pfs) {
      const NumaNode* node = pf->numa_node >= 0 ? h.node(pf->numa_node) : nullptr;
      if (!node) {
        local += fmt::format("{}{}: NUMA node unknown", local.empty() ? "" : "; ", pf->address.str());
        if (h.nodes.size() > 1) {
          v = std::max(v, Verdict::kWarn);
          lfix = "firmware does not report the NIC's node (numa_node=-1): update the BIOS or check the slot";
        }
        continue;
      }
      local += fmt::format("{}{}: node {} has CPUs {}", local.empty() ? "" : "; ", pf->address.str(), node->id,
                           formatCpuList(node->cpus));
      if (node->cpus.size() < 2) {
        v = Verdict::kFail;
        lfix = fmt::format("node {} has no CPU to spare: move the NIC to a slot on a node with CPUs", node->id);
      }
    }
    out.push_back(make("numa.nic_local_cores", "NIC-local cores", v, local, lfix));
  }
  if (in.required_mtu) {
    std::vector<std::string> short_ones;
    for (const auto& n : h.nics) {
      for (const auto& d : n.netdevs) {
        if (d.mtu >= 0 && d.mtu < *in.required_mtu) short_ones.push_back(fmt::format("{} (mtu {})", d.name, d.mtu));
      }
    }
    if (short_ones.empty()) {
      out.push_back(
          make("nic.mtu", "NIC MTU", Verdict::kPass, fmt::format("every NIC netdev has MTU >= {}", *in.required_mtu)));
    } else {
      std::string list, fix;
      for (const auto& s : short_ones) list += (list.empty() ? "" : ", ") + s;
      for (const auto& n : h.nics) {
        for (const auto& d : n.netdevs) {
          if (d.mtu >= 0 && d.mtu < *in.required_mtu)
            fix += fmt::format("{}ip link set dev {} mtu {}", fix.empty() ? "" : "; ", d.name, *in.required_mtu);
        }
      }
      out.push_back(make("nic.mtu", "NIC MTU", Verdict::kFail,
                         fmt::format("the VNFs need MTU {}, but: {}", *in.required_mtu, list), fix));
    }
  } else {
    out.push_back(make("nic.mtu", "NIC MTU", Verdict::kSkip, "no MTU asked (give --mtu N or a VNF spec)"));
  }
  return out;
}

Check libvirtCheck(const DoctorInputs& in) {
  if (!in.libvirt) {
    return make("libvirt.reachable", "libvirt reachable", Verdict::kSkip,
                "not checked (host read from a snapshot, or --no-libvirt)");
  }
  const auto& l = *in.libvirt;
  if (l.reachable)
    return make("libvirt.reachable", "libvirt reachable", Verdict::kPass, fmt::format("{}: {}", l.uri, l.detail));
  return make("libvirt.reachable", "libvirt reachable", Verdict::kFail, fmt::format("{}: {}", l.uri, l.detail),
              "start the daemons: systemctl start libvirtd (without systemd: virtlogd --daemon && libvirtd --daemon)");
}

}  // namespace

namespace {

// virt-host-validate's qemu checks that matter to a VNF host, each with its fix.
std::vector<Check> deviceChecks(const DoctorInputs::Devices& d) {
  std::vector<Check> out;
  out.push_back(make(
      "dev.vhost_net", "/dev/vhost-net (vhost for virtio/tap ports)", d.vhost_net ? Verdict::kPass : Verdict::kWarn,
      d.vhost_net ? "present" : "missing: QEMU moves the packets of tap ports itself, several times slower",
      "modprobe vhost_net && echo vhost_net > /etc/modules-load.d/vhost_net.conf"));
  out.push_back(make("dev.tun", "/dev/net/tun (tap ports)", d.tun ? Verdict::kPass : Verdict::kFail,
                     d.tun ? "present" : "missing: no tap port can be created for a VNF",
                     "modprobe tun && echo tun > /etc/modules-load.d/tun.conf"));
  auto controller = [&](const char* name, const char* id, const char* why, Verdict missing) {
    bool has = d.controllers.count(name) > 0;
    std::string fix = d.cgroup_version == "v2"
                          ? fmt::format(
                                "echo +{} > /sys/fs/cgroup/cgroup.subtree_control (and check that "
                                "systemd delegates it: systemctl show -p DelegateControllers)",
                                name)
                          : fmt::format(
                                "mount the {0} controller: mkdir -p /sys/fs/cgroup/{0} && mount -t cgroup -o "
                                "{0} cgroup /sys/fs/cgroup/{0}; for memory on some kernels add "
                                "cgroup_enable=memory to the kernel command line",
                                name);
    out.push_back(make(id, fmt::format("cgroup {} controller", name), has ? Verdict::kPass : missing,
                       has ? fmt::format("enabled (cgroup {})", d.cgroup_version)
                           : fmt::format("not enabled (cgroup {}): {}",
                                         d.cgroup_version.empty() ? "not mounted" : d.cgroup_version, why),
                       fix));
  };
  controller("cpuset", "cgroup.cpuset",
             "libvirt cannot confine the emulator threads and numatune memory (cpuset.mems) to the planned node",
             Verdict::kFail);
  controller("memory", "cgroup.memory", "libvirt cannot account or limit a VNF's memory", Verdict::kWarn);
  return out;
}

}  // namespace

std::optional<DoctorInputs::Devices> readHostDevices(const HostFs& fs) {
  bool has_dev = fs.kind("/dev") == PathKind::kDirectory;
  DoctorInputs::Devices d;
  if (auto v2 = fs.readText("/sys/fs/cgroup/cgroup.controllers")) {
    d.cgroup_version = "v2";
    std::string_view rest = *v2;
    while (!rest.empty()) {
      auto sp = rest.find_first_of(" \n");
      if (sp != 0) d.controllers.insert(std::string(rest.substr(0, sp)));
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
  } else if (auto v1 = fs.readText("/proc/cgroups")) {
    // "#subsys_name hierarchy num_cgroups enabled"; a controller counts when enabled and mounted.
    d.cgroup_version = "v1";
    std::string_view rest = *v1;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string line(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (line.empty() || line[0] == '#') continue;
      char name[64] = {};
      int hierarchy = 0, cgroups = 0, enabled = 0;
      if (std::sscanf(line.c_str(), "%63s %d %d %d", name, &hierarchy, &cgroups, &enabled) == 4 && enabled == 1 &&
          hierarchy > 0)
        d.controllers.insert(name);
    }
  } else {
    return std::nullopt;  // a snapshot or fixture tree: it did not capture these
  }
  if (!has_dev) return std::nullopt;  // controllers alone would judge devices we cannot see
  d.vhost_net = fs.exists("/dev/vhost-net");
  d.tun = fs.exists("/dev/net/tun");
  return d;
}

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kWarn: return "warn";
    case Verdict::kFail: return "fail";
    case Verdict::kSkip: return "skip";
  }
  return "?";
}

std::vector<Check> runDoctor(const HostTopology& h, const DoctorInputs& in) {
  std::vector<Check> out;
  out.push_back(kernelVersion(h, in));
  out.push_back(cpuVirt(h));
  out.push_back(kvmDevice(h));
  for (auto& c : iommuChecks(h)) out.push_back(std::move(c));
  out.push_back(vfioCheck(h));
  for (auto& c : hugepageChecks(h)) out.push_back(std::move(c));
  out.push_back(isolatedCores(h));
  out.push_back(realtimeKernel(h));
  for (auto& c : nicChecks(h, in)) out.push_back(std::move(c));
  if (in.devices)
    for (auto& c : deviceChecks(*in.devices)) out.push_back(std::move(c));
  out.push_back(libvirtCheck(in));
  if (!h.notes.empty()) {
    std::string detail = fmt::format("{} host file(s) unreadable or odd, first: {}: {}", h.notes.size(),
                                     h.notes.front().path, h.notes.front().message);
    out.push_back(
        make("discovery.notes", "Host files read cleanly", Verdict::kWarn, detail, "see 'vnfctl host' for every note"));
  }
  return out;
}

int doctorExitCode(const std::vector<Check>& checks) {
  return std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.verdict == Verdict::kFail; }) ? 1 : 0;
}

}  // namespace vnf
