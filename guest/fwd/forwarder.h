// The running forwarder after EAL init: plans which worker polls which queue,
// sets up ports, launches workers, and runs the control side (stats socket,
// rate line, ring-full warnings, summary). main.cc and the in-process tests
// drive it the same way: create, start, controlTick until told to stop, stop.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "error.h"
#include "logging.h"
#include "ports.h"
#include "stats_report.h"
#include "stats_server.h"
#include "worker.h"

namespace vnf::fwd {

class Forwarder {
 public:
  // Resolves and sets up ports and plans workers; needs EAL initialised and at least
  // one worker lcore.
  static std::expected<std::unique_ptr<Forwarder>, Error> create(const Config& config, Loggers loggers);
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;
  ~Forwarder();

  // Waits for links (--link-wait-ms), opens the stats socket and launches the workers.
  std::expected<void, Error> start();
  // "VNF-FWD READY mode=M workers=N port=INDEX,NAME,MAC ..." (one line, no newline).
  std::string readyLine() const;
  // Serves stats socket clients for up to wait_ms; every --stats-interval-ms logs
  // the rate line and ring-full warnings; every --stats-line-ms (if set) prints the
  // "VNF-FWD STATS <json>" line to stdout.
  void controlTick(int wait_ms);
  Snapshot snapshot() const;
  // Stops and joins the workers (they flush their buffers); idempotent.
  void stop();
  const std::vector<PortInfo>& ports() const { return ports_.ports(); }

 private:
  Forwarder(const Config& config, Loggers loggers);
  std::expected<void, Error> plan(std::vector<PortInfo> ports);

  Config config_;
  Loggers loggers_;
  PortSet ports_;
  StatsServer server_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  std::atomic<bool> stop_workers_{false};
  bool launched_ = false;
  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point next_report_;
  std::chrono::steady_clock::time_point next_stats_line_;
  Snapshot last_report_;
};

}  // namespace vnf::fwd
