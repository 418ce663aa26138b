// api_load: an open-loop HTTPS load generator for bench/run-api. Requests are scheduled on a fixed
// timetable (request i at start + i / rate) whatever the server does, and each one's latency is
// measured from its scheduled time, not from when it could be sent: a server that stalls sees the
// requests queue up behind the stall and every one of them counts the wait (no coordinated
// omission, as in wrk2). The requests are spread over N keep-alive TLS 1.3 connections that
// present a client certificate: a scheduled request goes to an idle connection, or waits in one
// FIFO until a connection is free (HTTP/1.1 without pipelining). All connections are set up
// before the clock starts; a connection that fails counts its request as an error and reconnects.
//
// Usage: api_load --port P [--host 127.0.0.1] --cert C --key K --ca CA [--path /x] [--header 'K: V']
//                 [--connections 200] [--rate 1000] [--duration 30] [--drain 5]
// Prints one line of key=value: offered, sent, ok, errors (status, io, unfinished), the achieved
// rate and p50/p90/p99/p99.9/max latency in ms. Exit 0 when it ran (whatever the errors), 2 on a
// bad argument or when the connections could not be set up.
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string cert, key, ca;
  int connections = 200;
  double rate = 1000;
  double duration = 30;
  double drain = 5;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "api_load: %s\nusage: api_load --port P [--host ADDR] --cert PEM --key PEM --ca PEM [--path PATH] "
               "[--header 'Name: value']... [--connections N] [--rate PER_SECOND] [--duration SECONDS] "
               "[--drain SECONDS]\n",
               why.c_str());
  std::exit(2);
}

double number(const std::string& flag, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= lo && d <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "from %g to %g", lo, hi);
    usage(flag + " '" + v + "' is not a number " + range);
  }
  return d;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") usage("an open-loop HTTPS load generator (bench/run-api)");
    if (i + 1 >= argc) usage(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = static_cast<unsigned short>(number(a, v, 1, 65535));
    else if (a == "--path")
      o.path = v;
    else if (a == "--cert")
      o.cert = v;
    else if (a == "--key")
      o.key = v;
    else if (a == "--ca")
      o.ca = v;
    else if (a == "--connections")
      o.connections = static_cast<int>(number(a, v, 1, 10000));
    else if (a == "--rate")
      o.rate = number(a, v, 1, 1e6);
    else if (a == "--duration")
      o.duration = number(a, v, 0.1, 3600);
    else if (a == "--drain")
      o.drain = number(a, v, 0.1, 600);
    else if (a == "--header") {
      auto colon = v.find(':');
      if (colon == std::string::npos || colon == 0) usage("--header '" + v + "' is not 'Name: value'");
      auto b = v.find_first_not_of(' ', colon + 1);
      o.headers.emplace_back(v.substr(0, colon), b == std::string::npos ? "" : v.substr(b));
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  if (o.port == 0) usage("--port is required");
  if (o.cert.empty() || o.key.empty() || o.ca.empty()) usage("--cert, --key and --ca are required");
  // Every latency is kept (8 bytes each): a run is at most 100 million requests (800 MB).
  if (o.rate * o.duration > 1e8) {
    usage("--rate x --duration is " + std::to_string(static_cast<long long>(o.rate * o.duration)) +
          " requests, over the limit of 100000000: give a lower rate or a shorter duration");
  }
  return o;
}

class Load;

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  explicit Conn(Load& load);
  void connect();
  void send(Clock::time_point scheduled);
  bool busy() const { return busy_; }

 private:
  void onResponse(beast::error_code ec);
  void fail();

  Load& load_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Clock::time_point scheduled_{};
  bool busy_ = false;
  bool ever_connected_ = false;
};

