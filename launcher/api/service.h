// The SOL003 v2 VNF lifecycle management API (as Tacker implements it) over the lifecycle engine,
// independent of the transport: the server (api/server.h) turns an authenticated HTTPS request into
// a Request and writes back the Response. Reads answer from SQLite and from a snapshot of libvirt's
// domains that a refresher thread keeps; tasks (instantiate, terminate, scale, heal, operate,
// modify) run one at a time on a worker thread that calls the engine, so the HTTP side never waits
// for libvirt.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/notify.h"
#include "api/store.h"
#include "lifecycle/engine.h"

namespace vnf::api {

enum class Role { kReader, kOperator };
const char* roleName(Role r);

struct Request {
  std::string method;                  // "GET", "POST", ...
  std::string target;                  // "/vnflcm/v2/vnf_instances?filter=..."
  std::optional<std::string> version;  // the Version header
  std::string content_type;
  std::string body;
  std::string subject;  // the client certificate's subject (RFC 2253)
  Role role = Role::kReader;
};

struct Response {
  int status = 200;
  std::string content_type;  // "" when there is no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Location, Link, Retry-After
};

struct ServiceConfig {
  std::string vnfd_dir;         // vnfdId X names vnfd_dir/X.yaml
  std::string base_url;         // "https://192.0.2.1:8443": the front of Location headers
  std::size_t page_size = 100;  // items per page of a list (Link rel="next" to the rest)
  int max_vnfcs = 16;           // the most domains one VNF instance may scale to
  std::chrono::seconds ready_timeout{240};
  lifecycle::RenderOptions render;
  std::chrono::milliseconds refresh{1000};  // how often the libvirt snapshot is refreshed
  double mutations_per_second = 10;         // rate of mutating requests (token bucket)
  double mutation_burst = 20;
};

class Service {
 public:
  // `env` is the engine environment every task uses (connection, host discovery, readiness,
  // cancel token, lock and state folders); `audit` takes one line per mutating request and per
  // finished operation.
  Service(ServiceConfig config, Store& store, lifecycle::Environment env,
          std::function<void(const std::string&)> audit);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Operation occurrences a killed server left STARTING, PROCESSING or ROLLING_BACK become
  // FAILED_TEMP with the reason; returns how many. Call once before start().
  Result<int> recover();
  void start();  // the worker and the libvirt refresher
  void stop();   // waits for the running task (cancel the engine's token first to cut it short)

  // Every request but a GET writes one audit line: the handler's, or auditRefusal's when the
  // request was refused without one.
  Response handle(const Request& request);
  // The audit line of a changing request refused with `status` (the server's 413 and 431, a
  // validation error): subject, role, "METHOD PATH", the instance the path names, the status.
  // Nothing for a GET.
  void auditRefusal(const Request& r, int status);
  // Subscriptions: notifications go through `notifier`; the test GET at creation uses `config`.
  // Without a notifier, /subscriptions answers 404.
  void setNotifier(Notifier* notifier, NotifyConfig config) {
    notifier_ = notifier;
    notify_config_ = std::move(config);
  }
  // Before start(): the front of Location headers when the port was chosen at bind time.
  void setBaseUrl(std::string url) { config_.base_url = std::move(url); }

  // Tests: wait until no task is queued or running; refresh the libvirt snapshot now.
  void waitIdle();
  void refreshNow();

 private:
  struct DomainView {
    std::string state;  // "running", "shut off", ...
    std::string spec_hash;
    std::string serial_log;
    bool operator==(const DomainView&) const = default;
  };

  Response route(const Request& r);
  Response createInstance(const Request& r, const nlohmann::json& body);
  Response listInstances(const Request& r, const std::map<std::string, std::string>& query);
  Response buildInstanceList(const std::map<std::string, std::string>& query);
  Response getInstance(const std::string& id);
  Response deleteInstance(const Request& r, const std::string& id);
  Response task(const Request& r, const std::string& id, const std::string& op, const nlohmann::json& body);
  Response listOpOccs(const Request& r, const std::map<std::string, std::string>& query);
  Response getOpOcc(const std::string& id);
  Response opOccAction(const Request& r, const std::string& id, const std::string& action);
  Response metrics();
  Response subscriptions(const Request& r, const std::vector<std::string>& parts, const nlohmann::json& body);
  // Sends `notification` (its subscriptionId and id filled in) to every subscription whose
  // filter it matches.
  void notify(nlohmann::json notification);
  void notifyOpOcc(const nlohmann::json& occ, const char* status);
  Response indicators(const std::string& instance_id);
  // The forwarder's totals of an instance's domains (the last two VNF-FWD STATS lines of each
  // serial log): counters, and rates from the two lines. nullopt when no domain printed any yet.
  std::optional<nlohmann::json> forwarderTotals(const nlohmann::json& instance);

  nlohmann::json instanceView(const nlohmann::json& stored);
  nlohmann::json opOccView(const nlohmann::json& stored) const;
  Response startTask(const Request& r, const std::string& instance_id, const std::string& operation,
                     const nlohmann::json& params, const std::function<Result<void>(nlohmann::json& instance)>& check,
                     const nlohmann::json& priv);
  bool allowMutation(int& retry_after);

  void workerLoop();
  void refresherLoop();
  void runJob(const std::string& op_occ_id, bool rollback);
  Result<void> runOperation(nlohmann::json& occ, nlohmann::json& instance);
  Result<void> runRollback(nlohmann::json& occ, nlohmann::json& instance);
  Result<void> removeDomains(const std::vector<std::string>& names, bool graceful, std::chrono::seconds grace);
  Result<std::vector<VnfSpec>> specsFor(const nlohmann::json& instance, int count) const;
  Result<void> launchSpecs(const std::vector<VnfSpec>& specs, bool replace);
  void audit(const Request& r, const std::string& op, const std::string& instance, const std::string& result);

  ServiceConfig config_;
  Store& store_;
  lifecycle::Environment env_;
  std::function<void(const std::string&)> audit_;

  std::mutex mu_;  // the job queue
  std::condition_variable cv_;
  std::deque<std::pair<std::string, bool>> jobs_;  // op occ id, rollback
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_, refresher_;

  std::mutex domains_mu_;
  // Held across a whole refreshNow (the listing and the store): the refresher thread and a task or
  // test refreshing at once would otherwise store their listings out of order, the older last.
  std::mutex refresh_mu_;
  std::map<std::string, DomainView> domains_;
  bool domains_known_ = false;
  std::string domains_error_;
  std::atomic<std::uint64_t> domains_generation_{0};  // up whenever the snapshot changes

  // The answers of GET /vnf_instances (per target: query, page) with the store's and the
  // snapshot's generations they were built from: a list read between two changes is served as it
  // was built, without reading SQLite or building JSON again (bench/run-api: that work was most of
  // a request's CPU). At most kListCacheEntries targets; the map is emptied when full.
  struct CachedList {
    std::uint64_t store_generation = 0, domains_generation = 0;
    Response response;
  };
  static constexpr std::size_t kListCacheEntries = 64;
  std::mutex list_cache_mu_;
  std::map<std::string, CachedList> list_cache_;

  Notifier* notifier_ = nullptr;
  NotifyConfig notify_config_;

  std::mutex rate_mu_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_{};
};

// ProblemDetails (application/problem+json) with `status`, `title`, `detail` and a `type`.
Response problem(int status, const std::string& title, const std::string& detail);

}  // namespace vnf::api
