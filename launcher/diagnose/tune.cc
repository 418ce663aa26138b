#include "diagnose/tune.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "diagnose/context.h"
#include "diagnose/vnf_path.h"
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

namespace {

constexpr const char* kDropInHeader = "# Written by vnfctl tune --persist; removed by vnfctl untune.\n";

std::string underRoot(const std::string& root, const std::string& path) {
  return (std::filesystem::path(root) / std::filesystem::path(path).relative_path()).string();
}

bool validNicName(const std::string& n) {
  return !n.empty() && n.size() < 16 && n != "." && n != ".." && std::all_of(n.begin(), n.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' || ch == '@';
  });
}

std::string persistedText(const PersistedTune& p) {
  nlohmann::ordered_json doc{{"schema", "vnfctl.tune-persist/v1"}, {"nics", nlohmann::ordered_json::object()}};
  for (const auto& [nic, t] : p.nics) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    if (t.rings) e["rings"] = *t.rings == 0 ? nlohmann::ordered_json("max") : nlohmann::ordered_json(*t.rings);
    if (t.irq_local) e["irq_affinity"] = "local";
    doc["nics"][nic] = e;
  }
  return doc.dump(2) + "\n";
}

Result<void> removeIfThere(const std::string& path, const char* what) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot remove {} {}: {}", what, path, ec.message()));
  return {};
}

}  // namespace

std::string PersistPaths::request() const { return underRoot(root, "/etc/vnfctl/tune.json"); }
std::string PersistPaths::dropIn() const {
  return underRoot(root, "/etc/systemd/system/vnfctl-prepare.service.d/vnfctl-tune.conf");
}
std::string PersistPaths::unit() const { return underRoot(root, "/etc/systemd/system/vnfctl-prepare.service"); }

Result<PersistedTune> PersistedTune::load(const std::string& path) {
  PersistedTune p;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return p;
  auto text = readUserFile(path, kMaxJournalBytes, "persisted tune request");
  if (!text) return std::unexpected(text.error());
  try {
    auto doc = nlohmann::json::parse(*text);
    if (doc.value("schema", "") != "vnfctl.tune-persist/v1")
      throw std::runtime_error("schema is not vnfctl.tune-persist/v1");
    for (const auto& [nic, e] : doc.at("nics").items()) {
      if (!validNicName(nic)) throw std::runtime_error(fmt::format("'{}' is not a network interface name", nic));
      PersistedNic t;
      if (e.contains("rings")) {
        const auto& r = e.at("rings");
        if (r.is_string() && r.get<std::string>() == "max") {
          t.rings = 0;
        } else if (r.is_number_unsigned() && r.get<std::uint64_t>() >= 1 && r.get<std::uint64_t>() <= 65536) {
          t.rings = static_cast<std::uint32_t>(r.get<std::uint64_t>());
        } else {
          throw std::runtime_error(fmt::format("{}: rings {} is not \"max\" or 1..65536", nic, r.dump()));
        }
      }
      if (e.contains("irq_affinity")) {
        if (e.at("irq_affinity") != "local") throw std::runtime_error(nic + ": irq_affinity is not \"local\"");
        t.irq_local = true;
      }
      if (!t.rings && !t.irq_local) throw std::runtime_error(nic + ": neither rings nor irq_affinity");
      p.nics[nic] = t;
    }
  } catch (const std::exception& e) {
    return fail(Errc::kBadContent, fmt::format("the persisted tune request {} is damaged: {}", path, e.what()),
                "run vnfctl untune (it removes the request and its boot hook), then vnfctl tune --persist again");
  }
  return p;
}

std::vector<TuneRequest> persistedRequests(const PersistedTune& p) {
  std::vector<TuneRequest> out;
  for (const auto& [nic, t] : p.nics) {
    TuneRequest r;
    r.nics = {nic};
    r.rings = t.rings;
    r.irq_local = t.irq_local;
    out.push_back(std::move(r));
  }
  return out;
}

