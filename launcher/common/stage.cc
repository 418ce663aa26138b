#include "common/stage.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "common/file_io.h"
#include "common/hash_cache.h"
#include "common/sha256.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

// The user's primary and supplementary groups (getgrouplist), so group bits count as the kernel does.
std::vector<gid_t> groupsOf(uid_t uid, gid_t gid) {
  std::vector<gid_t> groups{gid};
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return groups;
  int n = 64;
  std::vector<gid_t> list(n);
  if (::getgrouplist(pw.pw_name, gid, list.data(), &n) < 0) {
    list.resize(n);
    if (::getgrouplist(pw.pw_name, gid, list.data(), &n) < 0) return groups;
  }
  list.resize(n);
  return list;
}

// Whether mode bits give `want` (4 read, 1 search) to uid/groups, as the kernel decides: owner
// bits for the owner, else group bits for a member, else other bits.
bool allowed(const struct stat& st, uid_t uid, const std::vector<gid_t>& groups, unsigned want) {
  if (st.st_uid == uid) return ((st.st_mode >> 6) & want) == want;
  if (std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()) return ((st.st_mode >> 3) & want) == want;
  return (st.st_mode & want) == want;
}

std::string denial(const std::string& what, const std::string& path, const struct stat& st) {
  return fmt::format("{} {} is mode {:04o}, owner uid {} gid {}", what, path, st.st_mode & 07777, st.st_uid, st.st_gid);
}

// Checks each folder from / down to the file along `path` (absolute), then the file.
std::string walk(const fs::path& path, uid_t uid, const std::vector<gid_t>& groups) {
  fs::path at = "/";
  for (auto it = path.begin(); it != path.end(); ++it) {
    if (*it == "/") continue;
    struct stat st {};
    if (::stat(at.c_str(), &st) != 0) return fmt::format("cannot stat {}: {}", at.string(), std::strerror(errno));
    if (!allowed(st, uid, groups, 1)) return denial("folder", at.string(), st);
    at /= *it;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fmt::format("cannot stat {}: {}", path.string(), std::strerror(errno));
  if (!allowed(st, uid, groups, 4)) return denial("file", path.string(), st);
  return "";
}

Error stageError(const std::string& what, const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Error{Errc::kIo, fmt::format("cannot {} {}: no space left", what, path),
                 fmt::format("free space (df -h {})", fs::path(path).parent_path().string())};
  }
  if (err == EROFS) {
    return Error{Errc::kIo, fmt::format("cannot {} {}: read-only filesystem", what, path),
                 "give a stage folder on a writable filesystem"};
  }
  return Error{Errc::kIo, fmt::format("cannot {} {}: {}", what, path, std::strerror(err)),
               "run as root (the stage folder is root's), or make the file readable for QEMU's user"};
}

// mkdir -p with mode 0755 on every folder it makes; refuses a link or a non-folder on the way.
Result<void> makeFolders(const fs::path& dir) {
  fs::path at;
  for (const auto& part : dir) {
    at /= part;
    struct stat st {};
    if (::lstat(at.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      if (S_ISLNK(st.st_mode)) {
        struct stat target {};
        if (::stat(at.c_str(), &target) == 0 && S_ISDIR(target.st_mode)) continue;  // /var -> /srv/var is fine
      }
      return fail(Errc::kIo,
                  fmt::format("cannot create folder {}: {} is {}", dir.string(), at.string(), fileKindName(st.st_mode)),
                  fmt::format("remove it or give another stage folder: ls -ld {}", at.string()));
    }
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST)
      return std::unexpected(stageError("create folder", at.string(), errno));
    ::chmod(at.c_str(), 0755);  // whatever the umask
  }
  return {};
}

void syncFolder(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

// Copies `src` into a new temporary file in `dir` while hashing it. Returns the digest; `tmp` names
// the file (removed on failure).
Result<std::string> copyHashing(const std::string& src, const fs::path& dir, std::string& tmp) {
  Fd in(::open(src.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (in.get() < 0) return std::unexpected(stageError("read", src, errno));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(Errc::kInvalidArgument, fmt::format("boot file {} is not a regular file (any more)", src),
                "give the path of the image file itself");
  }
  unsigned long long r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) r = static_cast<unsigned long long>(::getpid());
  tmp = (dir / fmt::format(".stage-{:016x}", r)).string();
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) return std::unexpected(stageError("create a file in", dir.string(), errno));
  Sha256 sha;
  std::vector<char> buf(1 << 16);
  auto failWith = [&](const char* what, const std::string& at, int err) -> Result<std::string> {
    ::unlink(tmp.c_str());
    return std::unexpected(stageError(what, at, err));
  };
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failWith("read", src, errno);
    if (n == 0) break;
    sha.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return failWith("write a copy in", dir.string(), errno);
      done += w;
    }
  }
  if (::fchmod(out.get(), 0644) != 0 || ::fsync(out.get()) != 0 || out.close() != 0) {
    return failWith("write a copy in", dir.string(), errno);
  }
  return sha.hexDigest();
}

// Parses `key = "value"` (or `key = value`) from qemu.conf text; "" when absent or commented out.
std::string confValue(const std::string& text, const std::string& key) {
  std::string value;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    auto line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    if (line.compare(0, key.size(), key) != 0) continue;
    auto rest = line.substr(key.size());
    auto eq = rest.find_first_not_of(" \t");
    if (eq == std::string::npos || rest[eq] != '=') continue;
    auto v = rest.substr(eq + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t\r") + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    value = v;  // the last setting wins, as in libvirt
  }
  return value;
}

}  // namespace

