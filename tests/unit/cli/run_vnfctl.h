// Runs the vnfctl binary as a user does (no shell), capturing stdout and stderr.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/test_util.h"

extern char** environ;

namespace vnf::test {

struct Run {
  int code = -1;
  std::string out, err;
};

// Where the child's stdout goes: a captured file (default), a path opened for writing (/dev/full),
// or a pipe whose reading end is already closed (EPIPE on the first write).
struct Stdout {
  std::optional<std::string> path;
  bool closed_pipe = false;
};

inline Run vnfctl(std::vector<std::string> args, const Stdout& to = {}) {
  auto dir = makeTempDir("cli");
  auto out = dir / "out", err = dir / "err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int pipe_fds[2] = {-1, -1};
  if (to.closed_pipe && ::pipe(pipe_fds) == 0) {
    ::close(pipe_fds[0]);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, to.path ? to.path->c_str() : out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  args.insert(args.begin(), VNFCTL_BIN);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  Run r;
  if (posix_spawn(&pid, VNFCTL_BIN, &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (pipe_fds[1] >= 0) ::close(pipe_fds[1]);
  posix_spawn_file_actions_destroy(&actions);
  r.out = readFile(out);
  r.err = readFile(err);
  std::filesystem::remove_all(dir);
  return r;
}

inline std::string hostTree(const char* name) { return (dataDir() / "hosts" / name).string(); }

}  // namespace vnf::test
