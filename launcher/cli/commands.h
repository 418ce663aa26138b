// Each subcommand registers itself on the CLI11 app; main.cc lists them in order.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "cli/context.h"

namespace vnf::cli {

// A registered command sets `run` to the function the parsed command line should call.
using Runner = std::function<int()>;

void addHostCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addDoctorCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addSnapshotCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addPlanCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addPrepareCommands(CLI::App& app, const GlobalOptions& global, Runner& run);
void addRenderCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addLifecycleCommands(CLI::App& app, const GlobalOptions& global, Runner& run);
void addFirewallCommands(CLI::App& app, const GlobalOptions& global, Runner& run);
void addDiagnoseCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addTuneCommands(CLI::App& app, const GlobalOptions& global, Runner& run);
void addFleetCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void addServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run);

}  // namespace vnf::cli
