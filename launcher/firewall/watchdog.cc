// spawnWatchdog: the detached process that rolls an unconfirmed apply back (firewall.h).
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/file_io.h"
#include "firewall/firewall.h"

namespace vnf::fw {

Result<void> spawnWatchdog(const std::string& self_exe, const Paths& paths, const std::string& token) {
  std::error_code ec;
  std::filesystem::create_directories(paths.state_dir, ec);
  const std::string log = paths.state_dir + "/firewall-watchdog.log";
  // O_NONBLOCK so a FIFO planted there cannot hang the open; anything but a regular file is refused.
  Fd logfd(::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (logfd.get() < 0) {
    return fail(Errc::kIo, fmt::format("cannot open the watchdog log {}: {}", log, std::strerror(errno)),
                fmt::format("check that {} is a writable folder and {} is not a link", paths.state_dir, log));
  }
  struct stat st {};
  if (::fstat(logfd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the watchdog log {} is {}, not a regular file", log, fileKindName(st.st_mode)),
                fmt::format("move {} away", log));
  }
  Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  int pipefd[2];
  if (devnull.get() < 0 || ::pipe2(pipefd, O_CLOEXEC) != 0)
    return fail(Errc::kIo, fmt::format("cannot start the firewall watchdog: {}", std::strerror(errno)));
  Fd read_end(pipefd[0]);
  Fd write_end(pipefd[1]);
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args{"vnfctl", "firewall", "watchdog", "--state-dir", paths.state_dir,
                                "--lock", paths.lock, "--token",  token};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return fail(Errc::kIo, fmt::format("cannot fork the firewall watchdog: {}", std::strerror(errno)));
  if (child == 0) {
    ::setsid();  // no controlling terminal, no signals of the caller's process group
    const pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    ::dup2(devnull.get(), 0);
    ::dup2(devnull.get(), 1);
    ::dup2(logfd.get(), 2);
    ::fcntl(2, F_SETFL, O_WRONLY | O_APPEND);
    // Whatever else is open (the lock, netlink sockets) is closed by exec.
    ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    if (::chdir("/") != 0) ::_exit(126);
    ::execv(self_exe.c_str(), argv.data());
    int err = errno;
    ssize_t ignored = ::write(write_end.get(), &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  write_end.close();
  int wstatus = 0;
  while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return fail(Errc::kIo, "cannot start the firewall watchdog: its first fork failed");
  int err = 0;
  ssize_t n;
  do {
    n = ::read(read_end.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    return fail(Errc::kIo, fmt::format("cannot start the firewall watchdog {}: {}", self_exe, std::strerror(err)),
                "the change was rolled back; apply without --confirm, or check the vnfctl binary");
  }
  return {};
}

}  // namespace vnf::fw
