#include "api/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vnf::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Result<std::map<std::string, Role>> parseRoles(const std::string& text, const std::string& file) {
  std::map<std::string, Role> roles;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    auto e = line.find_last_not_of(" \t\r");
    line = line.substr(b, e - b + 1);
    auto sp = line.find_first_of(" \t");
    std::string role = line.substr(0, sp);
    std::string subject = sp == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", sp));
    if (role != "reader" && role != "operator") {
      return fail(Errc::kInvalidArgument, fmt::format("{}:{}: unknown role '{}'", file, n, role.substr(0, 40)),
                  "each line is 'reader SUBJECT' or 'operator SUBJECT'");
    }
    if (subject.empty()) {
      return fail(Errc::kInvalidArgument, fmt::format("{}:{}: no certificate subject after '{}'", file, n, role),
                  "give the subject as openssl x509 -noout -subject -nameopt RFC2253 prints it, e.g. "
                  "'operator CN=orchestrator,O=Example'");
    }
    if (roles.contains(subject)) {
      return fail(Errc::kInvalidArgument, fmt::format("{}:{}: subject '{}' is named twice", file, n, subject),
                  "keep one line per subject");
    }
    roles[subject] = role == "operator" ? Role::kOperator : Role::kReader;
  }
  return roles;
}

bool isAnyAddress(const std::string& address) {
  boost::system::error_code ec;
  auto a = asio::ip::make_address(address, ec);
  return ec || a.is_unspecified();
}

struct Server::Impl {
  ServerConfig config;
  Service& service;
  std::function<void(const std::string&)> log;
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};

  Impl(const ServerConfig& c, Service& s, std::function<void(const std::string&)> l)
      : config(c), service(s), log(std::move(l)) {}
  void accept();
};

namespace {

std::string subjectOf(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  X509_free(cert);
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket), server.ctx), server_(server) {
    ++server_.connections;
  }
  ~Session() { --server_.connections; }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

 private:
  void handshake() {
    beast::get_lowest_layer(stream_).expires_after(server_.config.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // no certificate, another CA, TLS 1.2, a timeout: the connection ends
      self->subject_ = subjectOf(self->stream_.native_handle());
      auto it = self->server_.config.roles.find(self->subject_);
      self->role_ = it == self->server_.config.roles.end() ? Role::kReader : it->second;
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.config.max_header_bytes));
    parser_->body_limit(server_.config.max_body_bytes);
    // One deadline for the whole request (and the idle time before it): a slow client is cut here.
    beast::get_lowest_layer(stream_).expires_after(server_.config.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      // The request line (and for 413 the header) was read: audited like any refused change.
      const auto& req = parser_->get();
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.subject = subject_;
      r.role = role_;
      server_.service.auditRefusal(r, ec == http::error::body_limit ? 413 : 431);
    }
    if (ec == http::error::body_limit) {
      return reject(413, "Content Too Large",
                    fmt::format("the request body is over the limit of {} bytes", server_.config.max_body_bytes));
    }
    if (ec == http::error::header_limit) {
      return reject(431, "Request Header Fields Too Large",
                    fmt::format("the request header is over the limit of {} bytes", server_.config.max_header_bytes));
    }
    if (ec) return;  // a timeout, a reset, bytes that are not HTTP: the connection ends
    const auto& req = parser_->get();
    Request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    if (auto v = req.find("Version"); v != req.end()) r.version = std::string(v->value());
    if (auto c = req.find(http::field::content_type); c != req.end()) r.content_type = std::string(c->value());
    r.body = req.body();
    r.subject = subject_;
    r.role = role_;
    Response resp = server_.service.handle(r);
    send(resp, req.keep_alive() && !server_.stopping, req.version());
  }

  void reject(int status, const std::string& title, const std::string& detail) {
    send(problem(status, title, detail), false, 11);
  }

  void send(const Response& resp, bool keep_alive, unsigned version) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(resp.status));
    res_.set("Version", "2.0.0");
    if (!resp.content_type.empty()) res_.set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res_.set(k, v);
    res_.body() = resp.body;
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.config.request_timeout);
    http::async_write(stream_, res_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (keep_alive) return self->read();
      self->close();
    });
  }

  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::string subject_;
  Role role_ = Role::kReader;
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      if (connections >= config.max_connections) {
        // Over the limit: closed before any TLS work.
        boost::system::error_code ignore;
        socket.close(ignore);
      } else {
        std::make_shared<Session>(std::move(socket), *this)->run();
      }
    }
    accept();
  });
}

Result<std::unique_ptr<Server>> Server::create(const ServerConfig& config, Service& service,
                                               std::function<void(const std::string&)> log) {
  auto impl = std::make_unique<Impl>(config, service, std::move(log));
  SSL_CTX* ctx = impl->ctx.native_handle();
  // TLS 1.3 only: a TLS 1.2 client fails the handshake.
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  auto load = [&](auto&& fn, const std::string& file, const char* what) -> Result<void> {
    boost::system::error_code ec;
    fn(ec);
    if (ec) {
      return fail(Errc::kInvalidArgument, fmt::format("cannot load the {} {}: {}", what, file, ec.message()),
                  "give a readable PEM file (docs/api.md shows how to make them with openssl)");
    }
    return {};
  };
  if (auto ok = load([&](auto& ec) { impl->ctx.use_certificate_chain_file(config.cert, ec); }, config.cert,
                     "server certificate (--cert)");
      !ok)
    return std::unexpected(ok.error());
  if (auto ok = load([&](auto& ec) { impl->ctx.use_private_key_file(config.key, ssl::context::pem, ec); }, config.key,
                     "server key (--key)");
      !ok)
    return std::unexpected(ok.error());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the key {} does not belong to the certificate {}", config.key, config.cert),
                "give the key the certificate was made for");
  }
  if (auto ok = load([&](auto& ec) { impl->ctx.load_verify_file(config.client_ca, ec); }, config.client_ca,
                     "client CA (--client-ca)");
      !ok)
    return std::unexpected(ok.error());
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca.c_str()))
    SSL_CTX_set_client_CA_list(ctx, names);
  impl->ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);

  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.address, ec);
  if (ec) {
    return fail(Errc::kInvalidArgument, fmt::format("--listen address '{}' is not an IP address", config.address),
                "give the management NIC's address, e.g. --listen 192.0.2.10:8443");
  }
  tcp::endpoint ep(address, config.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(Errc::kInvalidArgument,
                fmt::format("cannot listen on {}:{}: {}", config.address, config.port, ec.message()),
                "is the address on this host and the port free (ss -ltnp)?");
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

unsigned short Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::run() {
  impl_->accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->config.threads; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ignore;
    impl_->acceptor.close(ignore);
    impl_->ioc.stop();
  });
}

}  // namespace vnf::api
