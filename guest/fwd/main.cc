// vnf-fwd entry point: a list of named steps. Flags are validated before EAL
// starts; EAL arguments are everything after --eal.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>

#include "config.h"
#include "forwarder.h"
#include "logging.h"

namespace {

// The only mutable global: what a signal handler may touch.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void onSignal(int) { g_stop_requested.store(true); }

void installSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int initEal(const char* argv0, const std::vector<std::string>& eal_args) {
  std::vector<std::string> storage{argv0};
  storage.insert(storage.end(), eal_args.begin(), eal_args.end());
  std::vector<char*> args;
  for (auto& s : storage) args.push_back(s.data());
  args.push_back(nullptr);
  return rte_eal_init(static_cast<int>(storage.size()), args.data());
}

int run(const vnf::fwd::Config& config, const vnf::fwd::Loggers& loggers) {
  auto forwarder = vnf::fwd::Forwarder::create(config, loggers);
  if (!forwarder) {
    loggers.main->error("{}", forwarder.error().message);
    return 1;
  }
  if (auto started = (*forwarder)->start(); !started) {
    loggers.main->error("{}", started.error().message);
    return 1;
  }
  const std::string ready = (*forwarder)->readyLine();
  loggers.main->info("{}", ready);
  std::printf("%s\n", ready.c_str());
  std::fflush(stdout);

  while (!g_stop_requested.load()) (*forwarder)->controlTick(100);

  loggers.main->info("signal received: stopping workers");
  (*forwarder)->stop();
  const std::string summary = vnf::fwd::summaryText((*forwarder)->snapshot());
  loggers.file_only->info("{}", summary);
  std::printf("%s\n", summary.c_str());
  std::fflush(stdout);
  return 0;  // the forwarder's destructor stops and closes the ports and frees the pools
}

}  // namespace

int main(int argc, char** argv) {
  const auto outcome = vnf::fwd::parseCommandLine(argc, argv);
  if (!outcome.config) {
    std::fputs(outcome.output.c_str(), outcome.exit_code == 0 ? stdout : stderr);
    return outcome.exit_code;
  }
  const auto& config = *outcome.config;
  auto loggers = vnf::fwd::makeLoggers(config);
  if (!loggers) {
    std::fprintf(stderr, "vnf-fwd: %s\n", loggers.error().message.c_str());
    return 2;
  }
  installSignalHandlers();
  if (initEal(argv[0], config.eal_args) < 0) {
    loggers->main->error(
        "EAL init failed: {}. Check the arguments after --eal (e.g. --eal -l 0-1 -a 0000:00:04.0; "
        "--no-huge -m 512 without hugepages)",
        rte_strerror(rte_errno));
    return 1;
  }
  const int rc = run(config, *loggers);
  rte_eal_cleanup();
  return rc;
}
