#include "diagnose/tune.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "host/parse.h"

namespace vnf::diagnose {
namespace {

constexpr std::uint64_t kMaxJournalBytes = 4 << 20;

std::string ringText(std::uint32_t rx, std::uint32_t tx) { return fmt::format("{}/{}", rx, tx); }

Result<std::pair<std::uint32_t, std::uint32_t>> parseRingText(const std::string& s) {
  auto slash = s.find('/');
  if (slash != std::string::npos) {
    auto rx = parseUnsigned(std::string_view(s).substr(0, slash)).value_or(~0ull);
    auto tx = parseUnsigned(std::string_view(s).substr(slash + 1)).value_or(~0ull);
    if (rx <= 0xffffffffu && tx <= 0xffffffffu)
      return std::pair{static_cast<std::uint32_t>(rx), static_cast<std::uint32_t>(tx)};
  }
  return fail(Errc::kBadContent, fmt::format("tune journal: ring value '{}' is not RX/TX", s));
}

Result<void> restore(RingOps& nic, prep::HostOps& host, const TuneEntry& e) {
  if (e.kind == "rings") {
    auto v = parseRingText(e.original);
    if (!v) return std::unexpected(v.error());
    return nic.setRings(e.target, v->first, v->second);
  }
  return host.writeAttr(e.target, e.original);
}

// One planned change.
struct Change {
  TuneEntry entry;
  std::string said;
};

}  // namespace

Result<TuneJournal> TuneJournal::load(const std::string& path) {
  TuneJournal j;
  j.path = path;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return j;
  auto text = readUserFile(path, kMaxJournalBytes, "tune journal");
  if (!text) return std::unexpected(text.error());
  try {
    auto doc = nlohmann::json::parse(*text);
    if (doc.value("schema", "") != "vnfctl.tune-journal/v1")
      throw std::runtime_error("schema is not vnfctl.tune-journal/v1");
    for (const auto& e : doc.at("entries")) {
      TuneEntry t{e.at("kind").get<std::string>(), e.at("target").get<std::string>(),
                  e.at("original").get<std::string>(), e.at("applied").get<std::string>(), e.at("done").get<bool>()};
      if (t.kind != "rings" && t.kind != "irq") throw std::runtime_error("unknown kind " + t.kind);
      if (t.kind == "irq" && (t.target.rfind("/proc/irq/", 0) != 0 || t.target.find("..") != std::string::npos))
        throw std::runtime_error("irq target outside /proc/irq: " + t.target);
      j.entries.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return fail(Errc::kBadContent, fmt::format("the tune journal {} is damaged: {}", path, e.what()),
                "restore the values it lists by hand (ethtool -G, /proc/irq/N/smp_affinity_list), then remove it");
  }
  return j;
}

Result<void> TuneJournal::save() const {
  nlohmann::ordered_json doc{{"schema", "vnfctl.tune-journal/v1"}, {"entries", nlohmann::ordered_json::array()}};
  for (const auto& e : entries) {
    doc["entries"].push_back(
        {{"kind", e.kind}, {"target", e.target}, {"original", e.original}, {"applied", e.applied}, {"done", e.done}});
  }
  auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  return writeFileSafely(path, doc.dump(2) + "\n", 0644);
}

Result<void> TuneJournal::remove() const {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot remove the tune journal {}: {}", path, ec.message()));
  return {};
}

TuneEntry* TuneJournal::find(const std::string& kind, const std::string& target) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const TuneEntry& e) { return e.kind == kind && e.target == target; });
  return it == entries.end() ? nullptr : &*it;
}

