// `vnfctl doctor`: the NFV readiness checklist. Exit 0: no failure; 1: a check failed;
// 2: bad arguments; 3: the host could not be read.
#include <unistd.h>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/load.h"
#include "doctor/doctor.h"
#include "virt/connection.h"

namespace vnf::cli {
namespace {

struct DoctorOptions {
  bool json = false;
  bool no_libvirt = false;
  int mtu = 0;
};

DoctorInputs::Libvirt probeLibvirt(const std::string& uri) {
  DoctorInputs::Libvirt out;
  out.uri = uri.empty() ? defaultUri() : uri;
  auto conn = Connection::open(out.uri, true);
  if (!conn) {
    out.detail = conn.error().message;
    return out;
  }
  out.reachable = true;
  auto version = conn->versionString();
  out.detail = version ? *version : version.error().message;
  return out;
}

void printHuman(const std::vector<Check>& checks) {
  const bool color = ::isatty(STDOUT_FILENO);
  int counts[4] = {};
  for (const auto& c : checks) {
    ++counts[static_cast<int>(c.verdict)];
    const char* tag = verdictName(c.verdict);
    const char* on = "";
    if (color) {
      on = c.verdict == Verdict::kPass   ? "\033[32m"
           : c.verdict == Verdict::kWarn ? "\033[33m"
           : c.verdict == Verdict::kFail ? "\033[31m"
                                         : "\033[2m";
    }
    std::printf("%s[%s]%s %-40s %s\n", on, tag, color ? "\033[0m" : "", c.title.c_str(), c.detail.c_str());
    if (!c.fix.empty()) std::printf("       fix: %s\n", c.fix.c_str());
  }
  std::printf("\n%d passed, %d warnings, %d failed, %d skipped\n", counts[0], counts[1], counts[2], counts[3]);
}

}  // namespace

void addDoctorCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand("doctor", "Check the host's NFV readiness: each check pass/warn/fail with the fix");
  auto opt = std::make_shared<DoctorOptions>();
  cmd->add_flag("--json", opt->json, "Print JSON (schema vnfctl.doctor/v1)");
  cmd->add_flag("--no-libvirt", opt->no_libvirt, "Do not try to connect to libvirt");
  cmd->add_option("--mtu", opt->mtu, "Check that every NIC netdev allows this MTU (68..9216)")
      ->check(CLI::Range(68, 9216));
  cmd->callback([&global, &run, opt] {
    run = [&global, opt]() -> int {
      if (global.host_root == "/" && isRemoteUri(global.uri)) {
        // The checks read /sys, /proc and the kernel command line, which libvirt does not expose:
        // this machine's files would be judged under the other host's name.
        printError(Error{Errc::kInvalidArgument,
                         fmt::format("doctor cannot check the host of {} from here: its checks read that host's /sys, "
                                     "/proc and kernel command line, which libvirt does not expose",
                                     global.uri),
                         fmt::format("run vnfctl doctor on that host, or take a snapshot there (vnfctl snapshot DIR), "
                                     "copy it here and run: vnfctl --host-root DIR -c {} doctor",
                                     global.uri)});
        return kExitUsage;
      }
      auto host = loadHost(global.host_root);
      if (!host) {
        printError(host.error());
        return exitCodeFor(host.error());
      }
      DoctorInputs inputs;
      // A snapshot describes another host: probing this machine's libvirt would mix two hosts.
      if (!opt->no_libvirt && (global.host_root == "/" || !global.uri.empty()))
        inputs.libvirt = probeLibvirt(global.uri);
      if (opt->mtu > 0) inputs.required_mtu = opt->mtu;
      if (auto fs = HostFs::open(global.host_root)) inputs.devices = readHostDevices(*fs);
      auto checks = runDoctor(*host, inputs);
      int code = doctorExitCode(checks);
      if (opt->json) {
        nlohmann::ordered_json j;
        j["schema"] = "vnfctl.doctor/v1";
        j["exit_code"] = code;
        auto& arr = j["checks"] = nlohmann::ordered_json::array();
        for (const auto& c : checks) {
          arr.push_back({{"id", c.id},
                         {"title", c.title},
                         {"verdict", verdictName(c.verdict)},
                         {"detail", c.detail},
                         {"fix", c.fix}});
        }
        return printOutput(j.dump(2) + "\n", code);
      }
      printHuman(checks);
      return code;
    };
  });
}

}  // namespace vnf::cli
