#include "cli/context.h"

#include <nlohmann/json.hpp>

#include "common/file_io.h"

namespace vnf::cli {

void printError(const Error& error) {
  std::fprintf(stderr, "vnfctl: error: %s\n", error.message.c_str());
  if (!error.fix.empty()) std::fprintf(stderr, "  fix: %s\n", error.fix.c_str());
}

int exitCodeFor(const Error& error) { return exitCodeOf(error.code); }

int reportError(const Error& error) {
  printError(error);
  return exitCodeFor(error);
}

nlohmann::ordered_json errorJson(const Error& error) {
  return {{"kind", errcName(error.code)},
          {"exit_code", exitCodeOf(error.code)},
          {"message", error.message},
          {"fix", error.fix}};
}

int printOutput(std::string_view text, int ok_code) {
  auto ok = writeStdout(text);
  if (ok) return ok_code;
  printError(ok.error());
  return kExitFailed;
}

int finishOutput(int code) {
  auto ok = flushStdout();
  if (ok || code != kExitOk) return code;
  printError(ok.error());
  return kExitFailed;
}

}  // namespace vnf::cli
