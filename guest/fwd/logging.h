// Loggers of vnf-fwd: console (stderr) plus a size-bounded rotating log file.
#pragma once

#include <expected>
#include <memory>

#include <spdlog/logger.h>

#include "config.h"
#include "error.h"

namespace vnf::fwd {

struct Loggers {
  std::shared_ptr<spdlog::logger> main;       // console and file
  std::shared_ptr<spdlog::logger> file_only;  // file: the rate line when --quiet-rate is set
};

// Opens (creates) the log file; fails with the path and the reason when it cannot.
std::expected<Loggers, Error> makeLoggers(const Config& config);

}  // namespace vnf::fwd