Result<void> persistTune(const PersistPaths& paths, const TuneRequest& req, const Say& say) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(paths.unit(), ec)) {
    return fail(
        Errc::kConflict,
        fmt::format("tune --persist re-applies at boot through prepare's unit, and {} is not installed", paths.unit()),
        "vnfctl prepare --spec HOST.yaml --persist installs it; or run vnfctl tune without --persist");
  }
  auto current = PersistedTune::load(paths.request());
  if (!current) return std::unexpected(current.error());
  PersistedTune next = *current;
  for (const auto& nic : req.nics) {
    if (!validNicName(nic))
      return fail(Errc::kInvalidArgument, fmt::format("'{}' is not a network interface name", nic));
    auto& t = next.nics[nic];
    if (req.rings) t.rings = req.rings;
    if (req.irq_local) t.irq_local = true;
  }
  const std::string drop_in = std::string(kDropInHeader) +
                              "[Service]\n"
                              "# After prepare's VFs and drivers, before libvirtd: no VNF runs yet.\n" +
                              fmt::format("ExecStartPost={} tune --persisted {} --journal {}\n", paths.vnfctl_path,
                                          "/etc/vnfctl/tune.json", paths.journal_path);
  for (const auto& target : {paths.request(), paths.dropIn()})
    if (auto c = checkWriteTarget(target); !c) return std::unexpected(c.error());
  std::filesystem::create_directories(std::filesystem::path(paths.request()).parent_path(), ec);
  std::filesystem::create_directories(std::filesystem::path(paths.dropIn()).parent_path(), ec);
  if (auto w = writeFileSafely(paths.request(), persistedText(next), 0644); !w) return w;
  if (auto w = writeFileSafely(paths.dropIn(), drop_in, 0644); !w) {
    // Put the request back as it was: a request without its hook would do nothing, silently.
    if (current->nics.empty()) {
      (void)removeIfThere(paths.request(), "the persisted tune request");
    } else {
      (void)writeFileSafely(paths.request(), persistedText(*current), 0644);
    }
    return w;
  }
  say(
      fmt::format("persisted: {} and {} (prepare's unit re-applies them at boot; activate with: systemctl "
                  "daemon-reload)",
                  paths.request(), paths.dropIn()));
  return {};
}

Result<void> unpersistTune(const PersistPaths& paths, bool dry_run, const Say& say) {
  std::error_code ec;
  bool have_drop_in = std::filesystem::exists(std::filesystem::symlink_status(paths.dropIn(), ec));
  bool have_request = std::filesystem::exists(std::filesystem::symlink_status(paths.request(), ec));
  if (have_drop_in) {
    auto text = readUserFile(paths.dropIn(), 1 << 16, "systemd drop-in");
    if (!text) return std::unexpected(text.error());
    if (text->rfind(kDropInHeader, 0) != 0) {
      return fail(Errc::kConflict,
                  fmt::format("{} was not written by vnfctl tune --persist; left alone", paths.dropIn()),
                  "remove it by hand if it is stale");
    }
  }
  if (have_request) {
    if (auto p = PersistedTune::load(paths.request()); !p && p.error().code != Errc::kBadContent)
      return std::unexpected(p.error());  // a damaged request is removed all the same
  }
  for (auto [there, path, what] : {std::tuple{have_drop_in, paths.dropIn(), "boot hook"},
                                   std::tuple{have_request, paths.request(), "persisted tune request"}}) {
    if (!there) continue;
    say(fmt::format("{}remove the {} {}", dry_run ? "would " : "", what, path));
    if (dry_run) continue;
    if (auto r = removeIfThere(path, what); !r) return r;
  }
  if (have_drop_in && !dry_run) say("then: systemctl daemon-reload");
  return {};
}

Result<std::vector<std::string>> nicUsers(const HostFs& fs, Probe& probe, const std::string& name,
                                          std::map<std::string, std::vector<std::string>>& users) {
  auto domains = probe.domains();
  if (!domains) return std::unexpected(domains.error());
  std::vector<std::string> mine;
  bool found = name.empty();
  std::vector<Finding> sink;
  Ctx c(fs, probe, sink);
  for (const auto& d : *domains) {
    auto p = parseVnfPath(d);
    if (!p) continue;
    for (const auto& vf : p->meta.vfs) {
      auto dev = c.netdevOf(vf.pf.str());
      if (dev.empty()) continue;
      auto& u = users[dev];
      if (p->running() && std::find(u.begin(), u.end(), p->name) == u.end()) u.push_back(p->name);
      if (p->name == name && std::find(mine.begin(), mine.end(), dev) == mine.end()) mine.push_back(dev);
    }
    if (p->name == name) found = true;
  }
  std::erase_if(users, [](const auto& kv) { return kv.second.empty(); });
  if (!found) {
    return fail(Errc::kNoSuchVnf, fmt::format("no VNF named '{}'", name), "vnfctl list shows the VNFs vnfctl manages");
  }
  if (!name.empty() && mine.empty()) {
    return fail(Errc::kInvalidArgument, fmt::format("VNF {} has no VFs on a PF with a netdev: nothing to tune", name),
                "its taps have no hardware rings; name a NIC with --nic");
  }
  return mine;
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
    if (c.entry.kind == "rings") {
      // Drivers round to their descriptor multiple (igb: 8): journal and say what the NIC took.
      if (auto back = nic.rings(c.entry.target); back && ringText(back->rx, back->tx) != c.entry.applied) {
        journal.find(c.entry.kind, c.entry.target)->applied = ringText(back->rx, back->tx);
        say(fmt::format("{}: the driver set RX {} TX {} (it rounds to its descriptor multiple)", c.entry.target,
                        back->rx, back->tx));
      }
    }
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
