#include "host/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vnf {
namespace {

constexpr int kMaxLinkHops = 40;  // as the kernel's MAXSYMLINKS
constexpr std::size_t kMaxFileBytes = 16u << 20;

// Splits "/a/b/../c" into components, dropping "" and ".".
std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    auto part = path.substr(i, j - i);
    if (!part.empty() && part != ".") out.emplace_back(part);
    i = j + 1;
  }
  return out;
}

Error errnoError(int err, std::string_view path, std::string_view what) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: return {Errc::kNotFound, fmt::format("{} does not exist", path), {}};
    case EACCES:
    case EPERM:
      return {Errc::kUnreadable, fmt::format("cannot {} {}: permission denied", what, path), "run vnfctl as root"};
    case ELOOP:
      return {Errc::kSymlinkLoop, fmt::format("cannot {} {}: too many levels of symbolic links", what, path),
              "repair the symbolic link loop in the host tree"};
    default: return {Errc::kUnreadable, fmt::format("cannot {} {}: {}", what, path, std::strerror(err)), {}};
  }
}

}  // namespace

Result<HostFs> HostFs::open(const std::filesystem::path& root) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(root, ec);
  if (ec)
    return fail(Errc::kNotFound, fmt::format("host root '{}' is not a usable path: {}", root.string(), ec.message()));
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    return fail(Errc::kInvalidArgument, fmt::format("host root '{}' does not exist", root.string()),
                "give --host-root a directory made by 'vnfctl snapshot', or omit it to read this host");
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::kInvalidArgument, fmt::format("host root '{}' is not a directory", root.string()),
                "give --host-root a directory made by 'vnfctl snapshot' (extract a tarball first)");
  }
  auto normal = abs.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return HostFs(normal);
}

HostFs::HostFs(std::filesystem::path root) : root_(std::move(root)), dir_fds_(std::make_unique<DirFds>()) {
  root_prefix_ = root_ == "/" ? "" : root_.string();
}

HostFs::~HostFs() = default;

HostFs::DirFds::~DirFds() { clear(); }

void HostFs::DirFds::clear() {
  for (auto& slot : slots) {
    if (slot.fd >= 0) ::close(slot.fd);
    slot = Slot{};
  }
}

void HostFs::startRecording() {
  log_ = std::make_shared<AccessLog>();
  // Links behind cached directories must be walked again to be recorded.
  dir_cache_.clear();
  real_dirs_.clear();
  dir_fds_->clear();
}

std::string HostFs::real(const std::string& host_path) const { return root_prefix_ + host_path; }

Result<std::string> HostFs::walk(std::string resolved, std::vector<std::string> todo, std::string_view path,
                                 bool follow_last) const {
  std::reverse(todo.begin(), todo.end());  // pop from the back
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == "..") {
      auto slash = resolved.rfind('/');
      resolved = slash == std::string::npos ? "" : resolved.substr(0, slash);
      continue;
    }
    std::string next = resolved + "/" + part;
    if (!todo.empty() && real_dirs_.contains(next)) {
      resolved = std::move(next);
      continue;
    }
    struct stat st {};
    if (::lstat(real(next).c_str(), &st) != 0) return std::unexpected(errnoError(errno, path, "read"));
    if (S_ISDIR(st.st_mode)) real_dirs_.insert(next);
    if (S_ISLNK(st.st_mode) && (follow_last || !todo.empty())) {
      if (++hops > kMaxLinkHops) return std::unexpected(errnoError(ELOOP, path, "read"));
      char buf[4096];
      auto n = ::readlink(real(next).c_str(), buf, sizeof buf - 1);
      if (n < 0) return std::unexpected(errnoError(errno, path, "read"));
      std::string target(buf, static_cast<std::size_t>(n));
      if (log_) log_->links[next] = target;
      if (!target.empty() && target.front() == '/') resolved.clear();  // absolute: from the root
      auto parts = components(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
      continue;
    }
    resolved = std::move(next);
  }
  return resolved;  // "" is the root
}

