// The libvirt lifecycle of VNF domains: define, launch, list, start, stop, destroy, undefine,
// console, stats, verify. define/launch and the single-domain operations are thin callers of the
// lifecycle engine (lifecycle/engine.h): parse -> engine request -> engine result -> print.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/spec_args.h"
#include "common/file_io.h"
#include "common/host_lock.h"
#include "common/sha256.h"
#include "diagnose/context.h"
#include "firewall/discover.h"
#include "firewall/firewall.h"
#include "lifecycle/engine.h"
#include "lifecycle/test_seam.h"
#include "spec/load.h"
#include "virt/verify.h"
#include "virt/vnf_domains.h"

namespace vnf::cli {
namespace {

using lifecycle::CancelToken;

// The one piece of process-wide state: a signal handler can reach nothing else. SIGINT, SIGTERM and
// SIGHUP (a dropped ssh session) cancel the run, which then rolls back.
CancelToken g_cancel;
void onSignal(int sig) { g_cancel.cancel(sig); }

void catchSignals() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESTART;  // a libvirt call in flight completes; the engine checks the token after it
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

struct LaunchArgs {
  SpecArgs spec;
  std::string templates, image_dir, log_dir = "/var/log/vnfctl", domain_type;
  int timeout_s = 240;
  int lock_wait_s = 60;
  bool replace = false;
  bool json = false;
  bool dry_run = false;
};

// The guest image a spec boots must exist and match the hash its build recorded.
Result<void> checkImage(const VnfSpec& spec) {
  for (const auto& [f, what] :
       {std::pair{spec.guest.kernel, "guest.kernel"}, std::pair{spec.guest.initrd, "guest.initrd"},
        std::pair{spec.guest.disk, "guest.disk"}}) {
    if (f.empty()) continue;
    std::error_code ec;
    if (!std::filesystem::exists(f, ec)) {
      return fail(Errc::kInvalidArgument, fmt::format("{}: guest image file {} does not exist", spec.name, f),
                  "build it with: cmake --build build --target guest_image (or give --image-dir)");
    }
    if (auto ok = checkBootFile(f, what, std::string_view(what) == "guest.disk" ? 0 : kMaxBootFileBytes); !ok)
      return ok;
  }
  return lifecycle::verifyImageHash(spec);
}

nlohmann::ordered_json placementJson(const Placement& p) {
  nlohmann::ordered_json vfs = nlohmann::ordered_json::array();
  for (const auto& v : p.vfs)
    vfs.push_back({{"nic", v.nic_index}, {"pf", v.pf.str()}, {"vf", v.vf.str()}, {"index", v.vf_index}});
  return {{"node", p.node},
          {"vcpu_pins", p.vcpu_pins},
          {"shared_cpus", p.shared_cpus},
          {"emulator_cpus", p.emulator_cpus},
          {"memory_kib", p.memory_kib},
          {"page_size_kib", p.page_size_kib},
          {"hugepages", p.hugepages},
          {"vfs", vfs}};
}

nlohmann::ordered_json outcomeJson(const lifecycle::VnfOutcome& o) {
  nlohmann::ordered_json diff = nlohmann::ordered_json::array();
  for (const auto& d : o.diff) diff.push_back({{"field", d.field}, {"before", d.before}, {"after", d.after}});
  nlohmann::ordered_json j{{"name", o.name},         {"verdict", lifecycle::verdictName(o.verdict)},
                           {"changed", o.changed()}, {"state_before", o.state_before},
                           {"diff", diff},           {"domain_type", lifecycle::domainTypeName(o.type)},
                           {"defined", o.defined},   {"started", o.started},
                           {"rebooted", o.rebooted}};
  j["placement"] = o.placement ? placementJson(*o.placement) : nlohmann::ordered_json();
  if (o.ready) j["ready"] = {{"seconds", o.ready->seconds}, {"line", o.ready->line}};
  return j;
}

std::string diffText(const std::vector<FieldChange>& diff) {
  std::string out;
  for (const auto& d : diff) out += fmt::format("\n    {}: {} -> {}", d.field, d.before, d.after);
  return out;
}

const char* typeText(DomainType t) {
  return t == DomainType::kKvm ? "kvm" : "qemu (TCG emulation: this CPU has no vmx/svm)";
}

// The launch document's error: errorJson and the engine pass that failed, on which VNF.
nlohmann::ordered_json launchErrorJson(const Error& e, std::string_view pass, const std::string& vnf) {
  auto j = errorJson(e);
  j["pass"] = pass;
  j["vnf"] = vnf;
  return j;
}

// An error before the engine ran, as the launch document when --json is given.
int reportLaunch(const Error& e, bool json) {
  if (json) {
    nlohmann::ordered_json j{{"schema", "vnfctl.launch/v1"},
                             {"changed", false},
                             {"error", launchErrorJson(e, "input", "")},
                             {"rolled_back", nlohmann::ordered_json::array()},
                             {"vnfs", nlohmann::ordered_json::array()}};
    std::printf("%s\n", j.dump(2).c_str());
  }
  return reportError(e);
}

// After a run that started VNFs on this host (libvirt names a bridge port, vnetN, only then): the
// VNF ports the applied host firewall does not keep apart (it isolates the ports that existed when
// it was applied), as a note with the fix. nullopt when there is no firewall (no journal at the
// default state dir) or it covers them all. The note is advice, never a reason to fail a launch;
// a firewall that cannot be checked says so in the note instead of keeping silent.
std::optional<std::string> firewallNote(const Connection& conn) {
  const fw::Paths paths;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(paths.journal(), ec)) && !ec) return std::nullopt;
  auto cannot = [](const Error& e) {
    return fmt::format("could not check that the host firewall isolates the VNF ports: {}{}", e.message,
                       e.fix.empty() ? "" : " (" + e.fix + ")");
  };
  auto found = fw::discoverInterfaces(conn);
  if (!found) return cannot(found.error());
  auto missing = fw::portsNotIsolated(paths, found->interfaces.vnf_ports);
  if (!missing) return cannot(missing.error());
  if (!*missing || (*missing)->empty()) return std::nullopt;
  std::string list;
  for (const auto& p : **missing) list += (list.empty() ? "" : ", ") + p;
  return fmt::format(
      "the host firewall ({}) does not isolate VNF port{} {} from the other VNF ports: it isolates the ports that "
      "existed when it was applied; run `vnfctl firewall apply` again with the options it was applied with "
      "(applied with --no-libvirt: add --vnf-port for each; `vnfctl firewall plan` shows what it would isolate)",
      paths.journal(), (*missing)->size() == 1 ? "" : "s", list);
}

