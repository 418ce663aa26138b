// Internal to discovery: typed reads of host files that record fallbacks as notes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "discovery/topology.h"
#include "host/host_fs.h"

namespace vnf::detail {

class Reader {
 public:
  Reader(const HostFs& fs, std::vector<DiscoveryNote>& notes) : fs_(fs), notes_(notes) {}

  const HostFs& fs() const { return fs_; }
  void note(std::string path, std::string message) { notes_.push_back({std::move(path), std::move(message)}); }

  // A CPU list that must parse (the host's shape depends on it).
  Result<std::vector<int>> requiredCpuList(const std::string& path) const;
  // A CPU list that may be missing (-> empty, no note) or garbage (-> empty, with a note).
  std::vector<int> optionalCpuList(const std::string& path);
  // An integer in [min, kMaxInt] that must parse (ids are cast to int: no value may wrap).
  Result<std::int64_t> requiredInt(const std::string& path, std::int64_t min) const;
  // An integer in [min, max]; missing or garbage gives `fallback` (garbage adds a note). `max`
  // defaults to INT32_MAX so a value cast to int never wraps (sriov_numvfs 4294967295 is garbage).
  std::int64_t optionalInt(const std::string& path, std::int64_t min, std::int64_t fallback, bool note_missing,
                           std::int64_t max = kMaxInt);
  // Text, and the error when it cannot be read (missing included), with a note naming the file.
  Result<std::string> textOrNote(const std::string& path, std::string_view assumed);

  static constexpr std::int64_t kMaxInt = 2147483647;
  // Trimmed text; missing gives "" without a note.
  std::string optionalText(const std::string& path);

 private:
  const HostFs& fs_;
  std::vector<DiscoveryNote>& notes_;
};

Error badContent(const std::string& path, std::string_view expected, std::string_view found);

// Discovery passes, each filling its part of the topology.
Result<void> discoverCpus(Reader& r, HostTopology& host);
Result<void> discoverNuma(Reader& r, HostTopology& host);
void discoverHugetlbfs(Reader& r, HostTopology& host);
void discoverPci(Reader& r, HostTopology& host);

}  // namespace vnf::detail