Result<std::string> HostFs::resolveDir(std::string_view dir, std::string_view path) const {
  if (auto hit = dir_cache_.find(dir); hit != dir_cache_.end()) return hit->second;
  auto resolved = resolve(dir, true);
  if (!resolved) {
    // Name the path the caller asked for, not its directory.
    switch (resolved.error().code) {
      case Errc::kNotFound: return std::unexpected(errnoError(ENOENT, path, "read"));
      case Errc::kSymlinkLoop: return std::unexpected(errnoError(ELOOP, path, "read"));
      default: return std::unexpected(resolved.error());
    }
  }
  std::string value = *resolved == "/" ? "" : *resolved;
  dir_cache_.emplace(std::string(dir), value);
  return value;
}

Result<std::string> HostFs::resolve(std::string_view path, bool follow_last) const {
  auto comps = components(path);
  if (comps.empty()) return std::string("/");
  std::string parent_resolved;
  if (comps.size() > 1 && std::find(comps.begin(), comps.end(), "..") == comps.end()) {
    // Resolve (and cache) the parent directory once; then only the last component is walked.
    std::string parent_key;
    for (std::size_t i = 0; i + 1 < comps.size(); ++i) parent_key += "/" + comps[i];
    auto parent = resolveDir(parent_key, path);
    if (!parent) return std::unexpected(parent.error());
    parent_resolved = std::move(*parent);
    comps.erase(comps.begin(), comps.end() - 1);
  }
  auto out = walk(std::move(parent_resolved), std::move(comps), path, follow_last);
  if (!out) return out;
  return out->empty() ? std::string("/") : *out;
}