int launch(const GlobalOptions& g, const LaunchArgs& a, bool start) {
  catchSignals();
  auto specs = gatherSpecs(a.spec);
  if (!specs) return reportLaunch(specs.error(), a.json);
  lifecycle::LaunchRequest req;
  req.start = start;
  req.replace = a.replace;
  req.dry_run = a.dry_run;
  req.ready_timeout = std::chrono::seconds(a.timeout_s);
  req.render.templates_dir =
      a.templates.empty() ? lifecycle::defaultTemplatesDir() : std::filesystem::path(a.templates);
  req.render.image_dir = a.image_dir.empty() ? lifecycle::defaultImageDir() : std::filesystem::path(a.image_dir);
  req.render.log_dir = std::filesystem::absolute(a.log_dir).lexically_normal().string();
  if (!a.domain_type.empty()) req.render.domain_type = a.domain_type == "kvm" ? DomainType::kKvm : DomainType::kQemu;
  for (auto s : *specs) {
    lifecycle::resolveBootFiles(s, req.render);
    if (auto ok = checkImage(s); !ok) return reportLaunch(ok.error(), a.json);
  }
  req.specs = std::move(*specs);
  auto conn = Connection::open(g.uri, a.dry_run);
  if (!conn) return reportLaunch(conn.error(), a.json);

  lifecycle::SerialLogReadiness readiness;
  lifecycle::Environment env;
  env.conn = &*conn;
  env.discover = [&g] { return loadHostFor(g); };
  env.readiness = &readiness;
  env.cancel = &g_cancel;
  env.command = selfCommandLine();
  env.lock_wait = std::chrono::seconds(a.lock_wait_s);
  env.after_pass = lifecycle::testSeamFromEnv(g_cancel);
  env.stage_boot_files = !isRemoteUri(g.uri);
  const bool tty = ::isatty(STDERR_FILENO);
  FILE* out = a.json ? stderr : stdout;  // with --json, stdout holds only the document
  env.progress = [&](const lifecycle::Event& e) {
    using lifecycle::Pass;
    switch (e.pass) {
      case Pass::kGather:
        if (e.message.find("is held by") != std::string::npos) std::fprintf(stderr, "vnfctl: %s\n", e.message.c_str());
        break;
      case Pass::kReconcile: break;
      case Pass::kDefine:
      case Pass::kStart:
        std::fprintf(out, "%s: %s\n", e.vnf.c_str(), e.message.c_str());
        std::fflush(out);
        break;
      case Pass::kReady:
        if (e.message.starts_with("ready in")) {
          if (tty) std::fprintf(stderr, "\n");
          std::fprintf(out, "%s: %s\n", e.vnf.c_str(), e.message.c_str());
          std::fflush(out);
        } else if (tty) {
          std::fprintf(stderr, "\r%s: %s", e.vnf.c_str(), e.message.c_str());
        }
        break;
      default: break;
    }
  };

  auto result = lifecycle::launch(env, req);
  if (!result) {
    const auto& f = result.error();
    if (a.json) {
      nlohmann::ordered_json vnfs = nlohmann::ordered_json::array();
      for (const auto& o : f.vnfs) vnfs.push_back(outcomeJson(o));
      nlohmann::ordered_json j{{"schema", "vnfctl.launch/v1"},
                               {"changed", false},
                               {"error", launchErrorJson(f.error, lifecycle::passName(f.pass), f.vnf)},
                               {"rolled_back", f.rolled_back},
                               {"notes", f.notes},
                               {"serial_tail", f.serial_tail},
                               {"vnfs", vnfs}};
      std::printf("%s\n", j.dump(2).c_str());
    }
    for (const auto& note : f.notes) std::fprintf(stderr, "vnfctl: note: %s\n", note.c_str());
    printError(f.error);
    if (!f.serial_tail.empty()) {
      std::fprintf(stderr, "  last lines of the guest's serial log %s:\n%s", f.serial_log.c_str(),
                   f.serial_tail.c_str());
    }
    for (const auto& line : f.rolled_back) std::fprintf(stderr, "  rolled back: %s\n", line.c_str());
    return exitCodeOf(f.error.code);
  }
  if (start && !a.dry_run && result->changed() && !isRemoteUri(conn->uri())) {
    if (auto note = firewallNote(*conn)) result->notes.push_back(std::move(*note));
  }
  for (const auto& note : result->notes) std::fprintf(stderr, "vnfctl: note: %s\n", note.c_str());
  if (a.json) {
    nlohmann::ordered_json vnfs = nlohmann::ordered_json::array();
    for (const auto& o : result->vnfs) vnfs.push_back(outcomeJson(o));
    nlohmann::ordered_json j{{"schema", "vnfctl.launch/v1"},
                             {"changed", result->changed()},
                             {"dry_run", a.dry_run},
                             {"vnfs", vnfs},
                             {"notes", result->notes}};
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& o : result->vnfs) {
    if (o.verdict == lifecycle::Verdict::kChanged && (o.defined || a.dry_run)) {
      std::printf("%s: %s the defined domain (%s):%s\n", o.name.c_str(), a.dry_run ? "would replace" : "replaced",
                  o.state_before.c_str(), diffText(o.diff).c_str());
      if (o.rebooted)
        std::printf("%s: it was running: the guest was restarted with the new definition\n", o.name.c_str());
    } else if (o.verdict == lifecycle::Verdict::kUnchanged && !o.started) {
      std::printf("%s: already %s with this spec; nothing to do\n", o.name.c_str(),
                  o.state_before == "running" ? "running" : "defined");
    } else if (a.dry_run && o.placement) {
      std::printf("%s: would define on NUMA node %d, domain type %s\n", o.name.c_str(), o.placement->node,
                  typeText(o.type));
    }
  }
  return kExitOk;
}