std::string irqbalanceWarning(const HostFs& fs) {
  auto procs = fs.listDir("/proc");
  if (!procs) return "";
  for (const auto& p : *procs) {
    if (p.empty() ||
        !std::all_of(p.begin(), p.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      continue;
    auto comm = fs.readText("/proc/" + p + "/comm");
    if (comm && trim(*comm) == "irqbalance") {
      return fmt::format(
          "irqbalance runs (pid {}): it will move these IRQs back; ban them in "
          "/etc/default/irqbalance (IRQBALANCE_ARGS=\"--banirq=N ...\") or stop it "
          "(systemctl disable --now irqbalance)",
          p);
    }
  }
  return "";
}

Result<void> tune(const HostFs& fs, RingOps& nic, prep::HostOps& host, TuneJournal& journal, const TuneRequest& req,
                  const Say& say) {
  if (!req.rings && !req.irq_local)
    return fail(Errc::kInvalidArgument, "nothing to tune", "add --rings MAX|N and/or --irq-affinity local");
  if (req.nics.empty()) return fail(Errc::kInvalidArgument, "no NIC to tune", "name a VNF with VFs, or --nic PF");
  // Plan every change and collect every problem before changing anything.
  std::vector<Change> plan;
  std::vector<std::string> problems;
  std::string fix;
  for (const auto& n : req.nics) {
    std::string dev = fmt::format("/sys/class/net/{}", n);
    if (n.empty() || n.find('/') != std::string::npos || !fs.exists(dev)) {
      problems.push_back(fmt::format("no network interface named '{}'", n));
      fix = "name a PF netdev from `ip link` (or a VNF: vnfctl tune NAME)";
      continue;
    }
    if (req.rings) {
      auto r = nic.rings(n);
      if (!r) {
        problems.push_back(r.error().message);
        fix = "this NIC's driver has no ring parameters to tune";
        continue;
      }
      std::uint32_t rx = *req.rings == 0 ? r->rx_max : *req.rings;
      std::uint32_t tx = *req.rings == 0 ? r->tx_max : *req.rings;
      if (rx > r->rx_max || tx > r->tx_max) {
        problems.push_back(fmt::format("{}: --rings {} exceeds the driver's maximum (RX {}, TX {})", n, *req.rings,
                                       r->rx_max, r->tx_max));
        fix = fmt::format("--rings max, or at most {}", std::min(r->rx_max, r->tx_max));
        continue;
      }
      if (rx == 0 || tx == 0) {
        problems.push_back(fmt::format("{}: the driver reports a maximum ring size of 0", n));
        continue;
      }
      if (rx != r->rx || tx != r->tx) {
        auto users = req.users.find(n);
        if (users != req.users.end() && !users->second.empty() && !req.force) {
          problems.push_back(fmt::format("changing the rings of {} resets its link, and running VNFs use its VFs: {}",
                                         n, fmt::join(users->second, ", ")));
          fix = "add --force to accept a link reset of about a second for them, or stop them first";
          continue;
        }
        TuneEntry e{"rings", n, ringText(r->rx, r->tx), ringText(rx, tx), false};
        plan.push_back({e, fmt::format("{}: RX ring {} -> {}, TX ring {} -> {} (the driver resets the link: traffic "
                                       "stops for about a second)",
                                       n, r->rx, rx, r->tx, tx)});
      } else {
        say(fmt::format("{}: rings already RX {} TX {}", n, rx, tx));
      }
    }
    if (req.irq_local) {
      auto pci = fs.readLinkTarget(dev + "/device");
      std::string pci_dev = pci ? pci->substr(pci->rfind('/') + 1) : "";
      auto node_text = fs.readText(dev + "/device/numa_node");
      auto node = node_text ? parseInt(trim(*node_text)) : std::nullopt;
      if (!node || *node < 0) {
        problems.push_back(fmt::format("{}: its NUMA node is unknown ({}/device/numa_node)", n, dev));
        fix = "on a single-node host IRQ affinity needs no tuning";
        continue;
      }
      auto cpus = fs.readText(fmt::format("/sys/devices/system/node/node{}/cpulist", *node));
      auto irqs = fs.listDir(dev + "/device/msi_irqs");
      if (!cpus || !irqs || irqs->empty()) {
        problems.push_back(fmt::format("{}: no MSI IRQs listed in {}/device/msi_irqs", n, dev));
        continue;
      }
      std::string want(trim(*cpus));
      for (const auto& irq : *irqs) {
        std::string path = fmt::format("/proc/irq/{}/smp_affinity_list", irq);
        auto cur = fs.readText(path);
        if (!cur) continue;  // an IRQ gone since the listing
        if (trim(*cur) == want) continue;
        TuneEntry e{"irq", path, std::string(trim(*cur)), want, false};
        plan.push_back({e, fmt::format("{}: IRQ {} CPUs {} -> {} (node {})", n, irq, trim(*cur), want, *node)});
      }
    }
  }
  if (!problems.empty()) {
    return fail(problems.size() == 1 && problems[0].find("resets its link") != std::string::npos
                    ? Errc::kConflict
                    : Errc::kInvalidArgument,
                fmt::format("{}; nothing was changed", fmt::join(problems, "; ")), fix);
  }
  if (req.irq_local)
    if (auto w = irqbalanceWarning(fs); !w.empty()) say("warning: " + w);
  for (const auto& c : plan) say((req.dry_run ? "would change " : "") + c.said);
  if (req.dry_run || plan.empty()) return {};
  // Apply, journaling each original first; on a failure put this run's changes back.
  std::vector<TuneEntry> applied;
  const std::vector<TuneEntry> journal_before = journal.entries;
  auto rollback = [&](const Error& why) -> Result<void> {
    std::vector<std::string> left;
    for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
      if (auto r = restore(nic, host, *it); !r) left.push_back(r.error().message);
    }
    if (left.empty()) {
      journal.entries = journal_before;
      (void)journal.save();  // the host is as before this run; so is its journal
    }
    return fail(why.code,
                fmt::format("{}; {}", why.message,
                            left.empty() ? "the changes of this run were put back"
                                         : fmt::format("restoring failed too: {}", fmt::join(left, "; "))),
                why.fix);
  };
  for (const auto& c : plan) {
    TuneEntry* known = journal.find(c.entry.kind, c.entry.target);
    std::optional<TuneEntry> before = known ? std::optional<TuneEntry>(*known) : std::nullopt;
    if (!known) journal.entries.push_back(c.entry);  // the first change: its original is kept from now on
    TuneEntry* e = journal.find(c.entry.kind, c.entry.target);
    e->applied = c.entry.applied;
    e->done = false;
    auto forget = [&] {
      if (before) {
        *journal.find(c.entry.kind, c.entry.target) = *before;
      } else {
        std::erase_if(journal.entries,
                      [&](const TuneEntry& x) { return x.kind == c.entry.kind && x.target == c.entry.target; });
      }
    };
    if (auto s = journal.save(); !s) {
      forget();
      return rollback(s.error());
    }
    Result<void> r;
    if (c.entry.kind == "rings") {
      auto v = parseRingText(c.entry.applied);
      r = v ? nic.setRings(c.entry.target, v->first, v->second) : Result<void>(std::unexpected(v.error()));
    } else {
      r = host.writeAttr(c.entry.target, c.entry.applied);
    }
    if (!r) {
      forget();
      return rollback(r.error());
    }
    // Rolling back this run goes to the value before this run, not to the journal's first original.
    applied.push_back({c.entry.kind, c.entry.target, c.entry.original, c.entry.applied, true});
    journal.find(c.entry.kind, c.entry.target)->done = true;
    if (auto s = journal.save(); !s) return rollback(s.error());
  }
  return {};
}

Result<void> untune(RingOps& nic, prep::HostOps& host, TuneJournal& journal, bool dry_run, const Say& say) {
  if (journal.empty()) {
    say("nothing to undo: no tune journal at " + journal.path);
    return {};
  }
  std::vector<std::string> failed;
  for (auto it = journal.entries.rbegin(); it != journal.entries.rend(); ++it) {
    say(fmt::format("{}{} {}: {} -> {}{}", dry_run ? "would restore " : "", it->kind, it->target, it->applied,
                    it->original, it->kind == "rings" ? " (the driver resets the link)" : ""));
    if (dry_run) continue;
    if (auto r = restore(nic, host, *it); !r) failed.push_back(r.error().message);
  }
  if (dry_run) return {};
  if (!failed.empty()) {
    return fail(Errc::kIo, fmt::format("untune could not restore: {}", fmt::join(failed, "; ")),
                fmt::format("the journal {} is kept; fix the cause and run vnfctl untune again", journal.path));
  }
  return journal.remove();
}

}  // namespace vnf::diagnose
