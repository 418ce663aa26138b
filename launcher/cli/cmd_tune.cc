// `vnfctl tune [NAME] [--nic PF]... --rings MAX|N [--irq-affinity local] [--dry-run] [--force]` and
// `vnfctl untune [--dry-run]`: ring sizes and PF queue IRQ affinity, journaled so untune restores
// exactly (docs/diagnose.md). Exit 0: done or nothing to do; 1: a change failed (rolled back);
// 2: bad arguments (nothing changed); 3: the host or libvirt could not be read; 5: no such VNF.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/host_lock.h"
#include "diagnose/context.h"
#include "diagnose/tune.h"
#include "diagnose/vnf_path.h"
#include "host/parse.h"

namespace vnf::cli {
namespace {

struct TuneOptions {
  std::string name;
  std::vector<std::string> nics;
  std::string rings;
  std::string irq;
  bool dry_run = false;
  bool force = false;
  std::string journal = "/var/lib/vnfctl/tune-journal.json";
};

void say(const std::string& line) { std::printf("%s\n", line.c_str()); }

// tune and untune read, change and rewrite one journal: two at once would lose an original.
Result<HostLock> lockJournal(const std::string& journal) {
  return HostLock::acquire(
      journal + ".lock", std::chrono::seconds(10), "tune/untune",
      [](const std::string& holder) {
        say(fmt::format("waiting up to 10 s for {} (it holds the tune journal)", holder));
      },
      selfCommandLine());
}

// Running VNFs per PF netdev, and the PFs of `name` (when given).
Result<std::vector<std::string>> nicUsers(const HostFs& fs, const GlobalOptions& g, const std::string& name,
                                          std::map<std::string, std::vector<std::string>>& users) {
  auto probe = diagnose::makeLiveProbe(fs, g.uri, nullptr);
  auto domains = probe->domains();
  if (!domains) return std::unexpected(domains.error());
  std::vector<std::string> mine;
  bool found = name.empty();
  std::vector<diagnose::Finding> sink;
  diagnose::Ctx c(fs, *probe, sink);
  for (const auto& d : *domains) {
    auto p = diagnose::parseVnfPath(d);
    if (!p) continue;
    for (const auto& vf : p->meta.vfs) {
      auto dev = c.netdevOf(vf.pf.str());
      if (dev.empty()) continue;
      if (p->running()) users[dev].push_back(p->name);
      if (p->name == name && std::find(mine.begin(), mine.end(), dev) == mine.end()) mine.push_back(dev);
    }
    if (p->name == name) found = true;
  }
  if (!found) {
    return fail(Errc::kNoSuchVnf, fmt::format("no VNF named '{}'", name), "vnfctl list shows the VNFs vnfctl manages");
  }
  if (!name.empty() && mine.empty()) {
    return fail(Errc::kInvalidArgument, fmt::format("VNF {} has no VFs on a PF with a netdev: nothing to tune", name),
                "its taps have no hardware rings; name a NIC with --nic");
  }
  return mine;
}

}  // namespace

void addTuneCommands(CLI::App& app, const GlobalOptions& global, Runner& run) {
  {
    auto* cmd =
        app.add_subcommand("tune", "Raise NIC ring sizes and move PF queue IRQs to the NIC's node (undo: untune)");
    auto opt = std::make_shared<TuneOptions>();
    cmd->add_option("NAME", opt->name, "A VNF: tune the PFs of its VFs");
    cmd->add_option("--nic", opt->nics, "A PF netdev to tune (repeatable)")->option_text("PF");
    cmd->add_option("--rings", opt->rings, "RX/TX ring size: max (the driver's maximum) or a number")
        ->option_text("MAX|N");
    cmd->add_option("--irq-affinity", opt->irq, "local: the PF's IRQs onto its NUMA node's CPUs")
        ->check(CLI::IsMember({"local"}));
    cmd->add_flag("--dry-run", opt->dry_run, "Say what would change; change nothing");
    cmd->add_flag("--force", opt->force, "Change rings of a NIC that running VNFs use (its link resets)");
    cmd->add_option("--journal", opt->journal, "The tune journal (default /var/lib/vnfctl/tune-journal.json)");
    cmd->callback([&global, &run, opt] {
      run = [&global, opt]() -> int {
        if (global.host_root != "/") {
          printError(Error{Errc::kInvalidArgument, "tune changes the live host; --host-root names a capture",
                           "run vnfctl tune on the host itself, without --host-root"});
          return kExitUsage;
        }
        diagnose::TuneRequest req;
        if (!opt->rings.empty()) {
          if (opt->rings == "max" || opt->rings == "MAX") {
            req.rings = 0;
          } else if (auto n = parseUnsigned(opt->rings); n && *n >= 1 && *n <= 65536) {
            req.rings = static_cast<std::uint32_t>(*n);
          } else {
            printError(Error{Errc::kInvalidArgument,
                             fmt::format("--rings {}: not 'max' or a number 1..65536", opt->rings),
                             "--rings max, or e.g. --rings 4096"});
            return kExitUsage;
          }
        }
        req.irq_local = opt->irq == "local";
        req.dry_run = opt->dry_run;
        req.force = opt->force;
        auto fs = HostFs::open("/");
        if (!fs) return (printError(fs.error()), exitCodeFor(fs.error()));
        auto mine = nicUsers(*fs, global, opt->name, req.users);
        if (!mine) {
          // Without libvirt a named NIC can still be tuned, but not safely: refuse unless --force.
          if (!opt->name.empty() || !opt->force) {
            printError(Error{mine.error().code, mine.error().message,
                             opt->name.empty() ? "vnfctl cannot tell whether running VNFs use the NIC; add --force "
                                                 "to tune it anyway"
                                               : mine.error().fix});
            return exitCodeFor(mine.error());
          }
          mine = std::vector<std::string>{};
        }
        req.nics = opt->nics;
        for (const auto& n : *mine)
          if (std::find(req.nics.begin(), req.nics.end(), n) == req.nics.end()) req.nics.push_back(n);
        auto lock = lockJournal(opt->journal);
        if (!lock) return (printError(lock.error()), exitCodeFor(lock.error()));
        auto journal = diagnose::TuneJournal::load(opt->journal);
        if (!journal) return (printError(journal.error()), exitCodeFor(journal.error()));
        prep::LiveHostOps host("/");
        diagnose::LiveRingOps nic;
        auto r = diagnose::tune(*fs, nic, host, *journal, req, say);
        if (!r) {
          printError(r.error());
          return r.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailed;
        }
        if (!opt->dry_run) say(fmt::format("journal: {} (vnfctl untune restores it)", opt->journal));
        return kExitOk;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("untune", "Restore every ring size and IRQ affinity vnfctl tune changed");
    auto opt = std::make_shared<TuneOptions>();
    cmd->add_flag("--dry-run", opt->dry_run, "Say what would be restored; change nothing");
    cmd->add_option("--journal", opt->journal, "The tune journal (default /var/lib/vnfctl/tune-journal.json)");
    cmd->callback([&run, opt] {
      run = [opt]() -> int {
        auto lock = lockJournal(opt->journal);
        if (!lock) return (printError(lock.error()), exitCodeFor(lock.error()));
        auto journal = diagnose::TuneJournal::load(opt->journal);
        if (!journal) return (printError(journal.error()), exitCodeFor(journal.error()));
        prep::LiveHostOps host("/");
        diagnose::LiveRingOps nic;
        auto r = diagnose::untune(nic, host, *journal, opt->dry_run, say);
        if (!r) return (printError(r.error()), kExitFailed);
        return kExitOk;
      };
    });
  }
}

}  // namespace vnf::cli
