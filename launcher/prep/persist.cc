#include "prep/persist.h"

#include <filesystem>

#include <fmt/format.h>

namespace vnf::prep {
namespace {

std::string under(const std::string& root, const std::string& path) {
  return (std::filesystem::path(root) / std::filesystem::path(path).relative_path()).string();
}

}  // namespace

std::string bootParams(const HostTopology& host, const PrepareSpec& spec) {
  std::vector<std::string> p;
  if (spec.kernel.iommu) {
    p.push_back(host.cpu_flags.vendor == "AuthenticAMD" ? "amd_iommu=on" : "intel_iommu=on");
    p.push_back("iommu=pt");
  }
  if (spec.kernel.default_hugepage_kib)
    p.push_back("default_hugepagesz=" + pageSizeName(spec.kernel.default_hugepage_kib));
  if (spec.kernel.boot_1g_pages) {
    p.push_back("hugepagesz=1G");
    p.push_back(fmt::format("hugepages={}", spec.kernel.boot_1g_pages));
  }
  if (!spec.kernel.isolcpus.empty()) p.push_back("isolcpus=" + spec.kernel.isolcpus);
  std::string out;
  for (const auto& s : p) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<Step> persistSteps(const HostTopology& host, const PrepareSpec& spec, const PersistOptions& o) {
  std::vector<Step> steps;
  const std::string spec_path = "/etc/vnfctl/host.yaml";
  steps.push_back({StepKind::kFile, under(o.root, spec_path), -1, "", emitPrepareSpec(spec), ""});
  std::string journal = o.journal_path.empty() ? "" : " --journal " + o.journal_path;
  steps.push_back({StepKind::kFile, under(o.root, std::string("/etc/systemd/system/") + kUnitName), -1, "",
                   fmt::format("# Written by vnfctl prepare --persist; removed by vnfctl unprepare.\n"
                               "[Unit]\n"
                               "Description=vnfctl host preparation (SR-IOV VFs, vfio-pci, hugepages)\n"
                               "DefaultDependencies=no\n"
                               "After=systemd-modules-load.service local-fs.target\n"
                               "Before=libvirtd.service virtqemud.service network-pre.target\n"
                               "Wants=network-pre.target\n"
                               "\n"
                               "[Service]\n"
                               "Type=oneshot\n"
                               "RemainAfterExit=yes\n"
                               "ExecStart={} prepare --spec {}{}\n"
                               "\n"
                               "[Install]\n"
                               "WantedBy=multi-user.target\n",
                               o.vnfctl_path, spec_path, journal),
                   ""});
  const auto params = bootParams(host, spec);
  if (!params.empty()) {
    steps.push_back({StepKind::kFile, under(o.root, "/etc/default/grub.d/vnfctl.cfg"), -1, "",
                     fmt::format("# Written by vnfctl prepare --persist; removed by vnfctl unprepare.\n"
                                 "# Takes effect after update-grub and a reboot.\n"
                                 "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT {}\"\n",
                                 params),
                     ""});
  }
  return steps;
}

std::vector<std::string> activationCommands(const HostTopology& host, const PrepareSpec& spec) {
  std::vector<std::string> cmds{"systemctl daemon-reload", std::string("systemctl enable ") + kUnitName};
  if (!bootParams(host, spec).empty())
    cmds.push_back("update-grub && reboot   # kernel parameters: " + bootParams(host, spec));
  return cmds;
}

}  // namespace vnf::prep
