#include "logging.h"

#include <fmt/core.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace vnf::fwd {

std::expected<Loggers, Error> makeLoggers(const Config& config) {
  try {
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        config.log_file, static_cast<std::size_t>(config.log_max_kib) * 1024, config.log_files);
    auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    Loggers loggers;
    loggers.main = std::make_shared<spdlog::logger>("vnf-fwd", spdlog::sinks_init_list{console, file});
    loggers.file_only = std::make_shared<spdlog::logger>("vnf-fwd", file);
    for (auto* logger : {&loggers.main, &loggers.file_only}) {
      (*logger)->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l vnf-fwd: %v");
      (*logger)->set_level(spdlog::level::info);
      (*logger)->flush_on(spdlog::level::info);  // few lines per second at most: keep the file current
    }
    return loggers;
  } catch (const spdlog::spdlog_ex& e) {
    return std::unexpected(Error(
        fmt::format("cannot open the log file '{}': {}. Create its directory or choose a writable path with --log-file",
                    config.log_file, e.what())));
  }
}

}  // namespace vnf::fwd
