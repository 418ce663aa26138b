// `vnfctl firewall plan|apply|remove|confirm|status`: vnfctl's deny-all host firewall in its own
// nftables tables (docs/firewall.md). A command is parse -> firewall request -> firewall result ->
// print. Exit 0: done or nothing to do; 1: nft refused, a confirm is pending, nothing to confirm;
// 2: bad arguments, nothing changed; 3: libvirt or nftables unreachable, journal damaged; 6: the
// confirm came too late (rolled back); 8: another firewall run holds the lock; 130: interrupted,
// rolled back.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "firewall/discover.h"
#include "firewall/firewall.h"
#include "firewall/ruleset.h"
#include "virt/connection.h"

namespace vnf::cli {
namespace {

struct FirewallOptions {
  fw::FirewallRequest request;
  bool no_ssh = false;
  bool no_libvirt = false;
  bool no_check = false;
  std::string confirm;  // seconds, validated by confirmSeconds
  bool json = false;
  std::string state_dir = "/var/lib/vnfctl";
  std::string lock = "/run/vnfctl/firewall.lock";
  double lock_wait_s = 5;
  std::string token;  // the watchdog's
};

inline constexpr int kMaxConfirmSeconds = 86400;

fw::Paths pathsOf(const FirewallOptions& o) {
  return fw::Paths{o.state_dir, o.lock, std::chrono::milliseconds(static_cast<long>(o.lock_wait_s * 1000))};
}

// The --state-dir/--lock a later command needs to find this one's journal ("" for the defaults).
std::string pathArgs(const FirewallOptions& o) {
  const FirewallOptions defaults;
  std::string out;
  if (o.state_dir != defaults.state_dir) out += " --state-dir " + o.state_dir;
  if (o.lock != defaults.lock) out += " --lock " + o.lock;
  return out;
}

// SIGINT/SIGTERM/SIGHUP are held back while the ruleset may change and looked at between steps
// (sigpending), so a signal never lands between a transaction and its journal: the run rolls back.
void holdSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

bool signalPending() {
  sigset_t set;
  sigemptyset(&set);
  if (::sigpending(&set) != 0) return false;
  return sigismember(&set, SIGINT) == 1 || sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGHUP) == 1;
}

fw::Hooks hooks() {
  fw::Hooks h;
  h.interrupted = signalPending;
  h.waiting = [](const std::string& holder) {
    std::fprintf(stderr, "vnfctl: waiting for the firewall lock, held by %s\n", holder.c_str());
  };
  // Test seam (docs/cli.md): VNFCTL_TEST_HOLD=firewall-commit stops right after the transaction
  // until a signal arrives, so a test can interrupt apply at its most delicate point.
  if (const char* v = std::getenv("VNFCTL_TEST_HOLD"); v && std::string(v) == "firewall-commit") {
    h.after_commit = [] {
      std::fprintf(stderr, "vnfctl: test hold after firewall-commit (pid %d)\n", static_cast<int>(::getpid()));
      for (int i = 0; i < 1200 && !signalPending(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    };
  }
  return h;
}

Result<std::optional<int>> confirmSeconds(const std::string& text) {
  if (text.empty()) return std::optional<int>{};
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || v < 1 || v > kMaxConfirmSeconds) {
    return fail(Errc::kInvalidArgument,
                fmt::format("--confirm '{}' is not a number of seconds from 1 to {}", text, kMaxConfirmSeconds),
                "give the seconds you need to check that you can still log in, like --confirm 60");
  }
  return std::optional<int>(static_cast<int>(v));
}

// The request validated, with the interfaces libvirt reports (unless --no-libvirt).
Result<fw::FirewallSpec> specOf(const GlobalOptions& g, FirewallOptions o, std::vector<std::string>& notes) {
  o.request.ssh = !o.no_ssh;
  fw::Interfaces found;
  if (!o.no_libvirt) {
    auto conn = Connection::open(g.uri, true);
    if (!conn) {
      auto e = conn.error();
      e.fix += (e.fix.empty() ? "" : "; ") +
               std::string(
                   "or name the interfaces yourself: --no-libvirt --vnf-port TAP --vnf-bridge BR "
                   "--libvirt-bridge BR");
      return std::unexpected(e);
    }
    auto d = fw::discoverInterfaces(*conn);
    if (!d) return std::unexpected(d.error());
    found = std::move(d->interfaces);
    notes = std::move(d->notes);
  }
  return fw::makeSpec(o.request, found);
}

void printNotes(const std::vector<std::string>& notes) {
  for (const auto& n : notes) std::fprintf(stderr, "note: %s\n", n.c_str());
}

int runPlan(const GlobalOptions& g, const FirewallOptions& o) {
  std::vector<std::string> notes;
  auto spec = specOf(g, o, notes);
  if (!spec) return reportError(spec.error());
  printNotes(notes);
  const auto ruleset = fw::renderRuleset(*spec);
  if (!o.no_check) {
    auto checked = fw::check(ruleset);
    if (!checked) {
      auto e = checked.error();
      if (e.code == Errc::kUnreachable) e.fix += ", or give --no-check to print the ruleset unchecked";
      return reportError(e);
    }
  }
  return printOutput(ruleset.text());
}

int runApply(const GlobalOptions& g, const FirewallOptions& o) {
  holdSignals();
  auto seconds = confirmSeconds(o.confirm);
  if (!seconds) return reportError(seconds.error());
  std::vector<std::string> notes;
  auto spec = specOf(g, o, notes);
  if (!spec) return reportError(spec.error());
  const auto ruleset = fw::renderRuleset(*spec);
  auto result = fw::apply(pathsOf(o), ruleset, *seconds, "/proc/self/exe", hooks());
  if (!result) return reportError(result.error());
  for (const auto& n : result->notes) notes.push_back(n);
  printNotes(notes);
  if (o.json) {
    nlohmann::json j{{"changed", result->changed}, {"journal", pathsOf(o).journal()}};
    if (result->deadline_ms) j["confirm_deadline_unix_ms"] = *result->deadline_ms;
    return printOutput(j.dump() + "\n");
  }
  if (!result->changed) {
    std::printf("unchanged: vnfctl's firewall is already applied as planned\n");
  } else if (result->deadline_ms) {
    std::printf("applied; it is rolled back at %s unless `vnfctl firewall confirm%s` comes first\n",
                fw::timeOfDay(*result->deadline_ms).c_str(), pathArgs(o).c_str());
  } else {
    std::printf("applied; `vnfctl firewall remove` restores the previous ruleset (journal %s)\n",
                pathsOf(o).journal().c_str());
  }
  return kExitOk;
}

int runRemove(const FirewallOptions& o) {
  holdSignals();
  auto result = fw::remove(pathsOf(o), hooks());
  if (!result) return reportError(result.error());
  if (o.json) return printOutput(nlohmann::json{{"changed", result->changed}}.dump() + "\n");
  if (!result->had_journal && !result->changed) {
    std::printf("nothing to remove: no firewall journal at %s\n", pathsOf(o).journal().c_str());
  } else {
    std::printf(result->changed ? "removed: vnfctl's tables are as they were before the first apply\n"
                                : "removed the journal; vnfctl's tables were already as before the first apply\n");
  }
  return kExitOk;
}

int runConfirm(const FirewallOptions& o) {
  holdSignals();
  auto done = fw::confirm(pathsOf(o), hooks());
  if (!done) return reportError(done.error());
  std::printf("confirmed: the firewall stays applied\n");
  return kExitOk;
}

int runStatus(const FirewallOptions& o) {
  auto s = fw::status(pathsOf(o));
  if (!s) return reportError(s.error());
  const char* state = !s->journal ? "not applied" : s->current_is_applied ? "applied" : "changed since applied";
  if (o.json) {
    nlohmann::json j{
        {"state", state}, {"inet_table", s->current.inet.exists}, {"bridge_table", s->current.bridge.exists}};
    if (s->deadline_ms) j["confirm_deadline_unix_ms"] = *s->deadline_ms;
    if (s->isolated_ports) j["isolated_ports"] = *s->isolated_ports;
    return printOutput(j.dump() + "\n");
  }
  std::printf("firewall: %s (journal %s)\n", state, pathsOf(o).journal().c_str());
  std::printf("table inet vnfctl: %s; table bridge vnfctl: %s\n", s->current.inet.exists ? "present" : "absent",
              s->current.bridge.exists ? "present" : "absent");
  if (s->isolated_ports) {
    std::string list;
    for (const auto& p : *s->isolated_ports) list += (list.empty() ? "" : ", ") + p;
    std::printf("VNF ports the last apply kept apart: %s\n", list.empty() ? "none" : list.c_str());
  }
  if (s->deadline_ms && *s->deadline_ms > static_cast<std::int64_t>(std::time(nullptr)) * 1000) {
    std::printf("awaiting `vnfctl firewall confirm` until %s\n", fw::timeOfDay(*s->deadline_ms).c_str());
  } else if (s->deadline_ms) {
    std::printf(
        "the confirm deadline passed at %s and no watchdog rolled back: the next apply, remove or confirm "
        "rolls back first\n",
        fw::timeOfDay(*s->deadline_ms).c_str());
  }
  return kExitOk;
}

int runWatchdog(const FirewallOptions& o) {
  auto rolled = fw::watchdog(pathsOf(o), o.token);
  const std::string stamp = fw::timeOfDay(static_cast<std::int64_t>(std::time(nullptr)) * 1000);
  if (!rolled) {
    std::fprintf(stderr, "%s vnfctl firewall watchdog %s: %s\n", stamp.c_str(), o.token.c_str(),
                 rolled.error().str().c_str());
    return exitCodeFor(rolled.error());
  }
  std::fprintf(stderr, "%s vnfctl firewall watchdog %s: %s\n", stamp.c_str(), o.token.c_str(),
               *rolled ? "no confirm by the deadline: rolled back" : "confirmed or superseded: nothing to do");
  return kExitOk;
}

void addPathOptions(CLI::App* cmd, FirewallOptions& o) {
  cmd->add_option("--state-dir", o.state_dir, "Folder of the firewall journal (tests give their own)")
      ->capture_default_str();
  cmd->add_option("--lock", o.lock, "Host-wide lock file of firewall changes")->capture_default_str();
  cmd->add_option("--lock-wait", o.lock_wait_s, "Seconds to wait for another firewall run to finish")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
}

void addRuleOptions(CLI::App* cmd, FirewallOptions& o) {
  auto& r = o.request;
  cmd->add_option("--api-port", r.api_port, "TCP port of vnfctl serve (1..65535)")->capture_default_str();
  cmd->add_option("--mgmt-nic", r.mgmt_nic, "The management NIC: the API port is opened on it only");
  cmd->add_option("--allow-from", r.allow_from,
                  "A network allowed to reach the API port (CIDR, IPv4 or IPv6; repeatable; needs --mgmt-nic)");
  cmd->add_flag("--no-ssh", o.no_ssh, "Do not open SSH (only when the console is reachable another way)");
  cmd->add_option("--ssh-port", r.ssh_port, "TCP port of SSH")->capture_default_str();
  cmd->add_option("--vnf-port", r.vnf_ports, "An extra VNF port (tap) to isolate (repeatable)");
  cmd->add_option("--vnf-bridge", r.vnf_bridges, "An extra bridge VNF ports attach to (repeatable)");
  cmd->add_option("--libvirt-bridge", r.libvirt_bridges,
                  "An extra bridge whose guests get DHCP/DNS from the host (repeatable)");
  cmd->add_flag("--no-libvirt", o.no_libvirt,
                "Do not ask libvirt for interfaces: only those named by --vnf-port/--vnf-bridge/--libvirt-bridge "
                "(for tests, and for hosts without libvirt)");
}

}  // namespace

void addFirewallCommands(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* fwc = app.add_subcommand("firewall", "vnfctl's deny-all host firewall in its own nftables tables");
  fwc->require_subcommand(1);

  auto plan = std::make_shared<FirewallOptions>();
  auto* p = fwc->add_subcommand("plan", "Print the ruleset apply would make, checked by nftables (changes nothing)");
  addRuleOptions(p, *plan);
  p->add_flag("--no-check", plan->no_check, "Print without asking the kernel to check it (needs no root)");
  p->callback([&global, &run, plan] { run = [&global, plan] { return runPlan(global, *plan); }; });

  auto apply = std::make_shared<FirewallOptions>();
  auto* a = fwc->add_subcommand("apply", "Apply the firewall in one transaction, journaled for remove");
  addRuleOptions(a, *apply);
  addPathOptions(a, *apply);
  a->add_option("--confirm", apply->confirm,
                "Roll the change back after SECONDS (1..86400) unless `vnfctl firewall confirm` comes first")
      ->option_text("SECONDS");
  a->add_flag("--json", apply->json, "Print the result as JSON ({\"changed\": ...})");
  a->callback([&global, &run, apply] { run = [&global, apply] { return runApply(global, *apply); }; });

  auto rm = std::make_shared<FirewallOptions>();
  auto* r = fwc->add_subcommand("remove", "Restore vnfctl's tables as they were before the first apply");
  addPathOptions(r, *rm);
  r->add_flag("--json", rm->json, "Print the result as JSON");
  r->callback([&run, rm] { run = [rm] { return runRemove(*rm); }; });

  auto conf = std::make_shared<FirewallOptions>();
  auto* c = fwc->add_subcommand("confirm", "Keep a change made with apply --confirm");
  addPathOptions(c, *conf);
  c->callback([&run, conf] { run = [conf] { return runConfirm(*conf); }; });

  auto st = std::make_shared<FirewallOptions>();
  auto* s = fwc->add_subcommand("status", "Whether the firewall is applied, and a pending confirm");
  addPathOptions(s, *st);
  s->add_flag("--json", st->json, "Print the status as JSON");
  s->callback([&run, st] { run = [st] { return runStatus(*st); }; });

  // Started by apply --confirm; not for people (hidden: an empty group).
  auto wd = std::make_shared<FirewallOptions>();
  auto* w = fwc->add_subcommand("watchdog", "Roll back an unconfirmed apply at its deadline (started by apply)");
  w->group("");
  addPathOptions(w, *wd);
  w->add_option("--token", wd->token, "The apply to watch")->required();
  w->callback([&run, wd] { run = [wd] { return runWatchdog(*wd); }; });
}

}  // namespace vnf::cli
