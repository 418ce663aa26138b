#include "discovery/snapshot.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

fs::path under(const fs::path& base, const std::string& host_path) {
  return base / fs::path(host_path).relative_path();
}

Result<void> writeFile(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  // Inside a folder just made under a temporary name: every file is new, and a link planted there
  // meanwhile is not followed.
  return createNewFile(path.string(), content, 0644);
}

Result<SnapshotStats> writeAll(const AccessLog& log, const fs::path& tmp, const std::string& source) {
  SnapshotStats stats;
  std::error_code ec;
  for (const auto& [dir, names] : log.dirs) {
    fs::create_directories(under(tmp, dir), ec);
    if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", under(tmp, dir).string(), ec.message()));
    ++stats.dirs;
  }
  for (const auto& [path, content] : log.files) {
    if (auto ok = writeFile(under(tmp, path), content); !ok) return std::unexpected(ok.error());
    ++stats.files;
  }
  for (const auto& [path, present] : log.present) {
    if (!present || log.files.contains(path)) continue;
    if (auto ok = writeFile(under(tmp, path), ""); !ok) return std::unexpected(ok.error());
  }
  for (const auto& [path, target] : log.links) {
    auto at = under(tmp, path);
    fs::create_directories(at.parent_path(), ec);
    if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", at.parent_path().string(), ec.message()));
    if (::symlink(target.c_str(), at.c_str()) != 0 && errno != EEXIST) {
      return fail(Errc::kIo, fmt::format("cannot create link {}: {}", at.string(), std::strerror(errno)));
    }
    ++stats.links;
  }
  // Names that were listed but never read (IOMMU group members, iommu units) become placeholders.
  for (const auto& [dir, names] : log.dirs) {
    for (const auto& name : names) {
      auto at = under(tmp, dir) / name;
      if (!fs::exists(fs::symlink_status(at))) fs::create_directory(at, ec);
    }
  }
  nlohmann::ordered_json meta{{"schema", "vnfctl.snapshot/v1"},
                              {"source", source},
                              {"files", stats.files},
                              {"links", stats.links},
                              {"dirs", stats.dirs}};
  if (auto ok = writeFile(tmp / "vnfctl-snapshot.json", meta.dump(2) + "\n"); !ok) return std::unexpected(ok.error());
  return stats;
}

}  // namespace

Result<SnapshotStats> writeSnapshot(const AccessLog& log, const fs::path& out, const std::string& source) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out, ec))) {
    return fail(Errc::kInvalidArgument, fmt::format("snapshot target {} already exists", out.string()),
                "choose a new folder name, or remove the old snapshot first");
  }
  auto parent = fs::absolute(out, ec).parent_path();
  if (!fs::is_directory(parent, ec)) {
    return fail(Errc::kNotFound, fmt::format("folder {} does not exist", parent.string()),
                fmt::format("create it first: mkdir -p {}", parent.string()));
  }
  auto tmp = parent / fmt::format(".{}.partial-{}", out.filename().string(), ::getpid());
  fs::remove_all(tmp, ec);
  auto stats = writeAll(log, tmp, source);
  if (!stats) {
    fs::remove_all(tmp, ec);
    return stats;
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return fail(Errc::kIo, fmt::format("cannot rename {} to {}", tmp.string(), out.string()));
  }
  return stats;
}

}  // namespace vnf
