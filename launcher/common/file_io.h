// Reading the files a user names and writing every file vnfctl makes, so that neither can hurt the
// machine: a pipe, a device or a huge file is refused before it is read; a write never goes through
// a link or into a device, never leaves half a file, and a full or read-only filesystem is an error
// naming the path and the cause (docs/cli.md, "Files vnfctl reads and writes").
#pragma once

#include <unistd.h>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vnf {

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s own error (NFS reports write errors there).
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// "a regular file", "a directory", "a FIFO (named pipe)", "a character device", ... for st_mode.
std::string fileKindName(mode_t mode);

// Reads the whole of a file the user named (a spec, a template). The path may be a link to a
// regular file; anything else (a directory, a FIFO, a device such as /dev/zero, a socket) is refused
// before it is opened. A file over `max_bytes` is refused, also when it grows while being read.
// `what` names the file in messages ("VNF spec"). Errors: kInvalidArgument for a path the user
// must change (missing, not a regular file, too big, permission denied), kUnreadable for a read
// error (EIO).
Result<std::string> readUserFile(const std::string& path, std::uint64_t max_bytes, std::string_view what);

// The last `max_bytes` of a file that grows while vnfctl reads it (a guest's serial log), with the
// same refusals and errors as readUserFile: a FIFO, a device or a folder at the path is refused
// before it is opened, so a serial log replaced by a named pipe never blocks a reader.
Result<std::string> readFileTail(const std::string& path, std::uint64_t max_bytes, std::string_view what);

// Replaces `path` with `content` (mode `mode`, umask not applied) so that a reader sees the old
// file or the new one, never a part: a temporary file is created next to it with
// O_CREAT|O_EXCL|O_NOFOLLOW, written, fsync'ed and renamed over `path`, then the folder is synced.
// A `path` that exists and is not a regular file (a symbolic link, a directory, a FIFO, a device)
// is refused with kInvalidArgument and left as it is. Write failures (EROFS, ENOSPC, EDQUOT,
// EACCES, EIO, ...) are kIo errors naming the path and the cause; the temporary file is removed on
// every failure, so nothing changed.
Result<void> writeFileSafely(const std::string& path, std::string_view content, mode_t mode);

// Refuses (kInvalidArgument, naming what it is) a `path` that exists and is not a regular file;
// the check writeFileSafely makes first, for callers that check several targets before writing any.
Result<void> checkWriteTarget(const std::string& path);

// Creates `path`, which must not exist (O_CREAT|O_EXCL|O_NOFOLLOW), with `content`. For files inside
// a folder vnfctl has just made (a snapshot). Errors as writeFileSafely; the partial file is removed.
Result<void> createNewFile(const std::string& path, std::string_view content, mode_t mode);

// Writes a command's output document to stdout and flushes it. A full disk (ENOSPC), EIO or any
// other write error is a kIo error. A reader that went away (EPIPE: `vnfctl host --json | head -1`;
// SIGPIPE is ignored in main.cc) is not an error: the output is cut short quietly and the result
// is success, as with any filter whose reader stopped reading.
Result<void> writeStdout(std::string_view text);
// Flushes what was printed to stdout with printf; errors as writeStdout.
Result<void> flushStdout();

// Checks that a boot file named in a spec (kernel, initrd, disk) is a regular file after following
// links, without reading it. `what` is its name in the spec ("guest.kernel"). kInvalidArgument
// when it is missing, not reachable, not a regular file, or larger than `max_bytes` (0: no limit).
inline constexpr std::uint64_t kMaxBootFileBytes = 1ull << 30;  // a kernel or initrd: 1 GiB
Result<void> checkBootFile(const std::string& path, std::string_view what, std::uint64_t max_bytes = 0);

}  // namespace vnf
