// The HTTPS front of the management API: Boost.Beast over Asio with OpenSSL. TLS 1.3 only (the
// minimum protocol version is set explicitly), a client certificate required and verified against
// the given CA, the role of each client from its certificate subject. Every limit is explicit: the
// number of connections, the header and body sizes, and one deadline per request that covers the
// whole request (a client sending one byte per second is cut at the deadline, not per read).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "api/service.h"
#include "common/error.h"

namespace vnf::api {

struct ServerConfig {
  std::string address;                // an IP address: "192.0.2.1", "::1"
  unsigned short port = 8443;         // 0: any free port (tests)
  std::string cert, key, client_ca;   // PEM files
  std::map<std::string, Role> roles;  // client certificate subject (RFC 2253) -> role
  std::size_t max_connections = 512;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{10000};  // the whole request, and the idle time before it
  std::chrono::milliseconds handshake_timeout{10000};
  int threads = 2;
};

// The roles file: one "ROLE SUBJECT" per line (ROLE reader or operator, SUBJECT as RFC 2253, e.g.
// "operator CN=orchestrator,O=Example"), '#' comments and blank lines ignored. Errors name the
// line; a subject named twice is an error.
Result<std::map<std::string, Role>> parseRoles(const std::string& text, const std::string& file);

// "0.0.0.0", "::", "" and the like: every address of the host.
bool isAnyAddress(const std::string& address);

class Server {
 public:
  // Loads the certificates and binds; errors name the file or the address and why.
  static Result<std::unique_ptr<Server>> create(const ServerConfig& config, Service& service,
                                                std::function<void(const std::string&)> log);
  ~Server();
  unsigned short port() const;  // the bound port
  void run();                   // serves on config.threads threads until stop()
  void stop();                  // from any thread or a signal handler's thread

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vnf::api
