#include "common/file_io.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace vnf {
namespace {

namespace fs = std::filesystem;

std::string folderOf(const std::string& path) {
  auto parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::string sizeText(std::uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} bytes ({} MiB)", bytes, bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} bytes ({} KiB)", bytes, bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

Error notRegular(const std::string& path, std::string_view what, mode_t mode) {
  std::string fix = S_ISDIR(mode) ? fmt::format("give the path of a file inside it (ls {})", path)
                                  : "give the path of a regular file; vnfctl does not read pipes, devices or sockets, "
                                    "which can block it or feed it without end";
  return Error{Errc::kInvalidArgument, fmt::format("{} {} is {}, not a regular file", what, path, fileKindName(mode)),
               fix};
}

Error openError(const std::string& path, std::string_view what, int err) {
  switch (err) {
    case ENOENT:
      return Error{Errc::kInvalidArgument, fmt::format("{} {} does not exist", what, path),
                   fmt::format("check the path: ls -l {}", folderOf(path))};
    case EACCES:
    case EPERM:
      return Error{Errc::kInvalidArgument, fmt::format("cannot read {} {}: permission denied", what, path),
                   fmt::format("make it and its folders readable for this user (namei -l {}), or run as root", path)};
    case ENOTDIR:
      return Error{Errc::kInvalidArgument,
                   fmt::format("cannot read {} {}: a part of the path is not a folder", what, path),
                   fmt::format("check the path: namei -l {}", path)};
    case ELOOP:
      return Error{Errc::kInvalidArgument,
                   fmt::format("cannot read {} {}: too many levels of symbolic links", what, path),
                   fmt::format("check the links: namei -l {}", path)};
    case EISDIR: return notRegular(path, what, S_IFDIR);
    default:
      return Error{Errc::kUnreadable, fmt::format("cannot read {} {}: {}", what, path, std::strerror(err)),
                   "check the disk and the file: dmesg | tail"};
  }
}

// The error for a failed write step on `path` (the target; `folder` holds it).
// Opens a regular file for reading, refusing anything else before it is opened (opening a FIFO, a
// socket or some devices, a watchdog, already does something) and again after (the path may have
// been swapped between stat and open). `st` is what was opened.
Result<Fd> openRegular(const std::string& path, std::string_view what, struct stat& st) {
  if (::stat(path.c_str(), &st) != 0) return std::unexpected(openError(path, what, errno));
  if (!S_ISREG(st.st_mode)) return std::unexpected(notRegular(path, what, st.st_mode));
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(openError(path, what, errno));
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(openError(path, what, errno));
  if (!S_ISREG(st.st_mode)) return std::unexpected(notRegular(path, what, st.st_mode));
  return fd;
}

Error writeError(const std::string& path, int err, std::size_t bytes) {
  const auto folder = folderOf(path);
  switch (err) {
    case EROFS:
      return Error{Errc::kIo, fmt::format("cannot write {}: the filesystem holding {} is read-only", path, folder),
                   "write to a folder on a writable filesystem (findmnt -T " + folder + " shows the mount)"};
    case ENOSPC:
      return Error{Errc::kIo,
                   fmt::format("cannot write {}: no space left on the filesystem holding {} ({} to write)", path,
                               folder, sizeText(bytes)),
                   fmt::format("free space there (df -h {}) or write to another folder", folder)};
    case EDQUOT:
      return Error{Errc::kIo,
                   fmt::format("cannot write {}: disk quota exceeded on the filesystem holding {} ({} to write)", path,
                               folder, sizeText(bytes)),
                   fmt::format("free space within the quota (quota -s) or write to another folder")};
    case EACCES:
    case EPERM:
      return Error{Errc::kIo, fmt::format("cannot write {}: permission denied in folder {}", path, folder),
                   fmt::format("write to a folder this user may write (ls -ld {}), or run as root", folder)};
    case ENOENT:
    case ENOTDIR:
      return Error{Errc::kIo, fmt::format("cannot write {}: folder {} does not exist", path, folder),
                   fmt::format("create it first: mkdir -p {}", folder)};
    case EIO:
      return Error{Errc::kIo, fmt::format("cannot write {}: input/output error", path), "check the disk: dmesg | tail"};
    default: return Error{Errc::kIo, fmt::format("cannot write {}: {}", path, std::strerror(err)), ""};
  }
}

}  // namespace

Result<void> checkWriteTarget(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};  // absent (or unreachable: open reports why)
  if (S_ISREG(st.st_mode)) return {};
  std::string fix =
      "give a new file name or the path of a regular file; vnfctl replaces files by rename and never "
      "writes through links or into folders, pipes or devices";
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    auto target = fs::read_symlink(path, ec);
    return fail(Errc::kInvalidArgument,
                fmt::format("{} is a symbolic link{}; vnfctl does not write through links", path,
                            ec ? "" : " to " + target.string()),
                ec ? fix : fmt::format("give the link's target as the path, or remove the link: rm {}", path));
  }
  if (S_ISCHR(st.st_mode) && path == "/dev/null") {
    fix = "to discard the output, write to stdout and redirect it: > /dev/null";
  }
  return fail(Errc::kInvalidArgument, fmt::format("{} is {}, not a regular file", path, fileKindName(st.st_mode)), fix);
}

