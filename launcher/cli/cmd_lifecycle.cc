// The libvirt lifecycle of VNF domains: define, launch, list, start, stop, destroy, undefine,
// console, stats. Every path that changes libvirt undoes its own work when it fails or is
// interrupted; a SIGKILL leaves at most a defined domain, which a rerun starts or replaces.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/domains.h"
#include "cli/load.h"
#include "cli/spec_args.h"
#include "common/host_lock.h"
#include "common/sha256.h"
#include "spec/load.h"
#include "virt/verify.h"
#include "virt/vnf_domains.h"

namespace vnf::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void onSignal(int) { g_interrupted = true; }

struct LaunchArgs {
  SpecArgs spec;
  std::string templates, image_dir, log_dir = "/var/log/vnfctl", domain_type;
  int timeout_s = 240;
  bool replace = false;
  bool no_start = false;
};

Result<Connection> connect(const GlobalOptions& g) { return Connection::open(g.uri, false); }

int report(const Error& e) {
  printError(e);
  return e.code == Errc::kConflict ? kExitFailed : exitCodeFor(e);
}

// The guest image a spec boots must exist and match the hash its build recorded.
Result<void> checkImage(const VnfSpec& spec) {
  if (spec.guest.kernel.empty()) return {};
  for (const auto& f : {spec.guest.kernel, spec.guest.initrd}) {
    if (f.empty()) continue;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f, ec)) {
      return fail(Errc::kInvalidArgument, fmt::format("{}: guest image file {} does not exist", spec.name, f),
                  "build it with: cmake --build build --target guest_image (or give --image-dir)");
    }
  }
  auto json_path = std::filesystem::path(spec.guest.kernel).parent_path() / "image.json";
  std::ifstream json(json_path);
  if (!json) return {};  // a user's own kernel: nothing recorded to compare with
  std::string want;
  try {
    want = nlohmann::json::parse(json).value("sha256", "");
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::kInvalidArgument, fmt::format("{} is not valid JSON", json_path.string()),
                "rebuild the image: cmake --build build --target guest_image");
  }
  std::vector<std::string> files{spec.guest.kernel};
  if (!spec.guest.initrd.empty()) files.push_back(spec.guest.initrd);
  auto got = sha256OfFiles(files);
  if (!got) return std::unexpected(got.error());
  if (*got != want) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: guest image {} is corrupt or changed: sha256 {} but its build recorded {}", spec.name,
                            std::filesystem::path(spec.guest.kernel).parent_path().string(), *got, want),
                "rebuild the image: cmake --build build --target guest_image");
  }
  return {};
}

// What changed between a defined VNF and a new rendering of its spec, field by field.
std::string metadataDiff(const VnfMetadata& a, const VnfMetadata& b) {
  std::string out;
  auto line = [&](const char* what, const std::string& x, const std::string& y) {
    if (x != y) out += fmt::format("\n    {}: {} -> {}", what, x.empty() ? "-" : x, y.empty() ? "-" : y);
  };
  auto pins = [](const std::vector<int>& v) { return formatCpuList(std::vector<int>(v.begin(), v.end())); };
  line("spec hash", a.spec_hash, b.spec_hash);
  line("NUMA node", std::to_string(a.node), std::to_string(b.node));
  line("vCPUs", std::to_string(a.vcpu_pins.size()), std::to_string(b.vcpu_pins.size()));
  line("vCPU pins", pins(a.vcpu_pins), pins(b.vcpu_pins));
  line("memory KiB", std::to_string(a.memory_kib), std::to_string(b.memory_kib));
  line("page size KiB", std::to_string(a.page_size_kib), std::to_string(b.page_size_kib));
  line("VFs", std::to_string(a.vfs.size()), std::to_string(b.vfs.size()));
  line("image", a.image_hash, b.image_hash);
  return out;
}

void progressLine(const std::string& name, double seconds) {
  if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "\r%s: waiting for the guest to report READY... %.0f s", name.c_str(), seconds);
}

