#include "discovery/discover.h"

#include <algorithm>

#include "discovery/reader.h"

namespace vnf {
namespace {

using detail::Reader;

void discoverKernel(Reader& r, HostTopology& host) {
  auto& k = host.kernel;
  k.release = r.optionalText("/proc/sys/kernel/osrelease");
  if (k.release.empty()) r.note("/proc/sys/kernel/osrelease", "kernel release unreadable; treated as unknown");
  k.version = r.optionalText("/proc/sys/kernel/version");
  // An unreadable command line is not an empty one: doctor must not report "intel_iommu not set".
  if (auto cmdline = r.textOrNote("/proc/cmdline", "kernel parameters treated as unknown")) {
    k.cmdline = std::string(trim(*cmdline));
  } else {
    k.cmdline_error = cmdline.error().message;
  }
  k.params = parseCmdline(k.cmdline);
  // PREEMPT_RT kernels say so in their version string, and (since 5.x) in /sys/kernel/realtime.
  k.preempt_rt = k.version.find("PREEMPT_RT") != std::string::npos ||
                 k.version.find("PREEMPT RT") != std::string::npos || r.optionalText("/sys/kernel/realtime") == "1";
}

void discoverCpuFlags(Reader& r, HostTopology& host) {
  auto text = r.fs().readText("/proc/cpuinfo");
  if (!text) {
    r.note("/proc/cpuinfo", text.error().message + "; CPU vendor and flags treated as unknown");
    return;
  }
  // The first processor's block is enough: flags that matter here are the same on every CPU.
  std::string_view rest = *text;
  auto& f = host.cpu_flags;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (trim(line).empty()) {
      if (!f.vendor.empty() || !f.model_name.empty()) break;  // end of the first block
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (key == "vendor_id") {
      f.vendor = std::string(value);
    } else if (key == "model name") {
      f.model_name = std::string(value);
    } else if (key == "flags") {
      // Whole-word matches only ("svm" must not match "svm_lock").
      std::size_t i = 0;
      while (i < value.size()) {
        auto j = value.find(' ', i);
        if (j == std::string_view::npos) j = value.size();
        auto word = value.substr(i, j - i);
        if (word == "vmx")
          f.vmx = true;
        else if (word == "svm")
          f.svm = true;
        else if (word == "pdpe1gb")
          f.pdpe1gb = true;
        else if (word == "hypervisor")
          f.hypervisor = true;
        i = j + 1;
      }
    }
  }
}

void discoverPlatform(Reader& r, HostTopology& host) {
  auto& fs = r.fs();
  auto& p = host.platform;
  p.dev_kvm = fs.exists("/dev/kvm");
  p.dev_vfio = fs.exists("/dev/vfio/vfio");
  p.vfio_pci_loaded = fs.kind("/sys/bus/pci/drivers/vfio-pci") == PathKind::kDirectory;
  p.vfio_pci_available = p.vfio_pci_loaded;
  if (!p.vfio_pci_available && !host.kernel.release.empty()) {
    // Built in, or a module file for the running kernel that modprobe would load.
    const std::string dir = "/lib/modules/" + host.kernel.release;
    for (const char* file : {"/modules.builtin", "/modules.dep"}) {
      auto text = fs.readText(dir + file);
      if (text && (text->find("/vfio-pci.ko") != std::string::npos)) {
        p.vfio_pci_available = true;
        break;
      }
    }
  }
  if (auto units = fs.listDir("/sys/class/iommu")) p.iommu_units = *units;
  if (auto groups = fs.listDir("/sys/kernel/iommu_groups")) p.iommu_groups = static_cast<int>(groups->size());
}

}  // namespace

Result<HostTopology> discoverHost(const HostFs& fs) {
  HostTopology host;
  Reader r(fs, host.notes);
  if (fs.kind("/sys/devices/system/cpu") != PathKind::kDirectory) {
    return fail(
        Errc::kNotFound,
        fmt::format("{}: /sys/devices/system/cpu does not exist, so this is not a Linux host tree", fs.root().string()),
        "point --host-root at the root of a tree made by 'vnfctl snapshot' (it holds sys/ and proc/)");
  }
  discoverKernel(r, host);
  discoverCpuFlags(r, host);
  if (auto ok = detail::discoverCpus(r, host); !ok) return std::unexpected(ok.error());
  if (auto ok = detail::discoverNuma(r, host); !ok) return std::unexpected(ok.error());
  detail::discoverHugetlbfs(r, host);
  discoverPlatform(r, host);
  detail::discoverPci(r, host);
  return host;
}

}  // namespace vnf
