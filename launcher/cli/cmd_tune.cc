// `vnfctl tune [NAME] [--nic PF]... --rings MAX|N [--irq-affinity local] [--dry-run] [--force]` and
// `vnfctl untune [--dry-run]`: ring sizes and PF queue IRQ affinity, journaled so untune restores
// exactly (docs/diagnose.md). Exit 0: done or nothing to do; 1: a change failed (rolled back);
// 2: bad arguments (nothing changed); 3: the host or libvirt could not be read; 5: no such VNF.
#include <cstdio>
#include <filesystem>

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
  bool persist = false;
  std::string persisted;  // the boot-time run of prepare's unit: the request file
  std::string persist_root = "/";
  std::string journal = "/var/lib/vnfctl/tune-journal.json";
};

void say(const std::string& line) { std::printf("%s\n", line.c_str()); }

// Where --persist writes (under --persist-root, as prepare's), and the vnfctl the boot hook runs.
diagnose::PersistPaths persistPaths(const TuneOptions& o) {
  diagnose::PersistPaths p;
  p.root = o.persist_root;
  p.journal_path = o.journal;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) p.vnfctl_path = self.string();
  return p;
}

// tune and untune read, change and rewrite one journal: two at once would lose an original.
Result<HostLock> lockJournal(const std::string& journal) {
  return HostLock::acquire(
      journal + ".lock", std::chrono::seconds(10), "tune/untune",
      [](const std::string& holder) {
        say(fmt::format("waiting up to 10 s for {} (it holds the tune journal)", holder));
      },
      selfCommandLine());
}

// Running VNFs per PF netdev, and the PFs of `name` (when given), from libvirt's domains.
Result<std::vector<std::string>> nicUsers(const HostFs& fs, const GlobalOptions& g, const std::string& name,
                                          std::map<std::string, std::vector<std::string>>& users) {
  auto probe = diagnose::makeLiveProbe(fs, g.uri, nullptr);
  return diagnose::nicUsers(fs, *probe, name, users);
}

// Running QEMU domains by their pid files (/run/libvirt/qemu/NAME.pid), without contacting libvirt:
// the boot-time run is ordered before libvirtd, and a connection would wait for it (a deadlock).
std::vector<std::string> runningDomainsByPidFile(const HostFs& fs) {
  std::vector<std::string> out;
  auto names = fs.listDir("/run/libvirt/qemu");
  if (!names) return out;
  for (const auto& n : *names)
    if (n.size() > 4 && n.ends_with(".pid")) out.push_back(n.substr(0, n.size() - 4));
  return out;
}

// `tune --persisted FILE`: what prepare's unit runs at boot, one request per NIC of the file.
int runPersisted(const HostFs& fs, const TuneOptions& opt) {
  if (!opt.name.empty() || !opt.nics.empty() || !opt.rings.empty() || !opt.irq.empty() || opt.persist) {
    printError(Error{Errc::kInvalidArgument, "--persisted takes its NICs and sizes from the file",
                     "run vnfctl tune --persisted FILE [--journal J] [--dry-run] alone"});
    return kExitUsage;
  }
  auto p = diagnose::PersistedTune::load(opt.persisted);
  if (!p) return (printError(p.error()), exitCodeFor(p.error()));
  if (p->nics.empty()) {
    say(fmt::format("nothing persisted in {}", opt.persisted));
    return kExitOk;
  }
  std::map<std::string, std::vector<std::string>> users;
  if (auto running = runningDomainsByPidFile(fs); !running.empty() && !opt.force) {
    // Outside boot (by hand, libvirtd up): which PF each uses is unknown here, so every NIC counts as used.
    for (const auto& [nic, t] : p->nics) users[nic] = running;
  }
  auto lock = lockJournal(opt.journal);
  if (!lock) return (printError(lock.error()), exitCodeFor(lock.error()));
  auto journal = diagnose::TuneJournal::load(opt.journal);
  if (!journal) return (printError(journal.error()), exitCodeFor(journal.error()));
  prep::LiveHostOps host("/");
  diagnose::LiveRingOps nic;
  int rc = kExitOk;
  for (auto req : diagnose::persistedRequests(*p)) {
    req.dry_run = opt.dry_run;
    req.force = opt.force;
    req.users = users;
    // One NIC failing (gone, renamed) does not keep the others from being tuned.
    if (auto r = diagnose::tune(fs, nic, host, *journal, req, say); !r) {
      printError(r.error());
      rc = kExitFailed;
    }
  }
  return rc;
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
    cmd->add_flag("--persist", opt->persist,
                  "Also re-apply at boot through prepare's unit (vnfctl prepare --persist installs it)");
    cmd->add_option("--persisted", opt->persisted,
                    "Apply the persisted request FILE (what prepare's unit runs at boot)")
        ->option_text("FILE");
    cmd->add_option("--journal", opt->journal, "The tune journal (default /var/lib/vnfctl/tune-journal.json)");
    cmd->add_option("--persist-root", opt->persist_root, "Where the --persist files are (default /)");
    cmd->callback([&global, &run, opt] {
      run = [&global, opt]() -> int {
        if (global.host_root != "/") {
          printError(Error{Errc::kInvalidArgument, "tune changes the live host; --host-root names a capture",
                           "run vnfctl tune on the host itself, without --host-root"});
          return kExitUsage;
        }
        if (!opt->persisted.empty()) {
          auto fs = HostFs::open("/");
          if (!fs) return (printError(fs.error()), exitCodeFor(fs.error()));
          return runPersisted(*fs, *opt);
        }
        auto persist_paths = persistPaths(*opt);
        if (opt->persist) {
          std::error_code ec;
          if (!std::filesystem::is_regular_file(persist_paths.unit(), ec)) {
            // Refused before anything changes (persistTune says the same).
            auto r = diagnose::persistTune(persist_paths, {}, say);
            printError(r.error());
            return kExitFailed;
          }
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
        if (opt->persist) {
          if (opt->dry_run) {
            say(fmt::format("would persist in {} and {}", persist_paths.request(), persist_paths.dropIn()));
          } else if (auto p = diagnose::persistTune(persist_paths, req, say); !p) {
            printError(p.error());
            return kExitFailed;
          }
        }
        return kExitOk;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("untune", "Restore every ring size and IRQ affinity vnfctl tune changed");
    auto opt = std::make_shared<TuneOptions>();
    cmd->add_flag("--dry-run", opt->dry_run, "Say what would be restored; change nothing");
    cmd->add_option("--journal", opt->journal, "The tune journal (default /var/lib/vnfctl/tune-journal.json)");
    cmd->add_option("--persist-root", opt->persist_root, "Where the --persist files are (default /)");
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
        // And the boot-time re-apply of tune --persist, when there is one.
        auto persist_paths = persistPaths(*opt);
        if (auto u = diagnose::unpersistTune(persist_paths, opt->dry_run, say); !u)
          return (printError(u.error()), kExitFailed);
        return kExitOk;
      };
    });
  }
}

}  // namespace vnf::cli
