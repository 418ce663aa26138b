#include "firewall/firewall.h"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/host_lock.h"

namespace vnf::fw {
namespace {

// Unix time in milliseconds: a deadline of N seconds is N seconds, not N-1..N.
std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<HostLock> lockFor(const Paths& paths, const Hooks& hooks) {
  return HostLock::acquire(paths.lock, paths.lock_wait, "firewall", hooks.waiting, selfCommandLine());
}

Result<Snapshot> snapshot(Nft& nft) {
  auto inet = nft.readTable(kInetFamily, kTableName);
  if (!inet) return std::unexpected(inet.error());
  auto bridge = nft.readTable(kBridgeFamily, kTableName);
  if (!bridge) return std::unexpected(bridge.error());
  return Snapshot{std::move(*inet), std::move(*bridge)};
}

// One transaction that makes vnfctl's tables `inet_text`/`bridge_text` ("" = absent) from `current`.
std::string transaction(const Snapshot& current, const std::string& inet_text, const std::string& bridge_text) {
  return replaceTableCommands(kInetFamily, kTableName, current.inet, inet_text) +
         replaceTableCommands(kBridgeFamily, kTableName, current.bridge, bridge_text);
}

std::string textOf(const TableState& t) { return t.exists ? t.text : std::string(); }

// Makes the tables what `target` recorded (one transaction; nothing when they already are).
Result<void> restoreSnapshot(Nft& nft, const Snapshot& target, const std::string& what) {
  auto current = snapshot(nft);
  if (!current) return std::unexpected(current.error());
  if (*current == target) return {};
  auto done = nft.run(transaction(*current, textOf(target.inet), textOf(target.bridge)), what);
  if (!done) return std::unexpected(done.error());
  return {};
}

Result<void> putBackJournal(const std::string& path, const std::optional<std::string>& text) {
  return text ? saveJournalText(path, *text) : removeJournal(path);
}

Result<void> saveJournal(const std::string& path, const Journal& j) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return saveJournalText(path, j.toJson());
}

// The journal, refused when it describes another network namespace.
Result<std::optional<Journal>> loadHere(const std::string& path) {
  auto j = loadJournal(path);
  if (!j) return j;
  if (*j && (*j)->netns != 0 && currentNetns() != 0 && (*j)->netns != currentNetns()) {
    return fail(Errc::kConflict,
                fmt::format("the firewall journal {} describes another network namespace (inode {}, this one is {})",
                            path, (*j)->netns, currentNetns()),
                "run vnfctl in the namespace the firewall was applied in, or give --state-dir a folder of its own");
  }
  return j;
}

// Rolls a pending apply back: the tables as they were before it, the journal as it was.
Result<void> rollbackPending(Nft& nft, const std::string& path, const Journal& j) {
  auto restored = restoreSnapshot(nft, j.pending->before, "roll back the unconfirmed firewall");
  if (!restored) return restored;
  return putBackJournal(path, j.pending->previous_journal);
}

// A pending apply whose deadline passed with no watchdog to act (killed, or the host rebooted
// between): the next command does the rollback itself. True when it rolled back.
Result<bool> settleOverdue(Nft& nft, const std::string& path) {
  auto j = loadHere(path);
  if (!j) return std::unexpected(j.error());
  if (!*j || !(*j)->pending || (*j)->pending->deadline_ms > nowMs()) return false;
  auto done = rollbackPending(nft, path, **j);
  if (!done) return std::unexpected(done.error());
  return true;
}

std::string newToken() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    return fmt::format("{:x}-{:x}", static_cast<unsigned long>(::getpid()), static_cast<unsigned long>(nowMs()));
  }
  std::string out;
  for (auto b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

Error interruptedError(bool rolled_back) {
  return Error{Errc::kInterrupted,
               rolled_back ? "interrupted by a signal: the firewall change was rolled back, the ruleset is as before"
                           : "interrupted by a signal before the firewall changed: nothing was changed",
               ""};
}

}  // namespace

