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
    case ENOTDIR:
      return {Errc::kNotFound, fmt::format("{} does not exist", path), {}};
    case EACCES:
    case EPERM:
      return {Errc::kUnreadable, fmt::format("cannot {} {}: permission denied", what, path),
              "run vnfctl as root"};
    case ELOOP:
      return {Errc::kSymlinkLoop, fmt::format("cannot {} {}: too many levels of symbolic links", what, path),
              "repair the symbolic link loop in the host tree"};
    default:
      return {Errc::kUnreadable, fmt::format("cannot {} {}: {}", what, path, std::strerror(err)), {}};
  }
}

}  // namespace

Result<HostFs> HostFs::open(const std::filesystem::path& root) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(root, ec);
  if (ec) return fail(Errc::kNotFound, fmt::format("host root '{}' is not a usable path: {}", root.string(), ec.message()));
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
  HostFs fs{normal};
  fs.root_prefix_ = normal == "/" ? "" : normal;
  return fs;
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
    struct stat st {};
    if (::lstat(real(next).c_str(), &st) != 0) return std::unexpected(errnoError(errno, path, "read"));
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

Result<std::string> HostFs::resolve(std::string_view path, bool follow_last) const {
  auto comps = components(path);
  if (comps.empty()) return std::string("/");
  bool plain = std::find(comps.begin(), comps.end(), "..") == comps.end();
  std::string parent_resolved;
  if (plain && comps.size() > 1) {
    // Resolve (and cache) the parent directory once; then only the last component is walked.
    std::string parent_key;
    for (std::size_t i = 0; i + 1 < comps.size(); ++i) parent_key += "/" + comps[i];
    if (auto hit = dir_cache_.find(parent_key); hit != dir_cache_.end()) {
      parent_resolved = hit->second;
    } else {
      auto parent = resolve(parent_key, true);
      if (!parent) {
        // Name the path the caller asked for, not its parent.
        switch (parent.error().code) {
          case Errc::kNotFound: return std::unexpected(errnoError(ENOENT, path, "read"));
          case Errc::kSymlinkLoop: return std::unexpected(errnoError(ELOOP, path, "read"));
          default: return std::unexpected(parent.error());
        }
      }
      parent_resolved = *parent == "/" ? "" : *parent;
      dir_cache_.emplace(parent_key, parent_resolved);
    }
    comps.erase(comps.begin(), comps.end() - 1);
  }
  auto out = walk(std::move(parent_resolved), std::move(comps), path, follow_last);
  if (!out) return out;
  return out->empty() ? std::string("/") : *out;
}

Result<std::string> HostFs::readText(std::string_view path) const {
  auto resolved = resolve(path, true);
  if (!resolved) return std::unexpected(resolved.error());
  int fd = ::open(real(*resolved).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::unexpected(errnoError(errno, path, "read"));
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
    if (out.size() > kMaxFileBytes) {
      ::close(fd);
      return fail(Errc::kBadContent, fmt::format("{} is larger than {} MiB, which no sysfs or procfs file is", path,
                                                 kMaxFileBytes >> 20));
    }
  }
  ::close(fd);
  if (log_) log_->files[*resolved] = out;
  return out;
}

Result<std::string> HostFs::readLinkTarget(std::string_view path) const {
  auto link = resolve(path, false);
  if (!link) return std::unexpected(link.error());
  struct stat st {};
  if (::lstat(real(*link).c_str(), &st) != 0) return std::unexpected(errnoError(errno, path, "read"));
  if (!S_ISLNK(st.st_mode)) return fail(Errc::kBadContent, fmt::format("{} is not a symbolic link", path));
  auto target = resolve(path, true);
  if (!target) {
    // A dangling link still has a target name; resolve it lexically for the caller.
    if (target.error().code != Errc::kNotFound) return std::unexpected(target.error());
    char buf[4096];
    auto n = ::readlink(real(*link).c_str(), buf, sizeof buf - 1);
    if (n < 0) return std::unexpected(errnoError(errno, path, "read"));
    std::string text(buf, static_cast<std::size_t>(n));
    if (log_) log_->links[*link] = text;
    std::filesystem::path base = std::filesystem::path(*link).parent_path();
    auto joined = (text.front() == '/' ? std::filesystem::path(text) : base / text).lexically_normal();
    return joined.string();
  }
  return *target;
}

Result<std::vector<std::string>> HostFs::listDir(std::string_view path) const {
  auto resolved = resolve(path, true);
  if (!resolved) return std::unexpected(resolved.error());
  DIR* dir = ::opendir(real(*resolved).c_str());
  if (!dir) return std::unexpected(errnoError(errno, path, "list"));
  std::vector<std::string> names;
  while (auto* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (log_) log_->dirs[*resolved] = names;
  return names;
}

PathKind HostFs::kind(std::string_view path) const {
  auto resolved = resolve(path, true);
  if (!resolved) return PathKind::kMissing;
  struct stat st {};
  if (::stat(real(*resolved).c_str(), &st) != 0) return PathKind::kMissing;
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
