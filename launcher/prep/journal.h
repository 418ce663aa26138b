// The prepare journal: every object `vnfctl prepare` changed, with its state before the first change,
// so `vnfctl unprepare` restores the host exactly. One entry per object; a rerun that changes an object
// again keeps the first original. Saved atomically (write, fsync, rename) after every change.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "prep/steps.h"

namespace vnf::prep {

struct JournalEntry {
  Step step;          // step.from is the ORIGINAL state; step.to the last state applied
  bool done = false;  // false: the change was started but not confirmed (interrupted)
};

struct Journal {
  std::string path;
  std::vector<JournalEntry> entries;  // in the order first changed

  // Missing file: an empty journal. A corrupt file is an error (never guessed around).
  static Result<Journal> load(const std::string& path);
  Result<void> save() const;
  // Removes the file (after a full unprepare).
  Result<void> remove() const;

  JournalEntry* find(const Step& step);
  bool empty() const { return entries.empty(); }
};

}  // namespace vnf::prep