int launch(const GlobalOptions& g, const LaunchArgs& a, bool start) {
  auto specs = gatherSpecs(a.spec);
  if (!specs) return report(specs.error());
  RenderOptions options;
  options.templates_dir = a.templates.empty() ? defaultTemplatesDir() : std::filesystem::path(a.templates);
  options.image_dir = a.image_dir.empty() ? defaultImageDir() : std::filesystem::path(a.image_dir);
  options.log_dir = std::filesystem::absolute(a.log_dir).lexically_normal().string();
  if (!a.domain_type.empty()) options.domain_type = a.domain_type == "kvm" ? DomainType::kKvm : DomainType::kQemu;
  for (auto& s : *specs) {
    resolveBootFiles(s, options);
    if (auto ok = checkImage(s); !ok) return report(ok.error());
  }
  auto conn = connect(g);
  if (!conn) return report(conn.error());
  auto host = loadHostFor(g);
  if (!host) return report(host.error());

  // Plan and define under the host-wide lock: two launches never take the same CPU or VF.
  auto lock = HostLock::acquire("/run/vnfctl/launch.lock", std::chrono::seconds(60), "launch");
  if (!lock) return report(lock.error());
  auto managed = listVnfDomains(*conn);
  if (!managed) return report(managed.error());

  struct Todo {
    VnfSpec spec;
    std::optional<ManagedDomain> existing;
    std::string old_xml;       // the definition --replace removed, to put back on failure
    bool old_running = false;  // and whether it ran, to start it again
  };
  std::vector<Todo> todo;
  std::vector<ManagedDomain> others;
  for (const auto& s : *specs) {
    auto found = findVnfDomain(*conn, s.name);
    if (!found) return report(found.error());
    todo.push_back({s, *found, "", false});
  }
  // A domain whose spec changed is planned as if replaced (so the diff can be shown, or the
  // replacement made): it frees its CPUs and VFs, and a running one gives its hugepages back.
  // Everything else stays allocated.
  std::map<std::pair<int, std::uint64_t>, std::uint64_t> returning;
  for (const auto& m : *managed) {
    bool listed = std::any_of(todo.begin(), todo.end(), [&](const Todo& t) { return t.spec.name == m.name; });
    if (!listed) others.push_back(m);
  }
  for (const auto& t : todo) {
    if (t.existing && t.existing->meta.spec_hash != specHash(t.spec) && t.existing->state == DomainState::kRunning &&
        t.existing->meta.hugepages > 0) {
      returning[{t.existing->meta.node, t.existing->meta.page_size_kib}] += t.existing->meta.hugepages;
    }
  }
  std::vector<VnfSpec> to_render;
  for (auto& t : todo) {
    if (t.existing && t.existing->meta.spec_hash == specHash(t.spec)) continue;  // unchanged
    to_render.push_back(t.spec);
  }
  // Unchanged existing domains still hold their resources for this plan.
  for (const auto& t : todo) {
    if (t.existing && t.existing->meta.spec_hash == specHash(t.spec)) others.push_back(*t.existing);
  }
  auto allocations = allocationsOf(others);
  allocations.hugepages_returning = returning;
  auto rendered = renderAll(*host, allocations, to_render, options);
  if (!rendered) return report(rendered.error());

  std::vector<std::string> created;  // domains this run defined, removed again on failure
  auto rollback = [&](const Error& cause, const std::string& log) {
    // Read the guest's last words before undefine removes its log.
    const std::string tail = log.empty() ? "" : tailOf(log, 15);
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      (void)destroyDomain(*conn, *it);
      (void)undefineDomain(*conn, *it);
    }
    std::vector<std::string> restored;
    for (const auto& t : todo) {
      if (t.old_xml.empty()) continue;
      if (auto ok = defineDomain(*conn, t.old_xml); !ok) {
        restored.push_back(fmt::format("could not put back the previous definition of {}: {}", t.spec.name,
                                       ok.error().message));
        continue;
      }
      if (!t.old_running) {
        restored.push_back(fmt::format("the previous definition of {} is back", t.spec.name));
      } else if (auto ok = startDomain(*conn, t.spec.name); !ok) {
        restored.push_back(fmt::format("the previous definition of {} is back but did not start again: {}", t.spec.name,
                                       ok.error().message));
      } else {
        restored.push_back(fmt::format("the previous definition of {} is back and running again", t.spec.name));
      }
    }
    printError(cause);
    if (!tail.empty()) std::fprintf(stderr, "  last lines of the guest's serial log %s:\n%s", log.c_str(), tail.c_str());
    std::fprintf(stderr, "  rolled back: %s\n",
                 created.empty() ? "nothing had been defined" : "the domains this run defined were destroyed and undefined");
    for (const auto& line : restored) std::fprintf(stderr, "  %s\n", line.c_str());
    return cause.code == Errc::kConflict || cause.code == Errc::kLibvirt ? kExitFailed : exitCodeFor(cause);
  };

  std::size_t r = 0;
  std::vector<std::pair<std::string, std::string>> to_start;  // name, serial log
  for (auto& t : todo) {
    const bool unchanged = t.existing && t.existing->meta.spec_hash == specHash(t.spec);
    if (unchanged) {
      if (t.existing->state == DomainState::kRunning) {
        std::printf("%s: already running with this spec; nothing to do\n", t.spec.name.c_str());
      } else if (start) {
        to_start.emplace_back(t.spec.name, t.existing->serial_log);
      } else {
        std::printf("%s: already defined with this spec; nothing to do\n", t.spec.name.c_str());
      }
      continue;
    }
    const auto& d = (*rendered)[r++];
    if (t.existing) {
      auto fresh = readVnfMetadata(d.xml);
      std::string diff = fresh && *fresh ? metadataDiff(t.existing->meta, **fresh) : "";
      if (!a.replace) {
        return rollback(Error{Errc::kConflict,
                              fmt::format("{} is already defined from a different spec:{}", t.spec.name, diff),
                              fmt::format("add --replace to redefine it ({}the running guest is stopped)",
                                          t.existing->state == DomainState::kRunning ? "" : "if it runs, ")},
                        "");
      }
      auto old = domainXml(*conn, t.spec.name, true);
      if (!old) return rollback(old.error(), "");
      t.old_xml = *old;
      t.old_running = t.existing->state == DomainState::kRunning;
      std::printf("%s: replacing the defined domain:%s\n", t.spec.name.c_str(), diff.c_str());
      if (auto ok = destroyDomain(*conn, t.spec.name); !ok) return rollback(ok.error(), "");
      if (auto ok = undefineDomain(*conn, t.spec.name); !ok) return rollback(ok.error(), "");
    }
    std::error_code ec;
    std::filesystem::create_directories(options.log_dir, ec);
    auto log = (std::filesystem::path(options.log_dir) / (d.name + ".serial.log")).string();
    std::filesystem::remove(log, ec);  // a stale log would hold an old READY line
    if (auto ok = defineDomain(*conn, d.xml); !ok) return rollback(ok.error(), "");
    created.push_back(d.name);
    std::printf("%s: defined on NUMA node %d, domain type %s\n", d.name.c_str(), d.placement.node,
                d.type == DomainType::kKvm ? "kvm" : "qemu (TCG emulation: this CPU has no vmx/svm)");
    if (start) to_start.emplace_back(d.name, log);
  }
  lock->release();

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  for (const auto& [name, log] : to_start) {
    if (auto ok = startDomain(*conn, name); !ok) return rollback(ok.error(), log);
    auto ready = waitForReady(*conn, name, log, std::chrono::seconds(a.timeout_s), [] { return g_interrupted.load(); },
                              [&](double s) { progressLine(name, s); });
    if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    if (!ready) return rollback(ready.error(), log);
    std::printf("%s: ready in %.1f s: %s\n", name.c_str(), ready->seconds, ready->line.c_str());
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
  cmd->add_flag("--replace", a.replace, "Redefine a VNF whose spec changed (stops it if it runs)");
  if (waits) cmd->add_option("--timeout", a.timeout_s, "Seconds to wait for the guest's READY line")->check(CLI::Range(1, 3600));
}

