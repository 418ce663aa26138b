#include "api/notify.h"

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vnf::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Result<CallbackUri> parseCallbackUri(const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::kInvalidArgument, fmt::format("callbackUri '{}': {}", uri.substr(0, 200), why),
                "give an https:// URI of the subscriber, e.g. https://nfvo.example:8443/notify");
  };
  if (uri.size() > 2048) return bad("longer than 2048 characters");
  if (!uri.starts_with("https://")) return bad("only https:// is accepted");
  std::string rest = uri.substr(8);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  CallbackUri out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos)
    return bad("no host (or user info, which is refused)");
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string::npos) return bad("an IPv6 host is written [ADDRESS]");
    out.host = authority.substr(1, close - 1);
    out.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "443";
  } else {
    auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    out.port = colon == std::string::npos ? "443" : authority.substr(colon + 1);
  }
  if (out.port.empty() || out.port.size() > 5 || out.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(out.port) < 1 || std::stoi(out.port) > 65535)
    return bad("the port is not a number in 1..65535");
  for (char c : out.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("the path has spaces or control characters");
  return out;
}

namespace {

constexpr int kMaxLookups = 8;

// The addresses of host:port within `deadline`. A numeric host needs no lookup; a name is looked up
// by getaddrinfo on a thread of its own, which is left to finish on its own when the deadline comes
// first (getaddrinfo cannot be cancelled, and asio's resolver would join it on destruction).
Result<std::vector<tcp::endpoint>> resolveBy(const std::string& host, const std::string& port,
                                             std::chrono::steady_clock::time_point deadline) {
  const auto port_number = static_cast<unsigned short>(std::stoi(port));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, port_number)};
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    boost::system::error_code ec;
    std::vector<tcp::endpoint> endpoints;
  };
  // Lookups left running by their deadline (an unreachable DNS server holds each for 10-30 s) are
  // bounded: past kMaxLookups in flight a notification fails at once instead of taking a thread
  // (the unit's TasksMax would end the server's thread creation).
  static std::atomic<int> in_flight{0};
  if (in_flight.fetch_add(1) >= kMaxLookups) {
    in_flight.fetch_sub(1);
    return fail(Errc::kUnreachable, fmt::format("{} name lookups are still in progress (the limit); {} was not looked "
                                                "up: is the DNS server reachable? A callback URI with an IP address "
                                                "needs no lookup",
                                                kMaxLookups, host));
  }
  auto shared = std::make_shared<Shared>();
  try {
    std::thread([shared, host, port] {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      boost::system::error_code ec;
      auto results = resolver.resolve(host, port, ec);
      std::lock_guard lock(shared->mu);
      shared->ec = ec;
      for (const auto& r : results) shared->endpoints.push_back(r.endpoint());
      shared->done = true;
      shared->cv.notify_all();
      in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error& e) {
    in_flight.fetch_sub(1);
    return fail(Errc::kUnreachable, fmt::format("cannot start the lookup of {}: {}", host, e.what()));
  }
  std::unique_lock lock(shared->mu);
  if (!shared->cv.wait_until(lock, deadline, [&] { return shared->done; })) {
    return fail(Errc::kTimeout, fmt::format("the name {} was not resolved in time", host));
  }
  if (shared->ec) return fail(Errc::kUnreachable, fmt::format("cannot resolve {}: {}", host, shared->ec.message()));
  return shared->endpoints;
}

}  // namespace

