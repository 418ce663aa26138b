// The firewall journal (<state dir>/firewall-journal.json): what vnfctl's tables were before vnfctl
// first applied its firewall, so `remove` restores them exactly, and the rollback a pending
// `apply --confirm` owes. Saved atomically (common/file_io.h writeFileSafely), mode 0600.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "firewall/nft.h"

namespace vnf::fw {

// Both of vnfctl's tables (`nft list table` text; exists=false when absent).
struct Snapshot {
  TableState inet;
  TableState bridge;
  bool operator==(const Snapshot& o) const { return inet == o.inet && bridge == o.bridge; }
};

// An `apply --confirm` not yet confirmed: at `deadline_ms` the watchdog (or the next firewall
// command, should the watchdog be gone) restores `before` and puts back `previous_journal`.
struct PendingConfirm {
  std::string token;             // names this apply; a watchdog only acts on its own
  std::int64_t deadline_ms = 0;  // Unix time, milliseconds
  Snapshot before;
  std::optional<std::string> previous_journal;  // the journal file's text before this apply, if any
};

struct Journal {
  std::uint64_t netns = 0;  // inode of the network namespace it describes (/proc/self/ns/net)
  Snapshot original;        // before vnfctl's first apply: what `remove` restores
  Snapshot applied;         // as the kernel listed the tables right after the last apply
  std::string generated;    // the ruleset text of the last apply (Ruleset::text)
  // The VNF ports the last apply isolated (Ruleset::isolated_ports); nullopt in a journal written
  // before vnfctl recorded them.
  std::optional<std::vector<std::string>> isolated_ports;
  std::optional<PendingConfirm> pending;

  std::string toJson() const;
  static Result<Journal> fromJson(const std::string& text, const std::string& path);
};

inline constexpr const char* kJournalName = "firewall-journal.json";
inline constexpr std::uint64_t kMaxJournalBytes = 64ull << 20;

// The journal at `path`; nullopt when there is none. A damaged file is an error (never guessed
// around), naming the file and how to recover (docs/firewall.md).
Result<std::optional<Journal>> loadJournal(const std::string& path);
// The file's raw text (to put back on rollback); nullopt when absent.
Result<std::optional<std::string>> readJournalText(const std::string& path);
Result<void> saveJournalText(const std::string& path, const std::string& text);
// Removes the file; a missing file is fine, anything but a regular file is refused.
Result<void> removeJournal(const std::string& path);

// The inode of this process's network namespace (0 when /proc is not mounted).
std::uint64_t currentNetns();

}  // namespace vnf::fw