std::string timeOfDay(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

Result<ApplyResult> apply(const Paths& paths, const Ruleset& ruleset, std::optional<int> confirm_seconds,
                          const std::string& self_exe, const Hooks& hooks) {
  auto interrupted = [&] { return hooks.interrupted && hooks.interrupted(); };
  auto lock = lockFor(paths, hooks);
  if (!lock) return std::unexpected(lock.error());
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  const auto path = paths.journal();
  ApplyResult result;
  auto overdue = settleOverdue(*nft, path);
  if (!overdue) return std::unexpected(overdue.error());
  if (*overdue) result.notes.push_back("an unconfirmed apply had passed its deadline: it was rolled back first");
  auto journal = loadHere(path);
  if (!journal) return std::unexpected(journal.error());
  if (*journal && (*journal)->pending) {
    return fail(Errc::kConflict,
                fmt::format("an earlier `vnfctl firewall apply --confirm` awaits its confirm until {}",
                            timeOfDay((*journal)->pending->deadline_ms)),
                "run `vnfctl firewall confirm` to keep it (then apply again), or wait for its rollback");
  }
  auto current = snapshot(*nft);
  if (!current) return std::unexpected(current.error());
  if (*journal && (*journal)->generated == ruleset.text() && *current == (*journal)->applied) {
    if (!(*journal)->isolated_ports) {
      // A journal from a vnfctl that did not record the ports: the same ruleset isolates these.
      Journal j = **journal;
      j.isolated_ports = ruleset.isolated_ports;
      if (auto s = saveJournal(path, j); !s) return std::unexpected(s.error());
    }
    if (confirm_seconds) result.notes.push_back("nothing changed, so there is nothing to confirm");
    return result;
  }
  if (interrupted()) return std::unexpected(interruptedError(false));

  auto previous_text = readJournalText(path);
  if (!previous_text) return std::unexpected(previous_text.error());
  Journal next;
  next.netns = currentNetns();
  next.original = *journal ? (*journal)->original : *current;
  // Saved before the transaction with an empty `generated`, so a vnfctl killed in between leaves a
  // journal that remove can restore from and that no later apply takes for "unchanged".
  auto saved = saveJournal(path, next);
  if (!saved) return std::unexpected(saved.error());
  auto committed = nft->run(transaction(*current, ruleset.inet, ruleset.bridge), "apply the firewall");
  if (!committed) {
    if (auto back = putBackJournal(path, *previous_text); !back) return std::unexpected(back.error());
    return std::unexpected(committed.error());
  }
  result.changed = true;
  if (hooks.after_commit) hooks.after_commit();

  // From here on a failure or a signal takes the change back.
  auto undo = [&](Error e) -> Result<ApplyResult> {
    auto restored = restoreSnapshot(*nft, *current, "roll back the firewall");
    if (!restored) {
      e.message += "; rolling back failed too: " + restored.error().message;
      e.fix = "see docs/firewall.md \"Recovery\": `vnfctl firewall remove` restores from the journal";
      return std::unexpected(e);
    }
    if (auto back = putBackJournal(path, *previous_text); !back) return std::unexpected(back.error());
    return std::unexpected(e);
  };
  auto applied = snapshot(*nft);
  if (!applied) return undo(applied.error());
  next.applied = *applied;
  next.generated = ruleset.text();
  next.isolated_ports = ruleset.isolated_ports;
  if (confirm_seconds) {
    next.pending =
        PendingConfirm{newToken(), nowMs() + std::int64_t{*confirm_seconds} * 1000, *current, *previous_text};
    result.deadline_ms = next.pending->deadline_ms;
  }
  if (auto s = saveJournal(path, next); !s) return undo(s.error());
  if (interrupted()) return undo(interruptedError(true));
  if (next.pending) {
    if (auto w = spawnWatchdog(self_exe, paths, next.pending->token); !w) return undo(w.error());
  }
  if (interrupted()) return undo(interruptedError(true));
  return result;
}

Result<RemoveResult> remove(const Paths& paths, const Hooks& hooks) {
  auto lock = lockFor(paths, hooks);
  if (!lock) return std::unexpected(lock.error());
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  const auto path = paths.journal();
  RemoveResult result;
  auto overdue = settleOverdue(*nft, path);
  if (!overdue) return std::unexpected(overdue.error());
  result.changed = *overdue;
  auto journal = loadHere(path);
  if (!journal) return std::unexpected(journal.error());
  if (!*journal) return result;
  result.had_journal = true;
  auto current = snapshot(*nft);
  if (!current) return std::unexpected(current.error());
  if (!(*current == (*journal)->original)) {
    if (hooks.interrupted && hooks.interrupted()) return std::unexpected(interruptedError(false));
    const auto& o = (*journal)->original;
    auto done = nft->run(transaction(*current, textOf(o.inet), textOf(o.bridge)), "remove the firewall");
    if (!done) return std::unexpected(done.error());
    result.changed = true;
  }
  if (auto r = removeJournal(path); !r) return std::unexpected(r.error());
  return result;
}

Result<void> confirm(const Paths& paths, const Hooks& hooks) {
  auto lock = lockFor(paths, hooks);
  if (!lock) return std::unexpected(lock.error());
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  const auto path = paths.journal();
  auto journal = loadHere(path);
  if (!journal) return std::unexpected(journal.error());
  if (*journal && (*journal)->pending && (*journal)->pending->deadline_ms <= nowMs()) {
    const auto deadline = (*journal)->pending->deadline_ms;
    auto done = rollbackPending(*nft, path, **journal);
    if (!done) return std::unexpected(done.error());
    return fail(
        Errc::kTimeout,
        fmt::format("too late: the confirm deadline was {}; the firewall change was rolled back", timeOfDay(deadline)),
        "apply it again with a longer --confirm");
  }
  if (!*journal || !(*journal)->pending) {
    return fail(Errc::kConflict,
                "no firewall change awaits a confirm (it was confirmed already, rolled back at its deadline, or "
                "applied without --confirm)",
                "`vnfctl firewall status` shows what is applied");
  }
  auto j = **journal;
  j.pending.reset();
  return saveJournal(path, j);
}

Result<std::optional<std::vector<std::string>>> portsNotIsolated(const Paths& paths,
                                                                 const std::vector<std::string>& ports) {
  using Out = std::optional<std::vector<std::string>>;
  auto journal = loadHere(paths.journal());
  if (!journal) return std::unexpected(journal.error());
  if (!*journal || (*journal)->generated.empty() || !(*journal)->isolated_ports) return Out{};
  const auto& isolated = *(*journal)->isolated_ports;
  std::vector<std::string> missing;
  for (const auto& p : ports) {
    if (std::find(isolated.begin(), isolated.end(), p) == isolated.end() &&
        std::find(missing.begin(), missing.end(), p) == missing.end())
      missing.push_back(p);
  }
  return Out{std::move(missing)};
}

Result<Status> status(const Paths& paths) {
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  auto journal = loadHere(paths.journal());
  if (!journal) return std::unexpected(journal.error());
  auto current = snapshot(*nft);
  if (!current) return std::unexpected(current.error());
  Status s;
  s.current = *current;
  if (*journal) {
    s.journal = true;
    s.current_is_applied = !(*journal)->generated.empty() && (*journal)->applied == *current;
    s.isolated_ports = (*journal)->isolated_ports;
    if ((*journal)->pending) s.deadline_ms = (*journal)->pending->deadline_ms;
  }
  return s;
}

Result<void> check(const Ruleset& ruleset) {
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  auto current = snapshot(*nft);
  if (!current) return std::unexpected(current.error());
  auto done = nft->run(transaction(*current, ruleset.inet, ruleset.bridge), "check the firewall", true);
  if (!done) return std::unexpected(done.error());
  return {};
}

Result<bool> watchdog(const Paths& paths, const std::string& token) {
  const auto path = paths.journal();
  for (;;) {
    auto j = loadHere(path);
    if (!j) return std::unexpected(j.error());
    if (!*j || !(*j)->pending || (*j)->pending->token != token) return false;  // confirmed, removed, superseded
    if ((*j)->pending->deadline_ms <= nowMs()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // The deadline passed: take the lock (a confirm may hold it right now) and look again under it.
  Paths patient = paths;
  patient.lock_wait = std::chrono::minutes(5);
  auto lock = lockFor(patient, {});
  if (!lock) return std::unexpected(lock.error());
  auto nft = Nft::open();
  if (!nft) return std::unexpected(nft.error());
  auto j = loadHere(path);
  if (!j) return std::unexpected(j.error());
  if (!*j || !(*j)->pending || (*j)->pending->token != token) return false;
  auto done = rollbackPending(*nft, path, **j);
  if (!done) return std::unexpected(done.error());
  return true;
}

}  // namespace vnf::fw