class Load {
 public:
  explicit Load(Options o) : opt_(std::move(o)) {
    SSL_CTX* c = ctx_.native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    beast::error_code ec;
    ctx_.use_certificate_chain_file(opt_.cert, ec);
    if (ec) usage("cannot load the client certificate --cert " + opt_.cert + ": " + ec.message());
    ctx_.use_private_key_file(opt_.key, ssl::context::pem, ec);
    if (ec) usage("cannot load the client key --key " + opt_.key + ": " + ec.message());
    ctx_.load_verify_file(opt_.ca, ec);
    if (ec) usage("cannot load the CA --ca " + opt_.ca + ": " + ec.message());
    ctx_.set_verify_mode(ssl::verify_peer);
    endpoint_ = tcp::endpoint(asio::ip::make_address(opt_.host, ec), opt_.port);
    if (ec) usage("--host '" + opt_.host + "' is not an IP address");
  }

  int run() {
    total_ = static_cast<std::size_t>(opt_.rate * opt_.duration);
    latencies_.reserve(total_);
    for (int i = 0; i < opt_.connections; ++i) {
      conns_.push_back(std::make_shared<Conn>(*this));
      conns_.back()->connect();
    }
    // Every connection up (or 30 s) before the clock starts.
    setup_timer_.expires_after(std::chrono::seconds(30));
    setup_timer_.async_wait([this](beast::error_code ec) {
      if (ec || started_) return;
      std::fprintf(stderr, "api_load: %d of %d connections up after 30 s (%zu setup errors)\n", ready_count_,
                   opt_.connections, setup_errors_);
      ioc_.stop();
    });
    ioc_.run();
    if (!started_) return 2;
    report();
    return 0;
  }

  // ---- called by connections ----
  asio::io_context& ioc() { return ioc_; }
  ssl::context& ctx() { return ctx_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  const Options& options() const { return opt_; }

  void connected(const std::shared_ptr<Conn>& c, bool first) {
    if (first && !started_) {
      if (++ready_count_ == opt_.connections) start();
    }
    idle(c);
  }
  void setupFailed() {
    ++setup_errors_;
    if (!started_) {
      std::fprintf(stderr,
                   "api_load: connection %d of %d to %s:%u could not be set up (TLS 1.3 with the client "
                   "certificate): is the server listening, and does it take this certificate?\n",
                   ready_count_ + 1, opt_.connections, opt_.host.c_str(), static_cast<unsigned>(opt_.port));
      ioc_.stop();
    }
  }
  void idle(const std::shared_ptr<Conn>& c) {
    if (!started_ || done_) {
      if (!started_) idle_.push_back(c);
      return;
    }
    if (!queue_.empty()) {
      auto t = queue_.front();
      queue_.pop_front();
      c->send(t);
    } else {
      idle_.push_back(c);
    }
  }
  void completed(Clock::time_point scheduled, bool ok, bool io_error) {
    auto now = Clock::now();
    if (ok) {
      latencies_.push_back(std::chrono::duration<double, std::milli>(now - scheduled).count());
      last_ok_ = now;
    } else if (io_error) {
      ++io_errors_;
    } else {
      ++status_errors_;
    }
    if (++finished_ == total_) finish();
  }
  bool stopping() const { return done_; }

 private:
  void start() {
    started_ = true;
    setup_timer_.cancel();
    start_ = Clock::now();
    interval_ = std::chrono::duration<double>(1.0 / opt_.rate);
    tick();
  }

  Clock::time_point at(std::size_t i) const {
    return start_ + std::chrono::duration_cast<Clock::duration>(interval_ * static_cast<double>(i));
  }

  // Issues every request whose time has come, then sleeps until the next one's time.
  void tick() {
    auto now = Clock::now();
    while (next_ < total_ && at(next_) <= now) {
      auto t = at(next_++);
      ++sent_;
      if (!idle_.empty()) {
        auto c = idle_.back();
        idle_.pop_back();
        c->send(t);
      } else {
        queue_.push_back(t);
        max_queue_ = std::max(max_queue_, queue_.size());
      }
    }
    if (next_ < total_) {
      timer_.expires_at(at(next_));
      timer_.async_wait([this](beast::error_code ec) {
        if (!ec) tick();
      });
      return;
    }
    // All scheduled: what has not finished `drain` seconds after the last one is unfinished.
    timer_.expires_at(at(total_) +
                      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt_.drain)));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) finish();
    });
  }

  void finish() {
    if (done_) return;
    done_ = true;
    end_ = Clock::now();
    timer_.cancel();
    ioc_.stop();
  }

  void report() {
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double p) {
      if (latencies_.empty()) return 0.0;
      auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(latencies_.size() - 1) + 0.5);
      return latencies_[std::min(i, latencies_.size() - 1)];
    };
    const std::size_t ok = latencies_.size();
    const std::size_t unfinished = total_ - finished_;
    const double span = std::chrono::duration<double>(last_ok_ - start_).count();
    std::printf(
        "offered=%.0f duration=%.1f connections=%d sent=%zu ok=%zu errors=%zu status_errors=%zu io_errors=%zu "
        "unfinished=%zu achieved=%.0f p50=%.2f p90=%.2f p99=%.2f p999=%.2f max=%.2f max_queue=%zu\n",
        opt_.rate, opt_.duration, opt_.connections, sent_, ok, status_errors_ + io_errors_ + unfinished, status_errors_,
        io_errors_, unfinished, span > 0 ? static_cast<double>(ok) / span : 0.0, pct(50), pct(90), pct(99), pct(99.9),
        latencies_.empty() ? 0.0 : latencies_.back(), max_queue_);
  }

  Options opt_;
  asio::io_context ioc_{1};
  ssl::context ctx_{ssl::context::tls_client};
  tcp::endpoint endpoint_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::shared_ptr<Conn>> idle_;
  std::deque<Clock::time_point> queue_;
  asio::steady_timer timer_{ioc_}, setup_timer_{ioc_};
  std::chrono::duration<double> interval_{};
  Clock::time_point start_{}, end_{}, last_ok_{};
  std::size_t total_ = 0, next_ = 0, sent_ = 0, finished_ = 0, max_queue_ = 0;
  std::size_t status_errors_ = 0, io_errors_ = 0, setup_errors_ = 0;
  int ready_count_ = 0;
  bool started_ = false, done_ = false;
  std::vector<double> latencies_;
};