std::optional<Result<HostFs::Located>> HostFs::locate(std::string_view path) const {
  auto slash = path.rfind('/');
  if (path.empty() || path.front() != '/' || slash == 0 || slash + 1 == path.size()) return std::nullopt;
  if (path.find("//") != std::string_view::npos || path.find("/./") != std::string_view::npos ||
      path.find("/../") != std::string_view::npos || path.ends_with("/.") || path.ends_with("/..")) {
    return std::nullopt;
  }
  const std::string_view dir = path.substr(0, slash);
  const std::string_view name = path.substr(slash + 1);
  auto& fds = *dir_fds_;
  DirFds::Slot* slot = nullptr;
  for (auto& s : fds.slots) {
    if (s.fd >= 0 && s.key == dir) slot = &s;
  }
  std::string parent;
  if (slot) {
    auto hit = dir_cache_.find(dir);
    parent = hit->second;
  } else {
    auto resolved = resolveDir(dir, path);
    if (!resolved) return Result<Located>(std::unexpected(resolved.error()));
    parent = std::move(*resolved);
    int fd = ::open(real(parent.empty() ? "/" : parent).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;  // let the slow path report it
    slot = &fds.slots[0];
    for (auto& s : fds.slots) {
      if (s.used < slot->used) slot = &s;
    }
    if (slot->fd >= 0) ::close(slot->fd);
    slot->key = std::string(dir);
    slot->fd = fd;
  }
  slot->used = ++fds.clock;
  return Result<Located>(Located{parent + "/" + std::string(name), slot->fd, name});
}

Result<std::string> HostFs::readText(std::string_view path) const {
  // Fast path: the parent is resolved from the cache and the file is opened without following a
  // final link; only a link (ELOOP from O_NOFOLLOW) takes the full walk.
  std::string resolved;
  int fd = -1;
  if (auto at = locate(path)) {
    if (!*at) return std::unexpected(at->error());
    resolved = std::move((*at)->resolved);
    fd = ::openat((*at)->dir_fd, std::string((*at)->name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno != ELOOP) return std::unexpected(errnoError(errno, path, "read"));
  }
  if (fd < 0) {
    auto full = resolve(path, true);
    if (!full) return std::unexpected(full.error());
    resolved = *full;
    fd = ::open(real(resolved).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::unexpected(errnoError(errno, path, "read"));
  }
  std::string out;
  char buf[8192];
  while (true) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      if (err == EISDIR) return fail(Errc::kBadContent, fmt::format("{} is a directory, expected a file", path));
      return std::unexpected(errnoError(err, path, "read"));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    // A sysfs attribute is produced whole by one read (at most a page): a short read is its end.
    // procfs files (seq_file) may return short reads before the end, so they are read to EOF.
    if (static_cast<std::size_t>(n) < sizeof buf && resolved.starts_with("/sys/")) break;
    if (out.size() > kMaxFileBytes) {
      ::close(fd);
      return fail(Errc::kBadContent,
                  fmt::format("{} is larger than {} MiB, which no sysfs or procfs file is", path, kMaxFileBytes >> 20));
    }
  }
  ::close(fd);
  if (log_) log_->files[resolved] = out;
  return out;
}

Result<std::string> HostFs::readLinkTarget(std::string_view path) const {
  // The link itself is not followed: resolve its parent, read it, and join the target lexically
  // (sysfs link targets are canonical, and ".." never climbs above the root).
  std::string link;
  char buf[4096];
  ssize_t n = -1;
  if (auto at = locate(path)) {
    if (!*at) return std::unexpected(at->error());
    link = std::move((*at)->resolved);
    n = ::readlinkat((*at)->dir_fd, std::string((*at)->name).c_str(), buf, sizeof buf - 1);
  } else {
    auto slow = resolve(path, false);
    if (!slow) return std::unexpected(slow.error());
    link = std::move(*slow);
    n = ::readlink(real(link).c_str(), buf, sizeof buf - 1);
  }
  if (n < 0) {
    if (errno == EINVAL) return fail(Errc::kBadContent, fmt::format("{} is not a symbolic link", path));
    return std::unexpected(errnoError(errno, path, "read"));
  }
  std::string text(buf, static_cast<std::size_t>(n));
  if (log_) log_->links[link] = text;
  std::string joined = text.starts_with('/') ? "" : std::filesystem::path(link).parent_path().string();
  if (joined == "/") joined.clear();
  for (const auto& part : components(text)) {
    if (part == "..") {
      auto slash = joined.rfind('/');
      joined = slash == std::string::npos ? "" : joined.substr(0, slash);
    } else {
      joined += "/" + part;
    }
  }
  return joined.empty() ? std::string("/") : joined;
}

Result<std::vector<std::string>> HostFs::listDir(std::string_view path) const {
  std::string resolved;
  int fd = -1;
  if (auto at = locate(path)) {
    if (!*at) return std::unexpected(at->error());
    resolved = std::move((*at)->resolved);
    fd = ::openat((*at)->dir_fd, std::string((*at)->name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno != ELOOP && errno != ENOTDIR) return std::unexpected(errnoError(errno, path, "list"));
  }
  if (fd < 0) {
    auto full = resolve(path, true);
    if (!full) return std::unexpected(full.error());
    resolved = *full;
    fd = ::open(real(resolved).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::unexpected(errnoError(errno, path, "list"));
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return std::unexpected(errnoError(err, path, "list"));
  }
  std::vector<std::string> names;
  while (auto* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (log_) log_->dirs[resolved] = names;
  return names;
}

PathKind HostFs::kind(std::string_view path) const {
  auto resolved = resolve(path, true);
  if (!resolved) return PathKind::kMissing;
  struct stat st {};
  if (::lstat(real(*resolved).c_str(), &st) != 0) return PathKind::kMissing;
  PathKind k = S_ISREG(st.st_mode) ? PathKind::kFile : S_ISDIR(st.st_mode) ? PathKind::kDirectory : PathKind::kOther;
  if (log_) {
    if (k == PathKind::kDirectory) {
      log_->dirs.try_emplace(*resolved);
    } else {
      log_->present[*resolved] = true;
    }
  }
  return k;
}

}  // namespace vnf