void addLaunchOptions(CLI::App* cmd, LaunchArgs& a, bool waits) {
  addSpecOptions(cmd, a.spec);
  cmd->add_option("--templates", a.templates, "Folder of domain templates");
  cmd->add_option("--image-dir", a.image_dir, "Guest image for specs without guest.kernel/disk");
  cmd->add_option("--log-dir", a.log_dir, "Folder for the guests' serial logs");
  cmd->add_option("--domain-type", a.domain_type, "kvm or qemu (default: kvm where the CPU has vmx/svm)")
      ->check(CLI::IsMember({"kvm", "qemu"}));
  cmd->add_flag("--replace", a.replace, "Redefine a VNF whose spec changed (a running one is restarted)");
  cmd->add_flag("--dry-run", a.dry_run, "Decide and plan only: change nothing");
  cmd->add_option("--lock-wait", a.lock_wait_s, "Seconds to wait for another vnfctl run on the same libvirt URI")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  cmd->add_flag("--json", a.json, "Print the result as JSON (schema vnfctl.launch/v1)");
  if (waits)
    cmd->add_option("--timeout", a.timeout_s, "Seconds to wait for the guest's READY line")->check(CLI::Range(1, 3600));
}

int listCommand(const GlobalOptions& g, bool json) {
  // With --json, stdout holds the document whatever happens: a failure is the list document with
  // no domains and the error (kind, exit code, message, fix).
  auto failed = [json](const Error& e) {
    if (json) {
      nlohmann::ordered_json j{{"schema", "vnfctl.list/v1"},
                               {"domains", nlohmann::ordered_json::array()},
                               {"damaged", nlohmann::ordered_json::array()},
                               {"error", errorJson(e)}};
      std::printf("%s\n", j.dump(2).c_str());
    }
    return reportError(e);
  };
  auto conn = Connection::open(g.uri, true);
  if (!conn) return failed(conn.error());
  // A domain whose vnfctl metadata is damaged does not hide the others: it is listed as damaged,
  // its error and repair go to stderr, and the exit status says something needs fixing.
  auto listing = listVnfDomainsKeepingDamaged(*conn);
  if (!listing) return failed(listing.error());
  const auto& domains = listing->domains;
  int code = kExitOk;
  for (const auto& d : listing->damaged) code = reportError(d.error);
  if (json) {
    nlohmann::ordered_json j{{"schema", "vnfctl.list/v1"}, {"domains", nlohmann::ordered_json::array()}};
    nlohmann::ordered_json damaged = nlohmann::ordered_json::array();
    for (const auto& d : listing->damaged)
      damaged.push_back(
          {{"name", d.name}, {"state", domainStateName(d.state)}, {"error", d.error.message}, {"fix", d.error.fix}});
    for (const auto& d : domains) {
      nlohmann::ordered_json vfs = nlohmann::ordered_json::array();
      for (const auto& v : d.meta.vfs) vfs.push_back(v.vf.str());
      j["domains"].push_back({{"name", d.name},
                              {"uuid", d.uuid},
                              {"state", domainStateName(d.state)},
                              {"node", d.meta.node},
                              {"vcpu_pins", d.meta.vcpu_pins},
                              {"shared_cpus", formatCpuList(d.meta.shared_cpus)},
                              {"memory_kib", d.meta.memory_kib},
                              {"page_size_kib", d.meta.page_size_kib},
                              {"hugepages", d.meta.hugepages},
                              {"vfs", vfs},
                              {"spec_hash", d.meta.spec_hash},
                              {"image_hash", d.meta.image_hash}});
    }
    j["damaged"] = std::move(damaged);
    std::printf("%s\n", j.dump(2).c_str());
    return code;
  }
  std::printf("%-20s %-9s %-4s %-16s %-10s %-10s %s\n", "NAME", "STATE", "NODE", "CPUS", "MEMORY", "HUGEPAGES", "VFS");
  for (const auto& d : domains) {
    std::string cpus = d.meta.vcpu_pins.empty() ? "shared " + formatCpuList(d.meta.shared_cpus) : [&] {
      auto v = d.meta.vcpu_pins;
      std::sort(v.begin(), v.end());
      return formatCpuList(v);
    }();
    std::string vfs;
    for (const auto& v : d.meta.vfs) vfs += (vfs.empty() ? "" : ",") + v.vf.str();
    std::string pages =
        d.meta.page_size_kib ? fmt::format("{}x{}", d.meta.hugepages, pageSizeName(d.meta.page_size_kib)) : "-";
    std::printf("%-20s %-9s %-4d %-16s %-10s %-10s %s\n", d.name.c_str(), domainStateName(d.state), d.meta.node,
                cpus.c_str(), fmt::format("{}M", d.meta.memory_kib / 1024).c_str(), pages.c_str(),
                vfs.empty() ? "-" : vfs.c_str());
  }
  for (const auto& d : listing->damaged)
    std::printf("%-20s %-9s %-4s %-16s %-10s %-10s %s\n", d.name.c_str(), domainStateName(d.state), "?", "?", "?", "?",
                "? (vnfctl's metadata is damaged: see above)");
  if (domains.empty() && listing->damaged.empty()) std::printf("(no VNF domains on %s)\n", conn->uri().c_str());
  return code;
}

