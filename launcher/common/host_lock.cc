#include "common/host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/file_io.h"

namespace vnf {

Result<HostLock> HostLock::acquire(const std::string& path, std::chrono::milliseconds wait, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  // Not through a link, and only a regular file: the lock file gets our pid written into it.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ELOOP) {
    if (auto ok = checkWriteTarget(path); !ok) return std::unexpected(ok.error());
  }
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot open the {} lock {}: {}", what, path, std::strerror(errno)), "run as root");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (auto ok = checkWriteTarget(path); !ok) return std::unexpected(ok.error());
    return fail(Errc::kIo, fmt::format("the {} lock {} is not a regular file", what, path), fmt::format("remove it: rm {}", path));
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      ::close(fd);
      return fail(Errc::kIo, fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return fail(Errc::kConflict,
                  fmt::format("another vnfctl {} (pid {}) holds the host lock {}; waited {} ms", what, holder, path,
                              wait.count()),
                  "wait for it to finish and run again (the lock is released when that process exits)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return HostLock(fd);
}

HostLock::~HostLock() { release(); }

void HostLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
  fd_ = -1;
}

}  // namespace vnf
