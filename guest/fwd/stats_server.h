// Unix stream socket serving the counters: a client connects, reads one JSON
// document followed by a newline, and the server closes the connection.
#pragma once

#include <expected>
#include <functional>
#include <string>

#include "error.h"

namespace vnf::fwd {

class StatsServer {
 public:
  StatsServer() = default;
  StatsServer(const StatsServer&) = delete;
  StatsServer& operator=(const StatsServer&) = delete;
  ~StatsServer();

  // Replaces a stale socket file at path; fails if path exists and is not a socket.
  std::expected<void, Error> open(const std::string& path);
  // Waits up to wait_ms for clients and answers each with produce(). Without a socket, just sleeps.
  void serve(int wait_ms, const std::function<std::string()>& produce);
  void close();

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace vnf::fwd