Result<int> httpsRequest(const NotifyConfig& config, const std::string& method, const std::string& uri,
                         const std::string& body) {
  auto u = parseCallbackUri(uri);
  if (!u) return std::unexpected(u.error());
  const std::string fix = "is the subscriber up, and is its certificate signed by the CA given with --notify-ca?";
  // One deadline for the whole request: the lookup, connect, TLS handshake, request and answer.
  // Every step is asynchronous and the io_context runs until the deadline at most, so a
  // subscriber that accepts and never answers costs config.timeout, never more (Beast's
  // expires_after bounds asynchronous operations only).
  const auto deadline = std::chrono::steady_clock::now() + config.timeout;
  auto failed = [&](const std::string& why) {
    return fail(Errc::kUnreachable, fmt::format("{} {}: {}", method, uri.substr(0, 200), why), fix);
  };
  auto endpoints = resolveBy(u->host, u->port, deadline);
  if (!endpoints) return failed(endpoints.error().message);
  try {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    if (config.ca_file.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.load_verify_file(config.ca_file);
    }
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), u->host.c_str());
    stream.set_verify_callback(ssl::host_name_verification(u->host));
    http::request<http::string_body> req{method == "GET" ? http::verb::get : http::verb::post, u->target, 11};
    req.set(http::field::host, u->host);
    req.set(http::field::user_agent, "vnfctl");
    req.set("Version", "2.0.0");
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);

    bool done = false;
    beast::error_code error;
    std::string step = "connect";
    auto finish = [&](beast::error_code ec) {
      error = ec;
      done = true;
    };
    beast::get_lowest_layer(stream).expires_at(deadline);
    beast::get_lowest_layer(stream).async_connect(*endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return finish(ec);
      step = "TLS handshake";
      stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
        if (ec) return finish(ec);
        step = "send the request";
        http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
          if (ec) return finish(ec);
          step = "read the answer";
          http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { finish(ec); });
        });
      });
    });
    // The stream's timer closes the socket at the deadline; run_until is the backstop.
    ioc.run_until(deadline + std::chrono::milliseconds(100));
    if (!done || error == beast::error::timeout) {
      return failed(fmt::format("no answer within {} ms (at: {})", config.timeout.count(), step));
    }
    if (error) return failed(fmt::format("{} failed: {}", step, error.message()));
    beast::get_lowest_layer(stream).close();  // no TLS close_notify: it could wait on the peer
    return static_cast<int>(parser.get().result_int());
  } catch (const boost::system::system_error& e) {
    return failed(e.code().message());
  }
}

Notifier::Notifier(NotifyConfig config, std::function<void(const std::string&)> log)
    : config_(std::move(config)), log_(std::move(log)) {}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  thread_ = std::thread([this] { loop(); });
}

void Notifier::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::post(const std::string& uri, std::string body) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= 10000) {
      if (log_) log_(fmt::format("notification to {} dropped: 10000 are queued", uri));
      return;
    }
    queue_.push_back(Item{uri, std::move(body), 0, std::chrono::steady_clock::now()});
  }
  cv_.notify_all();
}

void Notifier::waitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void Notifier::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      continue;
    }
    // The item due first (retries wait their backoff; new ones are due at once).
    auto it =
        std::min_element(queue_.begin(), queue_.end(), [](const Item& a, const Item& b) { return a.due < b.due; });
    if (it->due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, it->due);
      continue;
    }
    Item item = *it;
    queue_.erase(it);
    busy_ = true;
    lock.unlock();
    // Nothing a delivery throws may end the server (this thread has no other catch).
    Result<int> r = fail(Errc::kUnreachable, "the delivery failed");
    try {
      r = httpsRequest(config_, "POST", item.uri, item.body);
    } catch (const std::exception& e) {
      r = fail(Errc::kUnreachable, fmt::format("the delivery failed: {}", e.what()));
    }
    lock.lock();
    busy_ = false;
    const bool ok = r && *r >= 200 && *r < 300;
    if (!ok) {
      const std::string why = r ? fmt::format("status {}", *r) : r.error().message;
      if (++item.attempt < config_.attempts) {
        item.due = std::chrono::steady_clock::now() + config_.first_backoff * (1 << (item.attempt - 1));
        if (log_)
          log_(fmt::format("notification to {} failed ({}); attempt {} of {} in {} ms", item.uri, why, item.attempt + 1,
                           config_.attempts, (config_.first_backoff * (1 << (item.attempt - 1))).count()));
        queue_.push_back(std::move(item));
      } else if (log_) {
        log_(fmt::format("notification to {} dropped after {} attempts: {}", item.uri, config_.attempts, why));
      }
    }
    cv_.notify_all();
  }
}

}  // namespace vnf::api