// A connection and the VNF domain `name` vnfctl manages; unknown or foreign names are errors.
struct OpenVnf {
  Connection conn;
  ManagedDomain domain;
};
Result<OpenVnf> openVnf(const GlobalOptions& g, const std::string& name, bool read_only) {
  auto conn = Connection::open(g.uri, read_only);
  if (!conn) return std::unexpected(conn.error());
  auto found = findVnfDomain(*conn, name);
  if (!found) {
    Error e = found.error();
    if (e.code == Errc::kConflict) e.code = Errc::kInvalidArgument;  // a foreign domain's name
    return std::unexpected(std::move(e));
  }
  if (!*found) {
    return fail(Errc::kNoSuchVnf, fmt::format("no VNF named '{}' on {}", name, conn->uri()),
                "see the VNFs vnfctl manages with: vnfctl list");
  }
  return OpenVnf{std::move(*conn), std::move(**found)};
}

// A single-domain operation through the engine; idempotent (an already stopped VNF stays so).
int onDomain(const GlobalOptions& g, const std::string& name, lifecycle::Op op, bool json, bool dry_run) {
  auto document = [&](const Result<lifecycle::OpResult>& r) {
    nlohmann::ordered_json j{{"schema", "vnfctl.op/v1"}, {"name", name}, {"op", lifecycle::opName(op)}};
    if (dry_run) j["dry_run"] = true;
    if (r) {
      j["changed"] = r->changed;
      j["state_before"] = r->state_before;
      j["state_after"] = r->state_after;
    } else {
      j["changed"] = false;
      j["error"] = errorJson(r.error());
    }
    std::printf("%s\n", j.dump(2).c_str());
  };
  auto conn = Connection::open(g.uri, dry_run);
  if (!conn) {
    if (json) document(std::unexpected(conn.error()));
    return reportError(conn.error());
  }
  lifecycle::Environment env;
  env.conn = &*conn;
  auto r = lifecycle::apply(env, op, name, std::chrono::seconds(30), dry_run);
  if (json) document(r);
  if (!r) return reportError(r.error());
  if (op == lifecycle::Op::kStart && r->changed && !dry_run && !isRemoteUri(conn->uri())) {
    if (auto note = firewallNote(*conn)) std::fprintf(stderr, "vnfctl: note: %s\n", note->c_str());
  }
  if (!json) {
    static const char* done[] = {"started", "stopped", "destroyed", "undefined"};
    static const char* would[] = {"would start (dry run: nothing done)", "would stop (dry run: nothing done)",
                                  "would destroy (dry run: nothing done)", "would undefine (dry run: nothing done)"};
    std::printf("%s: %s\n", name.c_str(),
                r->changed ? (dry_run ? would : done)[static_cast<int>(op)]
                           : fmt::format("already {}; nothing to do", r->state_before).c_str());
  }
  return kExitOk;
}

