// Notifications to subscribers: HTTPS POSTs to each subscription's callbackUri, off the operation
// path. A queue and one delivery thread; a failed delivery is retried with exponential backoff
// (1, 2, 4, 8 s) and dropped after the last attempt with a log line. The subscription's test GET
// at creation is synchronous and bounded by the timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"

namespace vnf::api {

struct NotifyConfig {
  std::string ca_file;                      // CAs the callback servers' certificates must chain to; "" = the system's
  std::chrono::milliseconds timeout{5000};  // one whole request, from the lookup to the answer
  int attempts = 5;
  std::chrono::milliseconds first_backoff{1000};
};

// "https://HOST[:PORT]/PATH" split; http or anything else is an error naming the value.
struct CallbackUri {
  std::string host, port, target;
};
Result<CallbackUri> parseCallbackUri(const std::string& uri);

// One HTTPS request (TLS 1.2 or newer, the server's certificate verified against the CA and its
// name); the status code. The whole request (name lookup, connect, handshake, request, answer) is
// bounded by config.timeout: a subscriber that accepts and never answers is an error after it.
Result<int> httpsRequest(const NotifyConfig& config, const std::string& method, const std::string& uri,
                         const std::string& body);

class Notifier {
 public:
  Notifier(NotifyConfig config, std::function<void(const std::string&)> log);
  ~Notifier();
  void start();
  void stop();
  void post(const std::string& uri, std::string body);
  void waitIdle();  // tests

 private:
  struct Item {
    std::string uri, body;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
  };
  void loop();
  NotifyConfig config_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  std::thread thread_;
};

}  // namespace vnf::api