Conn::Conn(Load& load) : load_(load), req_(http::verb::get, load.options().path, 11) {
  req_.set(http::field::host, load.options().host);
  for (const auto& [k, v] : load.options().headers) req_.set(k, v);
  req_.keep_alive(true);
}

// One io thread: every handler runs on it, so the connections and the Load share no locks.
void Conn::connect() {
  stream_.emplace(load_.ioc(), load_.ctx());
  buffer_.clear();
  const bool first = !ever_connected_;
  beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(*stream_).async_connect(
      load_.endpoint(), [self = shared_from_this(), first](beast::error_code ec) {
        if (ec) return self->fail();
        beast::get_lowest_layer(*self->stream_).socket().set_option(tcp::no_delay(true));
        self->stream_->async_handshake(ssl::stream_base::client, [self, first](beast::error_code ec2) {
          if (ec2) return self->fail();
          beast::get_lowest_layer(*self->stream_).expires_never();
          self->ever_connected_ = true;
          self->load_.connected(self->shared_from_this(), first);
        });
      });
}

void Conn::fail() {
  if (load_.stopping()) return;
  if (busy_) {
    busy_ = false;
    load_.completed(scheduled_, false, true);
  }
  if (!ever_connected_) {
    load_.setupFailed();
    return;
  }
  // Reconnect after a short pause; the scheduled requests wait in the FIFO meanwhile.
  auto timer = std::make_shared<asio::steady_timer>(load_.ioc(), std::chrono::milliseconds(100));
  timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->connect(); });
}

void Conn::send(Clock::time_point scheduled) {
  busy_ = true;
  scheduled_ = scheduled;
  parser_.emplace();
  parser_->body_limit(64 * 1024 * 1024);
  http::async_write(*stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->fail();
    http::async_read(*self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec2, std::size_t) { self->onResponse(ec2); });
  });
}

void Conn::onResponse(beast::error_code ec) {
  if (ec) return fail();
  busy_ = false;
  const auto& res = parser_->get();
  load_.completed(scheduled_, res.result() == http::status::ok, false);
  if (load_.stopping()) return;
  if (!res.keep_alive()) return connect();
  load_.idle(shared_from_this());
}

}  // namespace

int main(int argc, char** argv) {
  Load load(parse(argc, argv));
  return load.run();
}
