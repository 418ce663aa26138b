// vnfctl serve: the management API (launcher/api) on one address, over TLS 1.3 with client
// certificates. parse -> open libvirt, the state database and the engine environment -> mark
// operations a killed server left as FAILED_TEMP -> serve until SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "api/server.h"
#include "api/service.h"
#include "api/store.h"
#include "cli/commands.h"
#include "cli/load.h"
#include "common/file_io.h"
#include "common/host_lock.h"
#include "lifecycle/engine.h"
#include "lifecycle/test_seam.h"
#include "virt/vnf_domains.h"

namespace vnf::cli {
namespace {

struct ServeArgs {
  std::string listen, cert, key, client_ca, roles;
  bool listen_any = false;
  std::string vnfd_dir = "/etc/vnfctl/vnfd";
  std::string state_dir = "/var/lib/vnfctl";
  std::string run_dir = "/run/vnfctl";
  std::string log_dir = "/var/log/vnfctl";
  std::string templates, image_dir, domain_type;
  int ready_timeout_s = 240;
  int request_timeout_s = 10;
  int max_connections = 512;
  int max_body_kib = 1024;
  int threads = 2;
  int page_size = 100;
  double mutations_per_second = 10;
  bool test_ready_when_running = false;
  std::string notify_ca;
  int notify_timeout_s = 5;
};

// Test only (--test-ready-when-running, for libvirt's test driver, whose domains have no guest to
// print READY): a domain that runs counts as ready.
class RunningIsReady final : public lifecycle::ReadinessSource {
 public:
  Result<ReadyLine> waitReady(const Connection& conn, const std::string& name, const std::string&,
                              std::chrono::seconds timeout, const lifecycle::CancelToken& cancel,
                              const std::function<void(double)>&) override {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (cancel.cancelled()) return fail(Errc::kInterrupted, "interrupted while waiting for " + name);
      auto s = domainState(conn, name);
      if (!s) return std::unexpected(s.error());
      if (*s == DomainState::kRunning) return ReadyLine{"(test) domain running", 0.0};
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return fail(Errc::kTimeout, fmt::format("{} did not run within {} s", name, timeout.count()));
  }
};

lifecycle::CancelToken g_serve_cancel;
std::atomic<api::Server*> g_server{nullptr};

void logLine(const std::string& line) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(stderr, "%s vnfctl serve: %s\n", ts, line.c_str());
  std::fflush(stderr);
}

Result<std::pair<std::string, unsigned short>> parseListen(const std::string& text, bool any) {
  auto bad = [&](const std::string& why) {
    return fail(
        Errc::kInvalidArgument, fmt::format("--listen '{}': {}", text, why),
        "give ADDRESS:PORT of the management NIC, e.g. --listen 192.0.2.10:8443 or --listen [2001:db8::10]:8443");
  };
  std::string addr, port;
  if (text.starts_with("[")) {
    auto close = text.find("]:");
    if (close == std::string::npos) return bad("an IPv6 address is written [ADDRESS]:PORT");
    addr = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    addr = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int p = 0;
  try {
    std::size_t used = 0;
    p = std::stoi(port, &used);
    if (used != port.size()) p = -1;
  } catch (const std::exception&) {
    p = -1;
  }
  if (p < 0 || p > 65535) return bad(fmt::format("port '{}' is not a number in 0..65535", port));
  if (api::isAnyAddress(addr) && !any) {
    return fail(Errc::kInvalidArgument,
                fmt::format("--listen '{}' is every address of the host (or not an address); the API belongs on the "
                            "management NIC only",
                            text),
                "give the management NIC's address, or add --listen-any to listen on all of them on purpose");
  }
  return std::pair{addr, static_cast<unsigned short>(p)};
}

int serve(const GlobalOptions& g, const ServeArgs& a) {
  // SIGINT/SIGTERM go to one waiting thread (blocked here, before libvirt or the service start
  // threads that would inherit no mask): it stops accepting and cancels the running task, which
  // the engine rolls back.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto listen = parseListen(a.listen, a.listen_any);
  if (!listen) return reportError(listen.error());
  api::ServerConfig sc;
  sc.address = listen->first;
  sc.port = listen->second;
  sc.cert = a.cert;
  sc.key = a.key;
  sc.client_ca = a.client_ca;
  sc.max_connections = static_cast<std::size_t>(a.max_connections);
  sc.max_body_bytes = static_cast<std::size_t>(a.max_body_kib) * 1024;
  sc.request_timeout = std::chrono::seconds(a.request_timeout_s);
  sc.threads = a.threads;
  if (!a.roles.empty()) {
    auto text = readUserFile(a.roles, 1 << 20, "roles file");
    if (!text) return reportError(text.error());
    auto roles = api::parseRoles(*text, a.roles);
    if (!roles) return reportError(roles.error());
    sc.roles = std::move(*roles);
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(a.vnfd_dir, ec)) {
    return reportError(Error{Errc::kInvalidArgument, fmt::format("--vnfd-dir {} is not a folder", a.vnfd_dir),
                             "create it and put the VNF specs the host offers in it as ID.yaml"});
  }
  std::filesystem::create_directories(a.state_dir, ec);
  auto store = api::Store::open((std::filesystem::path(a.state_dir) / "api.sqlite").string());
  if (!store) return reportError(store.error());

  auto conn = Connection::open(g.uri, false);
  if (!conn) return reportError(conn.error());
  lifecycle::SerialLogReadiness serial;
  RunningIsReady running;
  lifecycle::Environment env;
  env.conn = &*conn;
  env.discover = [&g] { return loadHostFor(g); };
  env.readiness = a.test_ready_when_running ? static_cast<lifecycle::ReadinessSource*>(&running) : &serial;
  env.cancel = &g_serve_cancel;
  env.run_dir = a.run_dir;
  env.state_dir = a.state_dir;
  env.command = "vnfctl serve";
  env.after_pass = lifecycle::testSeamFromEnv(g_serve_cancel);
  env.stage_boot_files = !isRemoteUri(g.uri);

  api::ServiceConfig cfg;
  cfg.vnfd_dir = a.vnfd_dir;
  cfg.page_size = static_cast<std::size_t>(a.page_size);
  cfg.ready_timeout = std::chrono::seconds(a.ready_timeout_s);
  cfg.mutations_per_second = a.mutations_per_second;
  cfg.mutation_burst = std::max(1.0, a.mutations_per_second * 2);
  cfg.render.templates_dir =
      a.templates.empty() ? lifecycle::defaultTemplatesDir() : std::filesystem::path(a.templates);
  cfg.render.image_dir = a.image_dir.empty() ? lifecycle::defaultImageDir() : std::filesystem::path(a.image_dir);
  cfg.render.log_dir = std::filesystem::absolute(a.log_dir).lexically_normal().string();
  if (!a.domain_type.empty()) cfg.render.domain_type = a.domain_type == "kvm" ? DomainType::kKvm : DomainType::kQemu;

  const std::string host = sc.address.find(':') != std::string::npos ? "[" + sc.address + "]" : sc.address;
  cfg.base_url = fmt::format("https://{}:{}", host, sc.port);
  api::Service service(cfg, *store, env, logLine);
  api::NotifyConfig notify_config;
  notify_config.ca_file = a.notify_ca;
  notify_config.timeout = std::chrono::seconds(a.notify_timeout_s);
  api::Notifier notifier(notify_config, logLine);
  service.setNotifier(&notifier, notify_config);
  auto srv = api::Server::create(sc, service, logLine);
  if (!srv) return reportError(srv.error());
  if (sc.port == 0) {
    // Tests: the port the kernel chose, in the links as well.
    service.setBaseUrl(fmt::format("https://{}:{}", host, (*srv)->port()));
  }
  auto recovered = service.recover();
  if (!recovered) return reportError(recovered.error());
  if (*recovered > 0)
    logLine(fmt::format("{} operation(s) left in progress by a stopped server are FAILED_TEMP", *recovered));
  notifier.start();
  service.start();

  api::Server* s = srv->get();
  std::thread waiter([&set, s] {
    int sig = 0;
    sigwait(&set, &sig);
    g_serve_cancel.cancel(sig);
    s->stop();
  });
  logLine(fmt::format("listening on https://{}:{} (TLS 1.3, client certificates from {}; {} role(s) named)", host,
                      s->port(), a.client_ca, sc.roles.size()));
  s->run();
  service.stop();
  notifier.stop();
  if (waiter.joinable()) {
    if (!g_serve_cancel.cancelled()) pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
  }
  logLine("stopped");
  return kExitOk;
}

}  // namespace

void addServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand("serve",
                                 "The management API: ETSI SOL003 VNF lifecycle over TLS 1.3 with client certificates");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("--listen", a->listen, "ADDRESS:PORT of the management NIC (e.g. 192.0.2.10:8443)")->required();
  cmd->add_option("--cert", a->cert, "Server certificate chain (PEM)")->required();
  cmd->add_option("--key", a->key, "Server private key (PEM)")->required();
  cmd->add_option("--client-ca", a->client_ca, "CA certificate(s) client certificates must chain to (PEM)")->required();
  cmd->add_option("--roles", a->roles, "File of 'reader|operator SUBJECT' lines (unnamed clients are readers)");
  cmd->add_flag("--listen-any", a->listen_any, "Allow --listen on 0.0.0.0 or :: (every address of the host)");
  cmd->add_option("--vnfd-dir", a->vnfd_dir, "Folder of VNF specs offered as vnfdId (ID.yaml)")->capture_default_str();
  cmd->add_option("--state-dir", a->state_dir, "Folder of the state database (api.sqlite)")->capture_default_str();
  cmd->add_option("--run-dir", a->run_dir, "Folder of the host lock files")->capture_default_str();
  cmd->add_option("--log-dir", a->log_dir, "Folder for the guests' serial logs")->capture_default_str();
  cmd->add_option("--templates", a->templates, "Folder of domain templates");
  cmd->add_option("--image-dir", a->image_dir, "Guest image for specs without guest.kernel/disk");
  cmd->add_option("--domain-type", a->domain_type, "kvm or qemu (default: kvm where the CPU has vmx/svm)")
      ->check(CLI::IsMember({"kvm", "qemu"}));
  cmd->add_option("--ready-timeout", a->ready_timeout_s, "Seconds to wait for a guest's READY line")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--request-timeout", a->request_timeout_s, "Seconds a whole request (and the wait for it) may take")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  cmd->add_option("--max-connections", a->max_connections, "Connections served at once")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--max-body-kib", a->max_body_kib, "Largest request body, KiB")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Threads serving HTTPS")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--page-size", a->page_size, "Items per page of a list")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--mutations-per-second", a->mutations_per_second, "Changing requests per second (burst: twice that)")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  cmd->add_option("--notify-ca", a->notify_ca,
                  "CA certificate(s) of the subscribers' callback servers (default: the system's CAs)");
  cmd->add_option("--notify-timeout", a->notify_timeout_s,
                  "Seconds one request to a subscriber (the test GET, a notification) may take in all")
      ->check(CLI::Range(1, 60))
      ->capture_default_str();
  cmd->add_flag("--test-ready-when-running", a->test_ready_when_running,
                "Tests with libvirt's test driver only: a running domain counts as ready")
      ->group("");
  cmd->callback([&global, &run, a] { run = [&global, a] { return serve(global, *a); }; });
}

}  // namespace vnf::cli
