#include "lifecycle/test_seam.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

namespace vnf::lifecycle {
namespace {

bool matches(const char* env, Pass pass, const std::string& vnf) {
  const char* v = std::getenv(env);
  if (!v || !*v) return false;
  std::string want = v;
  auto colon = want.find(':');
  if (want.substr(0, colon) != passName(pass)) return false;
  return colon == std::string::npos || want.substr(colon + 1) == vnf;
}

}  // namespace

std::function<Result<void>(Pass, const std::string&)> testSeamFromEnv(const CancelToken& cancel) {
  if (!std::getenv("VNFCTL_TEST_HOLD") && !std::getenv("VNFCTL_TEST_FAIL")) return {};
  return [&cancel](Pass pass, const std::string& vnf) -> Result<void> {
    if (matches("VNFCTL_TEST_FAIL", pass, vnf)) {
      return fail(Errc::kIo,
                  fmt::format("injected failure after {}{}", passName(pass), vnf.empty() ? "" : " of " + vnf));
    }
    if (matches("VNFCTL_TEST_HOLD", pass, vnf)) {
      std::fprintf(stderr, "vnfctl: test hold after %s%s (pid %d)\n", passName(pass),
                   vnf.empty() ? "" : (" of " + vnf).c_str(), static_cast<int>(::getpid()));
      for (int i = 0; i < 1200 && !cancel.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  };
}

}  // namespace vnf::lifecycle
