#include "stats_server.h"

#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/core.h>

namespace vnf::fwd {
namespace {

// Writes all of text; gives up on a client that does not read (non-blocking socket).
void writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  for (int attempts = 0; done < text.size() && attempts < 100; ++attempts) {
    const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 10);
    } else if (n < 0 && errno != EINTR) {
      return;
    }
  }
}

}  // namespace

StatsServer::~StatsServer() { close(); }

std::expected<void, Error> StatsServer::open(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return std::unexpected(
          Error(fmt::format("--stats-socket '{}' exists and is not a socket: remove it or "
                            "choose another path",
                            path)));
    }
    ::unlink(path.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(Error(fmt::format("stats socket: socket() failed: {}", std::strerror(errno))));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(
        Error(fmt::format("cannot listen on --stats-socket '{}': {}. Create its directory or "
                          "choose another path ('none' disables the socket)",
                          path, std::strerror(err))));
  }
  fd_ = fd;
  path_ = path;
  return {};
}

void StatsServer::serve(int wait_ms, const std::function<std::string()>& produce) {
  if (fd_ < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    return;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, wait_ms) <= 0) return;
  while (true) {
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return;
    writeAll(client, produce() + "\n");
    ::close(client);
  }
}

void StatsServer::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
    fd_ = -1;
  }
}

}  // namespace vnf::fwd
