// All reads of the host go through one HostFs, rooted at a directory ("/" for the live host, or a
// captured snapshot of another host). Paths are host paths ("/sys/bus/pci/devices"); symbolic links
// are followed inside the root, as chroot would: an absolute link target is taken relative to the
// root, and ".." never climbs above it. So a snapshot cannot make discovery read the real host.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/error.h"

namespace vnf {

// What a HostFs read, so `vnfctl snapshot` can capture exactly those files.
struct AccessLog {
  std::map<std::string, std::string> files;              // resolved host path -> content read
  std::map<std::string, std::string> links;              // host path of a symlink -> its target, verbatim
  std::map<std::string, std::vector<std::string>> dirs;  // resolved directory -> names listed (or none)
  std::map<std::string, bool> present;                   // resolved host path of a non-regular file seen to exist
};

enum class PathKind { kMissing, kFile, kDirectory, kOther };

class HostFs {
 public:
  HostFs(HostFs&&) noexcept = default;
  HostFs& operator=(HostFs&&) noexcept = default;
  HostFs(const HostFs&) = delete;
  HostFs& operator=(const HostFs&) = delete;
  ~HostFs();

  // Fails when `root` does not exist or is not a directory.
  static Result<HostFs> open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  bool isLiveHost() const { return root_ == "/"; }

  // Whole content of a file (sysfs and procfs files report size 0, so this reads until EOF).
  // Files larger than 16 MiB are refused.
  Result<std::string> readText(std::string_view path) const;
  // Target of a symbolic link, resolved inside the root, as a host path ("/sys/devices/...").
  Result<std::string> readLinkTarget(std::string_view path) const;
  // Names in a directory, sorted; "." and ".." excluded.
  Result<std::vector<std::string>> listDir(std::string_view path) const;
  // Whether a path exists (after following links), and what it is.
  PathKind kind(std::string_view path) const;
  bool exists(std::string_view path) const { return kind(path) != PathKind::kMissing; }

  // Starts recording every access into a log (see AccessLog).
  void startRecording();
  const AccessLog* accessLog() const { return log_.get(); }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Open O_PATH descriptors of the directories used last. Discovery reads a directory's files
  // together, so a few slots let each read walk one path component in the kernel, not the whole path.
  struct DirFds {
    static constexpr std::size_t kSlots = 8;
    struct Slot {
      std::string key;
      int fd = -1;
      std::uint64_t used = 0;
    };
    std::array<Slot, kSlots> slots;
    std::uint64_t clock = 0;
    ~DirFds();
    void clear();
  };
  // A plain path split into its parent (resolved, opened) and its last component.
  struct Located {
    std::string resolved;  // resolved parent + "/" + name (the last component itself not followed)
    int dir_fd = -1;
    std::string_view name;
  };

  explicit HostFs(std::filesystem::path root);
  // Resolves a host path, following links inside the root. With `follow_last` false the final
  // component is not followed (to read a link itself). Returns the resolved host path.
  Result<std::string> resolve(std::string_view path, bool follow_last) const;
  // The resolved host path of a directory given by a plain path, from the cache when possible.
  Result<std::string> resolveDir(std::string_view dir, std::string_view path) const;
  // For plain paths (no ".", "..", "//"): parent resolved and opened; nullopt for other paths.
  std::optional<Result<Located>> locate(std::string_view path) const;
  // Walks `todo` components from an already resolved host path ("" for the root).
  Result<std::string> walk(std::string resolved, std::vector<std::string> todo, std::string_view path,
                           bool follow_last) const;
  std::string real(const std::string& host_path) const;  // host path -> path on this machine

  std::filesystem::path root_;
  std::string root_prefix_;  // root_ without a trailing slash ("" for "/")
  // Resolved directories, so each file read costs one lookup, not one per path component.
  mutable std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> dir_cache_;
  mutable std::unique_ptr<DirFds> dir_fds_;
  // Resolved paths already seen to be directories, not links: walks skip their lstat.
  mutable std::unordered_set<std::string, StringHash, std::equal_to<>> real_dirs_;
  std::shared_ptr<AccessLog> log_;
};

}  // namespace vnf
