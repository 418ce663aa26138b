// The firewall's operations: apply (optionally pending a confirm), remove, confirm, status, check,
// and the watchdog that rolls an unconfirmed apply back. Every change of the ruleset is one
// libnftables transaction, made under a host lock, with the journal saved before it, so an
// interrupted or failed run leaves the ruleset as it was (docs/firewall.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "firewall/journal.h"
#include "firewall/ruleset.h"

namespace vnf::fw {

// "HH:MM:SS UTC" of a Unix time in milliseconds, for deadlines in messages.
std::string timeOfDay(std::int64_t unix_ms);

struct Paths {
  std::string state_dir = "/var/lib/vnfctl";
  std::string lock = "/run/vnfctl/firewall.lock";
  std::chrono::milliseconds lock_wait{5000};
  std::string journal() const { return state_dir + "/" + kJournalName; }
};

// Run-time hooks of the caller (the CLI): signals and the test seam.
struct Hooks {
  std::function<bool()> interrupted;                // true once SIGINT/SIGTERM/SIGHUP arrived
  std::function<void()> after_commit;               // test seam: called right after the transaction
  std::function<void(const std::string&)> waiting;  // the lock is busy: its holder
};

struct ApplyResult {
  bool changed = false;
  std::optional<std::int64_t> deadline_ms;  // with --confirm: when the rollback happens (Unix ms)
  std::vector<std::string> notes;
};

// Makes vnfctl's tables what `ruleset` says. `confirm_seconds`: roll back at that many seconds from
// now unless `confirm` comes first (a watchdog process, `self_exe firewall watchdog ...`, does it).
// Unchanged when the tables already are what the last apply made (changed=false). Errors: kBusy
// (lock), kConflict (a confirm is pending, nft refused), kInterrupted (a signal: rolled back),
// kBadContent (damaged journal), kUnreachable (no permission).
Result<ApplyResult> apply(const Paths& paths, const Ruleset& ruleset, std::optional<int> confirm_seconds,
                          const std::string& self_exe, const Hooks& hooks);

// Restores vnfctl's tables as they were before vnfctl's first apply and removes the journal.
// changed=false when there was nothing to restore.
struct RemoveResult {
  bool changed = false;
  bool had_journal = false;
};
Result<RemoveResult> remove(const Paths& paths, const Hooks& hooks);

// Of `ports` (the VNF ports libvirt reports now), those the applied firewall does not isolate from
// the other VNF ports, each once, in order: nullopt when no firewall is applied (no journal) or its
// journal does not record them. For the note launch prints about VNFs that came after the apply.
Result<std::optional<std::vector<std::string>>> portsNotIsolated(const Paths& paths,
                                                                 const std::vector<std::string>& ports);

// Keeps the pending apply. kConflict when nothing awaits a confirm; kTimeout when the deadline
// passed (the change was rolled back).
Result<void> confirm(const Paths& paths, const Hooks& hooks);

struct Status {
  bool journal = false;
  bool current_is_applied = false;  // the tables are what the last apply made
  std::optional<std::int64_t> deadline_ms;
  Snapshot current;
  std::optional<std::vector<std::string>> isolated_ports;  // as journaled by the last apply
};
Result<Status> status(const Paths& paths);

// Checks `ruleset` with the kernel without committing (NFT_CTX_DRY_RUN), as apply would run it.
Result<void> check(const Ruleset& ruleset);

// The watchdog of a pending apply (run by `vnfctl firewall watchdog`, detached): waits for the
// deadline of `token`, exits as soon as the journal no longer has it pending, and rolls back at the
// deadline. Returns true when it rolled back.
Result<bool> watchdog(const Paths& paths, const std::string& token);

// Starts the watchdog as a detached process (its own session, stdin/stdout on /dev/null, stderr
// appended to <state dir>/firewall-watchdog.log) that outlives the caller. Nothing of the caller
// (locks, signal mask) is inherited.
Result<void> spawnWatchdog(const std::string& self_exe, const Paths& paths, const std::string& token);

}  // namespace vnf::fw