namespace {

Result<void> writeAll(int fd, std::string_view content, const std::string& path) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(writeError(path, errno, content.size()));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Writes, syncs and closes `fd` (a new file at `written`); removes `written` on failure.
Result<void> fillNewFile(Fd& fd, const std::string& written, const std::string& path, std::string_view content,
                         mode_t mode) {
  auto ok = writeAll(fd.get(), content, path);
  if (ok && ::fchmod(fd.get(), mode) != 0) ok = std::unexpected(writeError(path, errno, content.size()));
  if (ok && ::fsync(fd.get()) != 0) ok = std::unexpected(writeError(path, errno, content.size()));
  if (fd.close() != 0 && ok) ok = std::unexpected(writeError(path, errno, content.size()));
  if (!ok) ::unlink(written.c_str());
  return ok;
}

std::string randomSuffix() {
  unsigned long long r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) r = static_cast<unsigned long long>(::getpid());
  return fmt::format("{:016x}", r);
}

}  // namespace

std::string fileKindName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

Result<std::string> readUserFile(const std::string& path, std::uint64_t max_bytes, std::string_view what) {
  struct stat st {};
  auto opened = openRegular(path, what, st);
  if (!opened) return std::unexpected(opened.error());
  Fd fd = std::move(*opened);
  auto tooBig = [&](std::uint64_t size, bool at_least) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} {} is {}{}, the limit is {}", what, path, at_least ? "more than " : "", sizeText(size),
                            sizeText(max_bytes)),
                fmt::format("check that {} is the right file; a {} is a small text file", path, what));
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return tooBig(static_cast<std::uint64_t>(st.st_size), false);
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(openError(path, what, errno == EISDIR ? EIO : errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    // The size stat gave may lie (a file that grows): never hold more than max_bytes + 1.
    if (text.size() > max_bytes) return tooBig(max_bytes, true);
  }
  return text;
}

Result<std::string> readFileTail(const std::string& path, std::uint64_t max_bytes, std::string_view what) {
  struct stat st {};
  auto opened = openRegular(path, what, st);
  if (!opened) return std::unexpected(opened.error());
  Fd fd = std::move(*opened);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t from = size > max_bytes ? size - max_bytes : 0;
  std::string text(static_cast<std::size_t>(size - from), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::pread(fd.get(), text.data() + got, text.size() - got, static_cast<off_t>(from + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(openError(path, what, errno == EISDIR ? EIO : errno));
    }
    if (n == 0) break;  // truncated meanwhile
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

Result<void> writeFileSafely(const std::string& path, std::string_view content, mode_t mode) {
  if (auto ok = checkWriteTarget(path); !ok) return ok;
  const auto folder = folderOf(path);
  const auto base = fs::path(path).filename().string();
  std::string tmp;
  int raw = -1;
  for (int attempt = 0; attempt < 16 && raw < 0; ++attempt) {
    tmp = (fs::path(folder) / fmt::format(".{}.tmp-{}", base, randomSuffix())).string();
    raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0 && errno != EEXIST) return std::unexpected(writeError(path, errno, content.size()));
  }
  if (raw < 0) return std::unexpected(writeError(path, EEXIST, content.size()));
  Fd fd(raw);
  if (auto ok = fillNewFile(fd, tmp, path, content, mode); !ok) return ok;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EISDIR) return checkWriteTarget(path);  // became a folder meanwhile
    return std::unexpected(writeError(path, err, content.size()));
  }
  // The rename is durable only once the folder is synced. The file is in place by now, so only an
  // I/O error is worth reporting (some filesystems refuse fsync on folders with EINVAL).
  Fd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0 && ::fsync(dir.get()) != 0 && errno == EIO) {
    return fail(Errc::kIo, fmt::format("wrote {} but syncing folder {} failed: input/output error", path, folder),
                "check the disk (dmesg | tail); the file may not survive a crash");
  }
  return {};
}

Result<void> createNewFile(const std::string& path, std::string_view content, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    int err = errno;
    if (err != EEXIST) return std::unexpected(writeError(path, err, content.size()));
    if (auto ok = checkWriteTarget(path); !ok) return ok;
    return fail(Errc::kConflict, fmt::format("{} already exists", path), "write to a new folder");
  }
  return fillNewFile(fd, path, path, content, mode);
}

namespace {

Result<void> stdoutError(int err) {
  if (err == EPIPE) return {};  // the reader stopped reading: end quietly
  if (err == ENOSPC) {
    return fail(Errc::kIo, "cannot write the output to stdout: no space left on the device it goes to",
                "free space there (df -h), or send the output elsewhere");
  }
  return fail(Errc::kIo,
              fmt::format("cannot write the output to stdout: {}", err ? std::strerror(err) : "write failed"),
              "check where stdout goes (a full disk, a closed file, a failing device)");
}

}  // namespace

Result<void> flushStdout() {
  errno = 0;
  if (std::fflush(stdout) == 0) return {};
  int err = errno;
  std::clearerr(stdout);
  return stdoutError(err);
}

Result<void> writeStdout(std::string_view text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
    int err = errno;
    std::clearerr(stdout);
    return stdoutError(err);
  }
  return flushStdout();
}

Result<void> checkBootFile(const std::string& path, std::string_view what, std::uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    auto e = openError(path, what, errno);
    e.code = Errc::kInvalidArgument;
    return std::unexpected(e);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} {} is {}, not a regular file", what, path, fileKindName(st.st_mode)),
                "give the path of the image file itself; QEMU needs a regular file to boot from");
  }
  if (max_bytes > 0 && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} {} is {} MiB, over the limit of {} MiB for a kernel or initrd", what, path,
                            static_cast<std::uint64_t>(st.st_size) >> 20, max_bytes >> 20),
                "give the kernel and initrd themselves (a whole disk image goes in guest.disk)");
  }
  return {};
}

}  // namespace vnf
