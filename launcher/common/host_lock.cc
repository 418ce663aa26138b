#include "common/host_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "common/file_io.h"

namespace vnf {
namespace {

// "pid 1234 (vnfctl launch fw.yaml)" from the lock file's "1234 vnfctl launch fw.yaml".
std::string describeHolder(int fd) {
  char buf[256] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return "an unknown process";
  auto space = text.find(' ');
  std::string pid = text.substr(0, space);
  std::string cmd = space == std::string::npos ? "" : text.substr(space + 1);
  for (char& c : cmd) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return cmd.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {} ({})", pid, cmd);
}

}  // namespace

std::string selfCommandLine() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), {});
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw) {
    if (c == '\0' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (auto slash = raw.rfind('/', raw.find(' ')); slash != std::string::npos) raw.erase(0, slash + 1);
  if (raw.size() > 200) raw = raw.substr(0, 197) + "...";
  return raw;
}

Result<HostLock> HostLock::acquire(const std::string& path, std::chrono::milliseconds wait, const std::string& what,
                                   const std::function<void(const std::string&)>& waiting, const std::string& command) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  // Not through a link, and only a regular file: the lock file gets our pid written into it.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ELOOP) {
    if (auto ok = checkWriteTarget(path); !ok) return std::unexpected(ok.error());
  }
  if (fd < 0) {
    return fail(Errc::kIo, fmt::format("cannot open the {} lock {}: {}", what, path, std::strerror(errno)),
                "run vnfctl as root (the lock lives under /run/vnfctl)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (auto ok = checkWriteTarget(path); !ok) return std::unexpected(ok.error());
    return fail(Errc::kIo, fmt::format("the {} lock {} is not a regular file", what, path),
                fmt::format("remove it: rm {}", path));
  }
  const auto start = std::chrono::steady_clock::now();
  bool told = false;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      ::close(fd);
      return fail(Errc::kIo, fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    if (!told && waiting) waiting(describeHolder(fd));
    told = true;
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= wait) {
      std::string holder = describeHolder(fd);
      ::close(fd);
      return fail(Errc::kBusy,
                  fmt::format("another vnfctl {} holds the host lock {}: {}; waited {:.0f} s", what, path, holder,
                              std::chrono::duration<double>(waited).count()),
                  "wait for it to finish and run again (the lock is released when that process exits)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto holder = fmt::format("{} {}\n", ::getpid(), command.empty() ? selfCommandLine() : command);
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, holder.data(), holder.size(), 0);
  return HostLock(fd);
}

HostLock::~HostLock() { release(); }

void HostLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
  fd_ = -1;
}

}  // namespace vnf