// The last whole "VNF-FWD STATS {json}" line the guest printed on its serial console. The guest may
// be writing one right now (a 1-2 KiB line takes a while over an emulated UART): a line cut short
// at the end of the log, or by another console write, is passed over for the one before
// (diagnose::lastForwarderStats). Only the log's last 256 KiB are read: it grows as long as the
// guest runs.
// readFileTail's error for a VNF's serial log, whose path libvirt's XML gave (not the user): a FIFO
// or device in its place is something to remove; exit 3 as for a VNF without statistics.
Error serialLogError(Error e, const std::string& log) {
  e.code = Errc::kNotFound;
  struct stat st {};
  if (::stat(log.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    e.fix = fmt::format("remove it (rm {}): libvirt makes a new log file when the VNF starts", log);
  return e;
}

Result<nlohmann::json> lastStats(const std::string& log) {
  constexpr std::uint64_t kTailBytes = 256 * 1024;
  auto tail = readFileTail(log, kTailBytes, "serial log");
  if (!tail) return std::unexpected(serialLogError(tail.error(), log));
  const std::string& text = *tail;
  if (text.find("VNF-FWD STATS ") == std::string::npos) {
    return fail(Errc::kNotFound, fmt::format("no forwarder statistics in {} yet", log),
                "the guest prints them every second once vnf-fwd runs; wait for READY (vnfctl console NAME)");
  }
  if (auto stats = diagnose::lastForwarderStats(text)) return std::move(*stats);
  return fail(Errc::kBadContent,
              fmt::format("no statistics line in the last {} KiB of {} is whole JSON", kTailBytes / 1024, log),
              "the guest's console output is garbled: look at it with vnfctl console NAME");
}

}  // namespace

void addLifecycleCommands(CLI::App& app, const GlobalOptions& global, Runner& run) {
  {
    auto* cmd = app.add_subcommand("launch", "Plan, define and start VNFs, and wait until each guest is ready");
    auto a = std::make_shared<LaunchArgs>();
    addLaunchOptions(cmd, *a, true);
    cmd->callback([&global, &run, a] { run = [&global, a] { return launch(global, *a, true); }; });
  }
  {
    auto* cmd = app.add_subcommand("define", "Plan and define VNFs (persistent, not started)");
    auto a = std::make_shared<LaunchArgs>();
    addLaunchOptions(cmd, *a, false);
    cmd->callback([&global, &run, a] { run = [&global, a] { return launch(global, *a, false); }; });
  }
  {
    auto* cmd = app.add_subcommand("list", "The VNF domains vnfctl manages, with state, node, CPUs, memory, VFs");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "Print JSON (schema vnfctl.list/v1)");
    cmd->callback([&global, &run, json] { run = [&global, json] { return listCommand(global, *json); }; });
  }
  struct Simple {
    const char* name;
    const char* help;
    lifecycle::Op op;
  };
  static const Simple simple[] = {
      {"start", "Start a defined VNF (does not wait for READY)", lifecycle::Op::kStart},
      {"stop", "Shut a VNF down gracefully (ACPI), waiting up to 30 s", lifecycle::Op::kStop},
      {"destroy", "Stop a VNF at once (power off)", lifecycle::Op::kDestroy},
      {"undefine", "Remove a stopped VNF's definition and its serial log", lifecycle::Op::kUndefine},
  };
  for (const auto& s : simple) {
    auto* cmd = app.add_subcommand(s.name, s.help);
    auto name = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "VNF name")->required();
    cmd->add_flag("--json", *json, "Print the result as JSON (schema vnfctl.op/v1)");
    auto dry = std::make_shared<bool>(false);
    cmd->add_flag("--dry-run", *dry, "Say what would change (the same checks and answer), change nothing");
    const lifecycle::Op op = s.op;
    cmd->callback([&global, &run, name, json, dry, op] {
      run = [&global, name, json, dry, op] { return onDomain(global, *name, op, *json, *dry); };
    });
  }
  {
    auto* cmd = app.add_subcommand("console", "Show a VNF's serial console log (and follow it with -f)");
    auto name = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "VNF name")->required();
    cmd->add_flag("-f,--follow", *follow, "Keep printing new output until Ctrl-C");
    cmd->callback([&global, &run, name, follow] {
      run = [&global, name, follow]() -> int {
        auto vnf = openVnf(global, *name, true);
        if (!vnf) return reportError(vnf.error());
        const std::string log = vnf->domain.serial_log;
        if (log.empty()) {
          return reportError(Error{Errc::kInvalidArgument, fmt::format("{} has no serial log file", *name),
                                   "its domain was not rendered by this vnfctl (no <serial type='file'>)"});
        }
        catchSignals();
        std::size_t offset = 0;
        do {
          // A FIFO or a device put in the log's place is refused before anything opens it (opening
          // a FIFO blocks); a log that does not exist yet (the VNF never started) prints nothing.
          std::error_code ec;
          if (std::filesystem::exists(log, ec)) {
            if (auto ok = readFileTail(log, 0, "serial log"); !ok) return reportError(serialLogError(ok.error(), log));
          }
          std::ifstream f(log, std::ios::binary);
          f.seekg(static_cast<std::streamoff>(offset));
          std::string chunk((std::istreambuf_iterator<char>(f)), {});
          offset += chunk.size();
          std::fwrite(chunk.data(), 1, chunk.size(), stdout);
          std::fflush(stdout);
          if (*follow) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        } while (*follow && !g_cancel.cancelled());
        return kExitOk;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("verify",
                                   "Read back a running VNF and compare it with its plan (pinning, memory node, VFs)");
    auto name = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "VNF name")->required();
    cmd->add_flag("--json", *json, "Print JSON (schema vnfctl.verify/v1)");
    cmd->callback([&global, &run, name, json] {
      run = [&global, name, json]() -> int {
        auto vnf = openVnf(global, *name, true);
        if (!vnf) return reportError(vnf.error());
        auto checks = verifyDomain(vnf->conn, vnf->domain);
        if (!checks) return reportError(checks.error());
        bool all = std::all_of(checks->begin(), checks->end(), [](const VerifyCheck& c) { return c.ok; });
        if (*json) {
          nlohmann::ordered_json j{{"schema", "vnfctl.verify/v1"},
                                   {"name", *name},
                                   {"ok", all},
                                   {"checks", nlohmann::ordered_json::array()}};
          for (const auto& c : *checks)
            j["checks"].push_back({{"what", c.what}, {"expected", c.expected}, {"actual", c.actual}, {"ok", c.ok}});
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          for (const auto& c : *checks) {
            std::printf("[%s] %-42s expected %-12s actual %s\n", c.ok ? "ok" : "MISMATCH", c.what.c_str(),
                        c.expected.c_str(), c.actual.c_str());
          }
          std::printf("%s: %s\n", name->c_str(), all ? "runs as planned" : "does NOT run as planned");
        }
        return all ? kExitOk : kExitFailed;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("stats", "The forwarder's counters in a running VNF (from its serial console)");
    auto name = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "VNF name")->required();
    cmd->add_flag("--json", *json, "Print the forwarder's JSON document");
    cmd->callback([&global, &run, name, json] {
      run = [&global, name, json]() -> int {
        auto vnf = openVnf(global, *name, true);
        if (!vnf) return reportError(vnf.error());
        auto stats = lastStats(vnf->domain.serial_log);
        if (!stats) return reportError(stats.error());
        if (*json) {
          std::printf("%s\n", stats->dump(2).c_str());
          return kExitOk;
        }
        std::printf("%s: mode %s, up %s s\n", name->c_str(), stats->value("mode", "?").c_str(),
                    stats->contains("uptime_s") ? (*stats)["uptime_s"].dump().c_str() : "?");
        std::printf("  %-5s %-18s %6s %12s %12s %10s %10s %10s %10s %10s\n", "PORT", "MAC", "MTU", "RX", "TX", "DROPS",
                    "OVERMTU", "IMISSED", "NOMBUF", "TXFULL");
        std::uint64_t over_mtu = 0;
        for (const auto& p : stats->value("ports", nlohmann::json::array())) {
          over_mtu += p.value("mtu_drops", 0ull);
          std::printf("  %-5d %-18s %6d %12llu %12llu %10llu %10llu %10llu %10llu %10llu\n", p.value("index", 0),
                      p.value("mac", "").c_str(), p.value("mtu", 0), p.value("rx", 0ull), p.value("tx", 0ull),
                      p.value("drops", 0ull), p.value("mtu_drops", 0ull), p.value("imissed", 0ull),
                      p.value("rx_nombuf", 0ull), p.value("tx_full_drops", 0ull));
        }
        if (over_mtu > 0) {
          std::printf(
              "  %llu frame%s dropped for exceeding the port MTU: raise the spec's mtu (nics[].mtu / taps[].mtu, "
              "up to 9216) or send smaller frames\n",
              static_cast<unsigned long long>(over_mtu), over_mtu == 1 ? " was" : "s were");
        }
        return kExitOk;
      };
    });
  }
}

}  // namespace vnf::cli
