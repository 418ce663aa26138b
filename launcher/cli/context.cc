#include "cli/context.h"

namespace vnf::cli {

void printError(const Error& error) {
  std::fprintf(stderr, "vnfctl: error: %s\n", error.message.c_str());
  if (!error.fix.empty()) std::fprintf(stderr, "  fix: %s\n", error.fix.c_str());
}

int exitCodeFor(const Error& error) { return exitCodeOf(error.code); }

}  // namespace vnf::cli
