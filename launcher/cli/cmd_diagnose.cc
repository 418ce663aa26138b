// `vnfctl diagnose [NAME...|--all] [--json] [--seconds N]`: the troubleshooting matrix for VNFs
// (docs/diagnose.md). Exit 0: no finding failed; 1: one did; 2: bad arguments; 3: the host or libvirt
// could not be read; 5: no such VNF.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "diagnose/diagnose.h"
#include "virt/connection.h"

namespace vnf::cli {
namespace {

struct DiagnoseOptions {
  std::vector<std::string> names;
  bool all = false;
  bool json = false;
  bool verbose = false;
  double seconds = 3;
  std::string answers;
};

// The signal handler only sets this flag; the sampling wait polls it.
std::atomic<bool> g_diag_interrupted{false};
void onDiagSignal(int) { g_diag_interrupted.store(true, std::memory_order_relaxed); }
bool diagInterrupted() { return g_diag_interrupted.load(std::memory_order_relaxed); }

void printHuman(const diagnose::Report& r, bool verbose) {
  using diagnose::Severity;
  const bool color = ::isatty(STDOUT_FILENO);
  int counts[4] = {};
  std::string last_vnf = "\x01";
  for (const auto& f : r.findings) {
    ++counts[static_cast<int>(f.severity)];
    if (f.severity == Severity::kOk && !verbose) continue;
    if (f.vnf != last_vnf) {
      std::printf("%s\n", f.vnf.empty() ? "host:" : fmt::format("{}:", f.vnf).c_str());
      last_vnf = f.vnf;
    }
    const char* on = "";
    if (color) {
      on = f.severity == Severity::kFail   ? "\033[31m"
           : f.severity == Severity::kWarn ? "\033[33m"
           : f.severity == Severity::kInfo ? "\033[2m"
                                           : "\033[32m";
    }
    std::printf("  %s[%s]%s %-20s %s\n", on, diagnose::severityName(f.severity), color ? "\033[0m" : "",
                f.check.c_str(), f.seen.c_str());
    if (!f.where.empty()) std::printf("         read: %s\n", f.where.c_str());
    if (!f.meaning.empty()) std::printf("         means: %s\n", f.meaning.c_str());
    if (!f.fix.empty()) std::printf("         fix: %s\n", f.fix.c_str());
  }
  if (!r.hops.empty()) {
    std::printf("\npath (packets/s over the window, drop counters that grew):\n");
    for (const auto& h : r.hops) {
      std::printf("  %-12s %-28s %12.0f  %s\n", h.vnf.c_str(), h.hop.c_str(), h.packets_per_s,
                  h.dropped ? h.drop_counters.c_str() : "-");
    }
  }
  std::printf("\n%d failed, %d warnings, %d info, %d ok%s\n", counts[3], counts[2], counts[1], counts[0],
              verbose ? "" : " (--verbose shows the ok ones)");
}

}  // namespace

void addDiagnoseCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand(
      "diagnose", "Find where a VNF's packets die and why: each finding with what was seen, where, and the fix");
  auto opt = std::make_shared<DiagnoseOptions>();
  cmd->add_option("NAME", opt->names, "VNF names (or --all)");
  cmd->add_flag("--all", opt->all, "Every VNF vnfctl manages");
  cmd->add_flag("--json", opt->json, "Print JSON (schema vnfctl.diagnose/v1)");
  cmd->add_flag("-v,--verbose", opt->verbose, "Show the checks that found nothing wrong too");
  cmd->add_option("--seconds", opt->seconds,
                  "Sample the path's counters over this window to find where packets die (0: static checks only)")
      ->check(CLI::Range(0.0, 3600.0))
      ->option_text("N");
  cmd->add_option("--answers", opt->answers,
                  "Replay a recorded-answers file (docs/diagnose.md) for libvirt, netlink, ethtool, the kernel log "
                  "and nftables; with --host-root another host's capture")
      ->option_text("FILE");
  cmd->callback([&global, &run, opt] {
    run = [&global, opt]() -> int {
      std::signal(SIGINT, onDiagSignal);
      std::signal(SIGTERM, onDiagSignal);
      if (opt->names.empty() && !opt->all) {
        printError(Error{Errc::kInvalidArgument, "diagnose needs a VNF name or --all",
                         "vnfctl diagnose NAME (vnfctl list shows them), or vnfctl diagnose --all"});
        return kExitUsage;
      }
      if (global.host_root != "/" && opt->answers.empty()) {
        printError(Error{Errc::kInvalidArgument,
                         fmt::format("--host-root {} is a capture of another host: its libvirt domains, netlink and "
                                     "ethtool answers are not files in it",
                                     global.host_root),
                         "pass them with --answers FILE (docs/diagnose.md), or drop --host-root"});
        return kExitUsage;
      }
      auto fs = HostFs::open(global.host_root);
      if (!fs) {
        printError(fs.error());
        return exitCodeFor(fs.error());
      }
      std::unique_ptr<diagnose::Probe> probe;
      // A capture is replayed alone: mixing this machine's answers into another host's would lie.
      auto live = global.host_root == "/" ? diagnose::makeLiveProbe(*fs, global.uri, diagInterrupted) : nullptr;
      if (!opt->answers.empty()) {
        auto rec = diagnose::loadRecordedProbe(opt->answers, std::move(live));
        if (!rec) {
          printError(rec.error());
          return exitCodeFor(rec.error());
        }
        probe = std::move(*rec);
      } else {
        probe = std::move(live);
      }
      diagnose::Request req;
      req.names = opt->names;
      req.all = opt->all;
      req.window = std::chrono::milliseconds(static_cast<long long>(opt->seconds * 1000));
      auto report = diagnose::runDiagnose(*fs, *probe, req);
      if (!report) {
        printError(report.error());
        return exitCodeFor(report.error());
      }
      if (diagInterrupted()) {
        printError(Error{Errc::kInterrupted, "diagnose was interrupted during the sample window",
                         "run it again; --seconds 0 gives the static checks only"});
        return exitCodeOf(Errc::kInterrupted);
      }
      int code = diagnose::diagnoseExitCode(report->findings);
      if (opt->json) {
        nlohmann::ordered_json j;
        j["schema"] = "vnfctl.diagnose/v1";
        j["exit_code"] = code;
        j["window_s"] = opt->seconds;
        auto& arr = j["findings"] = nlohmann::ordered_json::array();
        for (const auto& f : report->findings) arr.push_back(diagnose::toJson(f));
        auto& hops = j["path"] = nlohmann::ordered_json::array();
        for (const auto& h : report->hops) {
          hops.push_back({{"vnf", h.vnf},
                          {"hop", h.hop},
                          {"where", h.where},
                          {"packets_per_s", h.packets_per_s},
                          {"dropped", h.dropped},
                          {"drop_counters", h.drop_counters}});
        }
        return printOutput(j.dump(2) + "\n", code);
      }
      printHuman(*report, opt->verbose);
      return code;
    };
  });
}

}  // namespace vnf::cli
