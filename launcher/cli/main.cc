// vnfctl: host-side launcher for VNF virtual machines. main() is a list of subcommands.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"

#ifndef VNFCTL_VERSION
#define VNFCTL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace vnf::cli;
  // libvirt's RPC writes to a socket; a daemon that goes away must give an error, not kill us
  // mid-launch before the rollback runs.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"vnfctl: place, render and launch VNF virtual machines on NUMA/SR-IOV hosts", "vnfctl"};
  app.set_version_flag("--version", std::string("vnfctl ") + VNFCTL_VERSION);
  app.require_subcommand(1);
  // Global options are taken after the subcommand too (vnfctl host --host-root DIR), as kubectl does.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--host-root", global.host_root,
                 "Read the host from this directory instead of / (a folder made by 'vnfctl snapshot')")
      ->option_text("DIR");
  app.add_option("-c,--connect", global.uri, "libvirt URI (default: $LIBVIRT_DEFAULT_URI or qemu:///system)");
  Runner run;
  addHostCommand(app, global, run);
  addDoctorCommand(app, global, run);
  addSnapshotCommand(app, global, run);
  addPlanCommand(app, global, run);
  addPrepareCommands(app, global, run);
  addRenderCommand(app, global, run);
  addLifecycleCommands(app, global, run);
  addFirewallCommands(app, global, run);
  addDiagnoseCommand(app, global, run);
  addTuneCommands(app, global, run);
  addFleetCommand(app, global, run);
  addServeCommand(app, global, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return finishOutput(run ? run() : kExitUsage);
}