int listCommand(const GlobalOptions& g, bool json) {
  auto conn = Connection::open(g.uri, true);
  if (!conn) return report(conn.error());
  auto domains = listVnfDomains(*conn);
  if (!domains) return report(domains.error());
  if (json) {
    nlohmann::ordered_json j{{"schema", "vnfctl.list/v1"}, {"domains", nlohmann::ordered_json::array()}};
    for (const auto& d : *domains) {
      nlohmann::ordered_json vfs = nlohmann::ordered_json::array();
      for (const auto& v : d.meta.vfs) vfs.push_back(v.vf.str());
      j["domains"].push_back({{"name", d.name}, {"uuid", d.uuid}, {"state", domainStateName(d.state)},
                              {"node", d.meta.node}, {"vcpu_pins", d.meta.vcpu_pins},
                              {"shared_cpus", formatCpuList(d.meta.shared_cpus)},
                              {"memory_kib", d.meta.memory_kib}, {"page_size_kib", d.meta.page_size_kib},
                              {"hugepages", d.meta.hugepages}, {"vfs", vfs}, {"spec_hash", d.meta.spec_hash},
                              {"image_hash", d.meta.image_hash}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-20s %-9s %-4s %-16s %-10s %-10s %s\n", "NAME", "STATE", "NODE", "CPUS", "MEMORY", "HUGEPAGES", "VFS");
  for (const auto& d : *domains) {
    std::string cpus = d.meta.vcpu_pins.empty() ? "shared " + formatCpuList(d.meta.shared_cpus) : [&] {
      auto v = d.meta.vcpu_pins;
      std::sort(v.begin(), v.end());
      return formatCpuList(v);
    }();
    std::string vfs;
    for (const auto& v : d.meta.vfs) vfs += (vfs.empty() ? "" : ",") + v.vf.str();
    std::string pages = d.meta.page_size_kib ? fmt::format("{}x{}", d.meta.hugepages, d.meta.page_size_kib == 1048576 ? "1G" : "2M") : "-";
    std::printf("%-20s %-9s %-4d %-16s %-10s %-10s %s\n", d.name.c_str(), domainStateName(d.state), d.meta.node,
                cpus.c_str(), fmt::format("{}M", d.meta.memory_kib / 1024).c_str(), pages.c_str(),
                vfs.empty() ? "-" : vfs.c_str());
  }
  if (domains->empty()) std::printf("(no VNF domains on %s)\n", conn->uri().c_str());
  return kExitOk;
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
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return fail(Errc::kInvalidArgument, fmt::format("no VNF named '{}' on {}", name, conn->uri()),
                "see the VNFs vnfctl manages with: vnfctl list");
  }
  return OpenVnf{std::move(*conn), std::move(**found)};
}

// Runs `op` on a VNF domain vnfctl manages; foreign or unknown names are refused with a clear error.
int onDomain(const GlobalOptions& g, const std::string& name, const std::function<Result<void>(const Connection&, const ManagedDomain&)>& op,
             const std::string& done) {
  auto vnf = openVnf(g, name, false);
  if (!vnf) return report(vnf.error());
  if (auto ok = op(vnf->conn, vnf->domain); !ok) return report(ok.error());
  std::printf("%s: %s\n", name.c_str(), done.c_str());
  return kExitOk;
}

// The last "VNF-FWD STATS {json}" line the guest printed on its serial console.
Result<nlohmann::json> lastStats(const std::string& log) {
  std::ifstream f(log);
  if (!f) return fail(Errc::kNotFound, fmt::format("cannot read the serial log {}", log), "is the VNF running?");
  std::string line, last;
  while (std::getline(f, line)) {
    if (auto at = line.find("VNF-FWD STATS "); at != std::string::npos) last = line.substr(at + 14);
  }
  if (last.empty()) {
    return fail(Errc::kNotFound, fmt::format("no forwarder statistics in {} yet", log),
                "the guest prints them every second once vnf-fwd runs; wait for READY (vnfctl console NAME)");
  }
  try {
    return nlohmann::json::parse(last);
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kBadContent, fmt::format("the last statistics line in {} is not JSON: {}", log, e.what()));
  }
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
    const char* done;
    std::function<Result<void>(const Connection&, const ManagedDomain&)> op;
  };
  static const Simple simple[] = {
      {"start", "Start a defined VNF (does not wait for READY)", "started",
       [](const Connection& c, const ManagedDomain& d) { return startDomain(c, d.name); }},
      {"stop", "Shut a VNF down gracefully (ACPI), waiting up to 30 s", "stopped",
       [](const Connection& c, const ManagedDomain& d) { return shutdownDomain(c, d.name, std::chrono::seconds(30)); }},
      {"destroy", "Stop a VNF at once (power off)", "destroyed",
       [](const Connection& c, const ManagedDomain& d) { return destroyDomain(c, d.name); }},
      {"undefine", "Remove a stopped VNF's definition and its serial log", "undefined",
       [](const Connection& c, const ManagedDomain& d) { return undefineDomain(c, d.name); }},
  };
  for (const auto& s : simple) {
    auto* cmd = app.add_subcommand(s.name, s.help);
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "VNF name")->required();
    const Simple* sp = &s;
    cmd->callback([&global, &run, name, sp] { run = [&global, name, sp] { return onDomain(global, *name, sp->op, sp->done); }; });
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
        if (!vnf) return report(vnf.error());
        const std::string log = vnf->domain.serial_log;
        if (log.empty()) {
          return report(Error{Errc::kInvalidArgument, fmt::format("{} has no serial log file", *name),
                              "its domain was not rendered by this vnfctl (no <serial type='file'>)"});
        }
        struct sigaction sa {};
        sa.sa_handler = onSignal;
        ::sigaction(SIGINT, &sa, nullptr);
        std::size_t offset = 0;
        do {
          std::ifstream f(log, std::ios::binary);
          f.seekg(static_cast<std::streamoff>(offset));
          std::string chunk((std::istreambuf_iterator<char>(f)), {});
          offset += chunk.size();
          std::fwrite(chunk.data(), 1, chunk.size(), stdout);
          std::fflush(stdout);
          if (*follow) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        } while (*follow && !g_interrupted);
        return kExitOk;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("verify", "Read back a running VNF and compare it with its plan (pinning, memory node, VFs)");
    auto name = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "VNF name")->required();
    cmd->add_flag("--json", *json, "Print JSON (schema vnfctl.verify/v1)");
    cmd->callback([&global, &run, name, json] {
      run = [&global, name, json]() -> int {
        auto vnf = openVnf(global, *name, true);
        if (!vnf) return report(vnf.error());
        auto checks = verifyDomain(vnf->conn, vnf->domain);
        if (!checks) return report(checks.error());
        bool all = std::all_of(checks->begin(), checks->end(), [](const VerifyCheck& c) { return c.ok; });
        if (*json) {
          nlohmann::ordered_json j{{"schema", "vnfctl.verify/v1"}, {"name", *name}, {"ok", all}, {"checks", nlohmann::ordered_json::array()}};
          for (const auto& c : *checks) j["checks"].push_back({{"what", c.what}, {"expected", c.expected}, {"actual", c.actual}, {"ok", c.ok}});
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          for (const auto& c : *checks) {
            std::printf("[%s] %-42s expected %-12s actual %s\n", c.ok ? "ok" : "MISMATCH", c.what.c_str(), c.expected.c_str(), c.actual.c_str());
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
        if (!vnf) return report(vnf.error());
        auto stats = lastStats(vnf->domain.serial_log);
        if (!stats) return report(stats.error());
        if (*json) {
          std::printf("%s\n", stats->dump(2).c_str());
          return kExitOk;
        }
        std::printf("%s: mode %s, up %s s\n", name->c_str(), stats->value("mode", "?").c_str(),
                    stats->contains("uptime_s") ? (*stats)["uptime_s"].dump().c_str() : "?");
        std::printf("  %-5s %-18s %12s %12s %10s %10s %10s %10s\n", "PORT", "MAC", "RX", "TX", "DROPS", "IMISSED",
                    "NOMBUF", "TXFULL");
        for (const auto& p : stats->value("ports", nlohmann::json::array())) {
          std::printf("  %-5d %-18s %12llu %12llu %10llu %10llu %10llu %10llu\n", p.value("index", 0),
                      p.value("mac", "").c_str(), p.value("rx", 0ull), p.value("tx", 0ull), p.value("drops", 0ull),
                      p.value("imissed", 0ull), p.value("rx_nombuf", 0ull), p.value("tx_full_drops", 0ull));
        }
        return kExitOk;
      };
    });
  }
}

}  // namespace vnf::cli