Result<QemuIdentity> qemuIdentity(const std::string& qemu_conf) {
  std::string text;
  struct stat st {};
  if (::stat(qemu_conf.c_str(), &st) == 0) {
    auto read = readUserFile(qemu_conf, 1 << 20, "libvirt QEMU configuration");
    if (!read) return std::unexpected(read.error());
    text = *read;
  }
  QemuIdentity id;
  id.user = confValue(text, "user");
  if (id.user.empty()) id.user = "libvirt-qemu";
  std::string group = confValue(text, "group");
  if (id.user.starts_with('+')) {
    id.uid = static_cast<uid_t>(std::stoul(id.user.substr(1)));
    id.gid = 0;
  } else {
    struct passwd* pw = ::getpwnam(id.user.c_str());
    if (!pw) {
      return fail(
          Errc::kNotFound, fmt::format("QEMU's user '{}' ({}) does not exist on this host", id.user, qemu_conf),
          fmt::format("set user in {} to an existing user, or create it: adduser --system {}", qemu_conf, id.user));
    }
    id.uid = pw->pw_uid;
    id.gid = pw->pw_gid;
  }
  if (group.starts_with('+')) {
    id.gid = static_cast<gid_t>(std::stoul(group.substr(1)));
  } else if (!group.empty()) {
    struct group* gr = ::getgrnam(group.c_str());
    if (!gr) {
      return fail(Errc::kNotFound, fmt::format("QEMU's group '{}' ({}) does not exist on this host", group, qemu_conf),
                  fmt::format("set group in {} to an existing group", qemu_conf));
    }
    id.gid = gr->gr_gid;
  }
  return id;
}

std::string whyUnreadable(const std::string& path, uid_t uid, gid_t gid) {
  if (uid == 0) return "";
  const auto groups = groupsOf(uid, gid);
  std::error_code ec;
  auto abs = fs::absolute(path, ec).lexically_normal();
  if (auto why = walk(abs, uid, groups); !why.empty()) return why;
  auto real = fs::canonical(abs, ec);
  if (ec) return fmt::format("cannot resolve {}: {}", abs.string(), ec.message());
  return real == abs ? "" : walk(real, uid, groups);
}

Result<StagedFile> stageForQemu(const std::string& path, uid_t qemu_uid, gid_t qemu_gid,
                                const std::string& stage_root) {
  if (auto ok = checkBootFile(path, "boot file"); !ok) return std::unexpected(ok.error());
  std::error_code ec;
  const auto abs = fs::absolute(path, ec).lexically_normal();
  auto why = whyUnreadable(abs.string(), qemu_uid, qemu_gid);
  if (why.empty()) return StagedFile{abs.string(), false, ""};

  const fs::path root = fs::absolute(stage_root, ec).lexically_normal();
  if (auto ok = makeFolders(root); !ok) return std::unexpected(ok.error());
  if (auto root_why = whyUnreadable(root.string(), qemu_uid, qemu_gid); !root_why.empty()) {
    return fail(Errc::kIo,
                fmt::format("cannot stage {} for QEMU (uid {}): the stage folder is not reachable either: {}",
                            abs.string(), qemu_uid, root_why),
                fmt::format("give a stage folder under a path QEMU's user can search, or chmod o+x the folders "
                            "above {}",
                            root.string()));
  }
  // A copy staged before is found by the source's digest: from its hash record when the image
  // build wrote one (no read of the file at all), else by one read. The copy gets its own record
  // the first time it is reused (a new copy is too fresh for one: hash_cache.h), so checking it is
  // a stat after that; a copy that changed since is hashed again, and replaced if it differs.
  // No record is written beside the source: that folder is the user's.
  auto source = cachedSha256(abs.string(), false);
  if (!source) return std::unexpected(source.error());
  auto destFor = [&](const std::string& digest) { return root / digest / abs.filename(); };
  auto note = [&](const fs::path& dest) {
    return fmt::format("staged {} as {}: QEMU's user (uid {}) cannot read it ({})", abs.string(), dest.string(),
                       qemu_uid, why);
  };
  struct stat st {};
  if (const auto dest = destFor(source->hex); ::lstat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    if (auto staged = cachedSha256(dest.string(), true); staged && staged->hex == source->hex) {
      ::chmod(dest.c_str(), 0644);  // the same content is staged already
      return StagedFile{dest.string(), true, note(dest)};
    }
  }
  std::string tmp;
  auto digest = copyHashing(abs.string(), root, tmp);  // the source may change meanwhile: the copy's digest counts
  if (!digest) return std::unexpected(digest.error());
  const auto dir = root / *digest;
  const auto dest = dir / abs.filename();
  if (auto ok = makeFolders(dir); !ok) {
    ::unlink(tmp.c_str());
    return std::unexpected(ok.error());
  }
  if (auto target = checkWriteTarget(dest.string()); !target) {
    ::unlink(tmp.c_str());
    return std::unexpected(target.error());
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return std::unexpected(stageError("stage", dest.string(), err));
  }
  syncFolder(dir);
  syncFolder(root);
  return StagedFile{dest.string(), true, note(dest)};
}

}  // namespace vnf
