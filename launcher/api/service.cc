#include "api/service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/file_io.h"
#include "common/text.h"
#include "diagnose/context.h"
#include "spec/load.h"
#include "virt/vnf_domains.h"

namespace vnf::api {

using nlohmann::json;

const char* roleName(Role r) { return r == Role::kOperator ? "operator" : "reader"; }

namespace {

constexpr const char* kPrefix = "/vnflcm/v2";
constexpr const char* kApiVersion = "2.0.0";
// In-progress states: another task on the same instance is refused while one of these is there.
const std::set<std::string> kBusyStates = {"STARTING", "PROCESSING", "ROLLING_BACK", "FAILED_TEMP"};

std::string slug(const std::string& title) {
  std::string s;
  for (char c : title) s += (std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-');
  return s;
}

std::string newId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    hex += fmt::format("{:02x}", b[i]);
  }
  return hex;
}

std::string nowIso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int statusOf(Errc c) {
  switch (c) {
    case Errc::kInvalidArgument:
    case Errc::kBadContent: return 422;
    case Errc::kNoSuchVnf:
    case Errc::kNotFound: return 404;
    case Errc::kConflict:
    case Errc::kNeedsReplace:
    case Errc::kBusy: return 409;
    case Errc::kTimeout: return 504;
    case Errc::kUnreachable: return 503;
    default: return 500;
  }
}

json problemJson(const Error& e) {
  std::string detail = e.message;
  if (!e.fix.empty()) detail += " (fix: " + e.fix + ")";
  return json{{"type", "tag:vnfctl,2026:" + std::string(errcName(e.code))},
              {"title", errcName(e.code)},
              {"status", statusOf(e.code)},
              {"detail", detail}};
}

std::string urlDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.push_back(s.substr(start, at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return out;
}

// Unknown fields are refused, naming the field and the ones allowed.
std::optional<std::string> unknownField(const json& obj, const std::vector<std::string>& allowed,
                                        const std::string& what) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    std::string hint = didYouMean(it.key(), allowed);
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return fmt::format("unknown field '{}' in {}{} (allowed: {})", it.key(), what, hint.empty() ? "" : "; " + hint,
                       list);
  }
  return std::nullopt;
}

// A field of the wrong JSON type: the field, what it must be and what was given.
std::optional<std::string> wrongType(const json& obj, const std::string& key, json::value_t want, const char* what) {
  if (!obj.contains(key)) return std::nullopt;
  const auto& v = obj[key];
  bool ok = v.type() == want || (want == json::value_t::number_integer && v.is_number_integer());
  if (ok) return std::nullopt;
  return fmt::format("field '{}' must be {}, not {}", key, what, v.type_name());
}

YAML::Node toYaml(const json& j) {
  if (j.is_object()) {
    YAML::Node n(YAML::NodeType::Map);
    for (auto it = j.begin(); it != j.end(); ++it) n[it.key()] = toYaml(it.value());
    return n;
  }
  if (j.is_array()) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& v : j) n.push_back(toYaml(v));
    return n;
  }
  if (j.is_string()) return YAML::Node(j.get<std::string>());
  if (j.is_boolean()) return YAML::Node(j.get<bool>());
  if (j.is_number_integer()) return YAML::Node(j.get<long long>());
  if (j.is_number()) return YAML::Node(j.get<double>());
  return YAML::Node();
}

// additionalParams over the spec: objects merge key by key, anything else replaces.
void mergeInto(YAML::Node target, const json& patch) {
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_object() && target[it.key()] && target[it.key()].IsMap()) {
      mergeInto(target[it.key()], it.value());
    } else {
      target[it.key()] = toYaml(it.value());
    }
  }
}

// RFC 7396 merge patch.
void mergePatch(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null()) {
      target.erase(it.key());
    } else {
      mergePatch(target[it.key()], it.value());
    }
  }
}

bool validVnfdId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

Response problem(int status, const std::string& title, const std::string& detail) {
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body =
      json{{"type", "tag:vnfctl,2026:" + slug(title)}, {"title", title}, {"status", status}, {"detail", detail}}.dump();
  return r;
}

namespace {

Response jsonResponse(int status, const json& body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

Response fromError(const Error& e) {
  Response r;
  json p = problemJson(e);
  r.status = p["status"].get<int>();
  r.content_type = "application/problem+json";
  r.body = p.dump();
  return r;
}

Response storeFailure(const Error& e) {
  // The database's own message stays in the server's log, not in the answer.
  std::fprintf(stderr, "vnfctl serve: %s\n", e.str().c_str());
  return problem(500, "Internal Server Error", "the state database could not be read or written; see the server's log");
}

}  // namespace

Service::Service(ServiceConfig config, Store& store, lifecycle::Environment env,
                 std::function<void(const std::string&)> audit)
    : config_(std::move(config)), store_(store), env_(std::move(env)), audit_(std::move(audit)) {
  tokens_ = config_.mutation_burst;
  last_refill_ = std::chrono::steady_clock::now();
}

Service::~Service() { stop(); }

Result<int> Service::recover() {
  auto occs = store_.list(Table::kOpOccs);
  if (!occs) return std::unexpected(occs.error());
  int n = 0;
  for (auto& occ : *occs) {
    const std::string state = occ.value("operationState", "");
    if (state != "STARTING" && state != "PROCESSING" && state != "ROLLING_BACK") continue;
    occ["operationState"] = "FAILED_TEMP";
    occ["stateEnteredTime"] = nowIso();
    occ["error"] = problemJson(Error{
        Errc::kInterrupted,
        fmt::format("the server stopped while this {} was {} (killed or crashed); what libvirt holds now is shown "
                    "on the VNF instance",
                    occ.value("operation", "operation"), state),
        "retry, rollback or fail this operation occurrence"});
    occ["error"]["status"] = 500;
    if (auto ok = store_.put(Table::kOpOccs, occ, occ.value("vnfInstanceId", ""), "FAILED_TEMP"); !ok)
      return std::unexpected(ok.error());
    ++n;
  }
  return n;
}

void Service::start() {
  refreshNow();
  worker_ = std::thread([this] { workerLoop(); });
  refresher_ = std::thread([this] { refresherLoop(); });
}

void Service::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (refresher_.joinable()) refresher_.join();
}

void Service::waitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

void Service::refreshNow() {
  std::lock_guard serial(refresh_mu_);
  auto list = listVnfDomains(*env_.conn);
  std::lock_guard lock(domains_mu_);
  if (!list) {
    if (domains_known_ || domains_error_ != list.error().message)
      domains_generation_.fetch_add(1, std::memory_order_acq_rel);
    domains_known_ = false;
    domains_error_ = list.error().message;
    return;
  }
  std::map<std::string, DomainView> now;
  for (const auto& d : *list) now[d.name] = DomainView{domainStateName(d.state), d.meta.spec_hash, d.serial_log};
  if (now != domains_ || !domains_known_) domains_generation_.fetch_add(1, std::memory_order_acq_rel);
  domains_ = std::move(now);
  domains_known_ = true;
  domains_error_.clear();
}

void Service::refresherLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, config_.refresh, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    refreshNow();
    lock.lock();
  }
}

namespace {
// Whether the request this thread is handling wrote its audit line (Service::handle runs one
// request at a time on the calling thread).
thread_local bool t_audited = false;

// The VNF instance a /vnflcm/v2/vnf_instances/{id}[/...] target names; "" for other targets.
std::string instanceOfTarget(const std::string& target) {
  const std::string prefix = std::string(kPrefix) + "/vnf_instances/";
  std::string path = target.substr(0, target.find('?'));
  if (!path.starts_with(prefix)) return "";
  return path.substr(prefix.size(), path.find('/', prefix.size()) - prefix.size()).substr(0, 80);
}
}  // namespace

void Service::audit(const Request& r, const std::string& op, const std::string& instance, const std::string& result) {
  t_audited = true;
  if (!audit_) return;
  audit_(fmt::format("audit subject=\"{}\" role={} op={} instance={} result={}", r.subject, roleName(r.role), op,
                     instance.empty() ? "-" : instance, result));
}

bool Service::allowMutation(int& retry_after) {
  std::lock_guard lock(rate_mu_);
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(config_.mutation_burst, tokens_ + secs * config_.mutations_per_second);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  retry_after = std::max(1, static_cast<int>((1 - tokens_) / config_.mutations_per_second + 0.999));
  return false;
}

void Service::auditRefusal(const Request& r, int status) {
  if (r.method == "GET") return;
  const std::string path = r.target.substr(0, r.target.find('?')).substr(0, 200);
  audit(r, (r.method.empty() ? std::string("UNKNOWN") : r.method.substr(0, 16)) + " " + (path.empty() ? "-" : path),
        instanceOfTarget(r.target), std::to_string(status));
}

Response Service::handle(const Request& request) {
  t_audited = false;
  Response resp;
  try {
    resp = route(request);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vnfctl serve: internal error on %s %s: %s\n", request.method.c_str(), request.target.c_str(),
                 e.what());
    resp = problem(500, "Internal Server Error", "the request could not be handled; see the server's log");
  }
  // Every changing request leaves one audit line: the handlers write theirs (with the operation's
  // name); a request refused before or without one (400, 404, 405, 415, 422, ...) gets it here.
  if (!t_audited) auditRefusal(request, resp.status);
  return resp;
}

Response Service::route(const Request& r) {
  std::string path = r.target, query_text;
  if (auto q = path.find('?'); q != std::string::npos) {
    query_text = path.substr(q + 1);
    path.resize(q);
  }
  std::map<std::string, std::string> query;
  if (!query_text.empty()) {
    for (const auto& kv : split(query_text, '&')) {
      auto eq = kv.find('=');
      query[urlDecode(kv.substr(0, eq))] = eq == std::string::npos ? "" : urlDecode(kv.substr(eq + 1));
    }
  }
  const bool get = r.method == "GET";
  auto methodNotAllowed = [&](const char* allowed) {
    Response resp = problem(405, "Method Not Allowed",
                            fmt::format("{} is not allowed on {}; allowed: {}", r.method, path, allowed));
    resp.headers.emplace_back("Allow", allowed);
    return resp;
  };
  if (path == "/metrics") return get ? metrics() : methodNotAllowed("GET");
  if (path == "/vnflcm/api_versions" || path == "/vnflcm/v2/api_versions") {
    if (!get) return methodNotAllowed("GET");
    return jsonResponse(
        200, {{"uriPrefix", kPrefix}, {"apiVersions", {{{"version", kApiVersion}, {"isDeprecated", false}}}}});
  }
  if (!path.starts_with("/vnflcm/") && !path.starts_with("/vnfind/")) {
    return problem(404, "Not Found", fmt::format("no resource at {}; the API is under {}", path, kPrefix));
  }
  if (!r.version) {
    return problem(400, "Bad Request", fmt::format("the Version header is missing; send 'Version: {}'", kApiVersion));
  }
  if (*r.version != kApiVersion) {
    return problem(406, "Not Acceptable",
                   fmt::format("API version '{}' is not supported; this server speaks {} (see {}/api_versions)",
                               r.version->substr(0, 32), kApiVersion, kPrefix));
  }
  if (path.starts_with("/vnfind/v1/indicators")) {
    if (!get) return methodNotAllowed("GET");
    auto rest = path.substr(std::string("/vnfind/v1/indicators").size());
    if (rest.empty() || rest == "/") return indicators("");
    if (rest.find('/', 1) != std::string::npos) return problem(404, "Not Found", "no resource there");
    return indicators(rest.substr(1));
  }
  if (!path.starts_with(std::string(kPrefix) + "/")) {
    return problem(404, "Not Found", fmt::format("no resource at {}", path));
  }
  auto parts = split(path.substr(std::string(kPrefix).size() + 1), '/');
  if (!parts.empty() && parts.back().empty()) parts.pop_back();

  if (!get && r.role != Role::kOperator) {
    audit(r, r.method + " " + path, "", "403");
    return problem(403, "Forbidden",
                   fmt::format("the client '{}' has the reader role, which may only read (GET); {} needs an operator",
                               r.subject, r.method));
  }
  json body;
  if (!get) {
    int retry_after = 0;
    if (!allowMutation(retry_after)) {
      Response resp = problem(429, "Too Many Requests",
                              fmt::format("more than {} changing requests per second; retry in {} s",
                                          config_.mutations_per_second, retry_after));
      resp.headers.emplace_back("Retry-After", std::to_string(retry_after));
      audit(r, r.method + " " + path, "", "429");
      return resp;
    }
  }
  if (r.method == "POST" || r.method == "PATCH") {
    std::string ct = r.content_type.substr(0, r.content_type.find(';'));
    const bool patch = r.method == "PATCH";
    if (!r.body.empty() || patch || parts.size() <= 1) {
      if (ct != "application/json" && !(patch && ct == "application/merge-patch+json")) {
        return problem(415, "Unsupported Media Type",
                       fmt::format("Content-Type '{}' is not accepted; send {}", ct.substr(0, 64),
                                   patch ? "application/merge-patch+json" : "application/json"));
      }
      try {
        body = json::parse(r.body);
      } catch (const json::parse_error& e) {
        return problem(400, "Bad Request",
                       fmt::format("the request body is not valid JSON: it stops making sense at byte {}", e.byte));
      }
      if (!body.is_object()) {
        return problem(400, "Bad Request",
                       fmt::format("the request body must be a JSON object, not {}", body.type_name()));
      }
    } else {
      body = json::object();
    }
  }

  if (parts.size() >= 1 && parts[0] == "vnf_instances") {
    if (parts.size() == 1) {
      if (get) return listInstances(r, query);
      if (r.method == "POST") return createInstance(r, body);
      return methodNotAllowed("GET, POST");
    }
    const std::string& id = parts[1];
    if (parts.size() == 2) {
      if (get) return getInstance(id);
      if (r.method == "DELETE") return deleteInstance(r, id);
      if (r.method == "PATCH") return task(r, id, "modify", body);
      return methodNotAllowed("GET, PATCH, DELETE");
    }
    if (parts.size() == 3) {
      static const std::set<std::string> tasks = {"instantiate", "terminate", "scale", "heal", "operate"};
      if (!tasks.contains(parts[2]))
        return problem(404, "Not Found", fmt::format("no task '{}'", parts[2].substr(0, 64)));
      if (r.method != "POST") return methodNotAllowed("POST");
      return task(r, id, parts[2], body);
    }
  }
  if (parts.size() >= 1 && parts[0] == "subscriptions" && notifier_) return subscriptions(r, parts, body);
  if (parts.size() >= 1 && parts[0] == "vnf_lcm_op_occs") {
    if (parts.size() == 1) return get ? listOpOccs(r, query) : methodNotAllowed("GET");
    if (parts.size() == 2) return get ? getOpOcc(parts[1]) : methodNotAllowed("GET");
    if (parts.size() == 3) {
      if (r.method != "POST") return methodNotAllowed("POST");
      return opOccAction(r, parts[1], parts[2]);
    }
  }
  return problem(404, "Not Found", fmt::format("no resource at {}", path.substr(0, 200)));
}

// ---- VNF instances ----

json Service::instanceView(const json& stored) {
  json v = stored;
  v.erase("_vnfctl");
  const json& priv = stored["_vnfctl"];
  const std::string id = stored["id"];
  const std::string self = fmt::format("{}{}/vnf_instances/{}", config_.base_url, kPrefix, id);
  v["_links"] = {{"self", {{"href", self}}}};
  if (stored["instantiationState"] == "INSTANTIATED") {
    json vnfcs = json::array();
    std::vector<std::string> missing, changed;
    bool all_running = true;
    {
      std::lock_guard lock(domains_mu_);
      for (const auto& name : priv.value("domains", std::vector<std::string>{})) {
        auto it = domains_.find(name);
        std::string state = "absent";
        if (it != domains_.end()) {
          state = it->second.state;
          auto want = priv.value("hashes", json::object()).value(name, "");
          if (!want.empty() && want != it->second.spec_hash) changed.push_back(name);
        } else if (domains_known_) {
          missing.push_back(name);
        } else {
          state = "unknown";
        }
        if (state != "running") all_running = false;
        vnfcs.push_back({{"id", name},
                         {"vduId", "vnfc"},
                         {"computeResource", {{"resourceId", name}, {"vimLevelResourceType", "libvirt.domain"}}},
                         {"metadata", {{"libvirtState", state}}}});
      }
    }
    json info{{"flavourId", priv.value("flavourId", "default")},
              {"vnfState", all_running ? "STARTED" : "STOPPED"},
              {"scaleStatus", {{{"aspectId", "vnfc"}, {"scaleLevel", priv.value("scaleLevel", 0)}}}},
              {"vnfcResourceInfo", vnfcs}};
    // libvirt is the truth: domains removed or redefined outside the API show here.
    json drift = json::object();
    if (!missing.empty()) drift["missingDomains"] = missing;
    if (!changed.empty()) drift["changedDomains"] = changed;
    if (!domains_known_) drift["libvirtUnreachable"] = domains_error_;
    if (!drift.empty()) info["metadata"] = {{"drift", drift}};
    v["instantiatedVnfInfo"] = info;
    v["_links"]["terminate"] = {{"href", self + "/terminate"}};
    v["_links"]["scale"] = {{"href", self + "/scale"}};
    v["_links"]["heal"] = {{"href", self + "/heal"}};
    v["_links"]["operate"] = {{"href", self + "/operate"}};
  } else {
    v["_links"]["instantiate"] = {{"href", self + "/instantiate"}};
  }
  return v;
}

Response Service::createInstance(const Request& r, const json& body) {
  if (auto bad =
          unknownField(body, {"vnfdId", "vnfInstanceName", "vnfInstanceDescription", "metadata"}, "CreateVnfRequest")) {
    return problem(400, "Bad Request", *bad);
  }
  for (auto [key, type, what] : {std::tuple{"vnfdId", json::value_t::string, "a string"},
                                 std::tuple{"vnfInstanceName", json::value_t::string, "a string"},
                                 std::tuple{"vnfInstanceDescription", json::value_t::string, "a string"},
                                 std::tuple{"metadata", json::value_t::object, "an object"}}) {
    if (auto bad = wrongType(body, key, type, what)) return problem(400, "Bad Request", *bad);
  }
  if (!body.contains("vnfdId")) return problem(400, "Bad Request", "field 'vnfdId' is required (a spec in --vnfd-dir)");
  const std::string vnfd = body["vnfdId"];
  if (!validVnfdId(vnfd)) {
    return problem(
        422, "Unprocessable Entity",
        fmt::format("vnfdId '{}' is not a valid id: 1..64 characters of [A-Za-z0-9._-], not starting with '.'",
                    vnfd.substr(0, 80)));
  }
  const std::string file = (std::filesystem::path(config_.vnfd_dir) / (vnfd + ".yaml")).string();
  auto spec = loadSpecFile(file);
  if (!spec) {
    if (spec.error().message.find("does not exist") != std::string::npos ||
        !std::filesystem::exists(std::filesystem::symlink_status(file))) {
      return problem(422, "Unprocessable Entity",
                     fmt::format("vnfdId '{}' is not offered by this host: there is no {}.yaml in the VNF descriptor "
                                 "folder",
                                 vnfd, vnfd));
    }
    std::fprintf(stderr, "vnfctl serve: vnfd %s: %s\n", vnfd.c_str(), spec.error().message.c_str());
    return problem(422, "Unprocessable Entity",
                   fmt::format("the VNF descriptor '{}' on this host is not a valid spec; see the server's log", vnfd));
  }
  const std::string name = body.value("vnfInstanceName", "");
  if (name.size() > 255) return problem(400, "Bad Request", "vnfInstanceName is longer than 255 characters");
  json inst{{"id", newId()},
            {"vnfInstanceName", name},
            {"vnfInstanceDescription", body.value("vnfInstanceDescription", "")},
            {"vnfdId", vnfd},
            {"vnfProvider", "vnfctl"},
            {"vnfProductName", spec->name},
            {"vnfSoftwareVersion", "1.0"},
            {"vnfdVersion", specHash(*spec)},
            {"instantiationState", "NOT_INSTANTIATED"},
            {"metadata", body.value("metadata", json::object())},
            {"_vnfctl", {{"domains", json::array()}, {"scaleLevel", 0}}}};
  if (auto ok = store_.put(Table::kInstances, inst, "", "NOT_INSTANTIATED"); !ok) return storeFailure(ok.error());
  const std::string id = inst["id"];
  audit(r, "CREATE", id, "201");
  notify({{"notificationType", "VnfIdentifierCreationNotification"}, {"vnfInstanceId", id}});
  Response resp = jsonResponse(201, instanceView(inst));
  resp.headers.emplace_back("Location", fmt::format("{}{}/vnf_instances/{}", config_.base_url, kPrefix, id));
  return resp;
}

namespace {

// SOL013 attribute filters: filter=(eq,attr,value);(neq,attr,value) on the named attributes.
Result<std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>> parseFilter(
    const std::string& text, const std::vector<std::string>& attrs) {
  std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> out;
  if (text.size() > 4096) return fail(Errc::kInvalidArgument, "the filter is longer than 4096 characters");
  for (const auto& term : split(text, ';')) {
    if (term.size() < 2 || term.front() != '(' || term.back() != ')') {
      return fail(Errc::kInvalidArgument,
                  fmt::format("filter term '{}' is not of the form (op,attribute,value)", term.substr(0, 80)));
    }
    auto fields = split(term.substr(1, term.size() - 2), ',');
    if (fields.size() < 3) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("filter term '{}' needs an operator, an attribute and a value", term.substr(0, 80)));
    }
    if (fields[0] != "eq" && fields[0] != "neq" && fields[0] != "in" && fields[0] != "nin") {
      return fail(Errc::kInvalidArgument,
                  fmt::format("filter operator '{}' is not supported (eq, neq, in, nin)", fields[0].substr(0, 20)));
    }
    if (std::find(attrs.begin(), attrs.end(), fields[1]) == attrs.end()) {
      std::string list;
      for (const auto& a : attrs) list += (list.empty() ? "" : ", ") + a;
      return fail(Errc::kInvalidArgument,
                  fmt::format("cannot filter on '{}' (attributes: {})", fields[1].substr(0, 80), list));
    }
    out.emplace_back(fields[0], fields[1], std::vector<std::string>(fields.begin() + 2, fields.end()));
  }
  return out;
}

// Whether an instance's VNFCs are pooled: instantiated with more than one, or grown past one. A
// pooled instance's VNFCs get derived MACs and pool VFs (spec::expandCount), whatever their number
// is now; an instance that has only ever had VNFC 1 keeps the spec's fixed MACs and VF indexes.
bool pooled(const json& priv, int count) { return count > 1 || priv.value("baseCount", 1) > 1; }

// What a spec gives one domain only cannot go to a second VNFC: named host taps always; a fixed MAC
// or VF index while the instance is not pooled (VNFC 1 was defined with them and would no longer
// match its definition). Such a scale out is refused up front with what is owned and the fix,
// instead of failing midway.
Result<void> scalableOut(const json& priv, int count) {
  auto spec = parseSpecYaml(priv.value("spec", ""), "recorded spec");
  if (!spec) return std::unexpected(spec.error());
  std::vector<std::string> owned;
  for (const auto& t : spec->tap_nics) owned.push_back("host tap " + t.tap);
  if (!pooled(priv, count)) {
    for (const auto& n : spec->nics) {
      if (n.vf) owned.push_back(fmt::format("VF {} of {}", *n.vf, n.pf));
      if (n.mac) owned.push_back("MAC " + formatMacText(*n.mac));
    }
    for (const auto& t : spec->tap_nics)
      if (t.mac) owned.push_back("MAC " + formatMacText(*t.mac));
    if (spec->mgmt && spec->mgmt->mac) owned.push_back("management MAC " + formatMacText(*spec->mgmt->mac));
  }
  if (owned.empty()) return {};
  std::string list;
  for (std::size_t i = 0; i < owned.size() && i < 8; ++i) list += (i ? ", " : "") + owned[i];
  if (owned.size() > 8) list += fmt::format(" and {} more", owned.size() - 8);
  return fail(Errc::kBadContent,
              fmt::format("a scale out cannot give a second VNFC what the instance's spec gives one domain only ({}): "
                          "for scaling, give the VNFD NICs from a VF pool (pf without vf) and no mac or host taps",
                          list));
}

bool matches(const json& doc, const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>& f) {
  for (const auto& [op, attr, values] : f) {
    std::string have = doc.contains(attr) && doc[attr].is_string() ? doc[attr].get<std::string>() : "";
    bool in = std::find(values.begin(), values.end(), have) != values.end();
    if ((op == "eq" || op == "in") != in) return false;
  }
  return true;
}

}  // namespace

// A page of `all` after the marker, with Link rel="next" when more follow.
static Response page(const std::vector<json>& all, const std::map<std::string, std::string>& query,
                     std::size_t page_size, const std::string& base_path) {
  std::size_t start = 0;
  if (auto it = query.find("nextpage_opaque_marker"); it != query.end()) {
    start = all.size() + 1;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].value("id", "") == it->second) start = i + 1;
    }
    if (start > all.size()) {
      return problem(400, "Bad Request",
                     "nextpage_opaque_marker does not name an item of this list (it may have been deleted)");
    }
  }
  json out = json::array();
  for (std::size_t i = start; i < all.size() && out.size() < page_size; ++i) out.push_back(all[i]);
  Response r = jsonResponse(200, out);
  if (start + out.size() < all.size() && !out.empty()) {
    std::string q;
    for (const auto& [k, v] : query) {
      if (k == "nextpage_opaque_marker") continue;
      std::string enc;
      for (unsigned char c : v)
        enc += std::isalnum(c) || c == '-' || c == '_' || c == '.' ? std::string(1, static_cast<char>(c))
                                                                   : fmt::format("%{:02X}", c);
      q += fmt::format("{}={}&", k, enc);
    }
    r.headers.emplace_back("Link", fmt::format("<{}?{}nextpage_opaque_marker={}>; rel=\"next\"", base_path, q,
                                               out.back().value("id", "")));
  }
  return r;
}

Response Service::listInstances(const Request& r, const std::map<std::string, std::string>& query) {
  // The generations first: what is read after them is at least as new (see Store::generation).
  const std::uint64_t store_gen = store_.generation();
  const std::uint64_t domains_gen = domains_generation_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(list_cache_mu_);
    if (auto it = list_cache_.find(r.target); it != list_cache_.end() && it->second.store_generation == store_gen &&
                                              it->second.domains_generation == domains_gen) {
      return it->second.response;
    }
  }
  Response built = buildInstanceList(query);
  if (built.status == 200) {
    std::lock_guard lock(list_cache_mu_);
    if (list_cache_.size() >= kListCacheEntries && !list_cache_.contains(r.target)) list_cache_.clear();
    list_cache_[r.target] = CachedList{store_gen, domains_gen, built};
  }
  return built;
}

Response Service::buildInstanceList(const std::map<std::string, std::string>& query) {
  std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> filter;
  if (auto it = query.find("filter"); it != query.end()) {
    auto f = parseFilter(it->second, {"id", "vnfInstanceName", "instantiationState", "vnfdId"});
    if (!f) return problem(400, "Bad Request", f.error().message);
    filter = *f;
  }
  auto rows = store_.list(Table::kInstances);
  if (!rows) return storeFailure(rows.error());
  std::vector<json> views;
  for (const auto& row : *rows) {
    if (matches(row, filter)) views.push_back(instanceView(row));
  }
  return page(views, query, config_.page_size, config_.base_url + kPrefix + "/vnf_instances");
}

Response Service::getInstance(const std::string& id) {
  auto row = store_.get(Table::kInstances, id);
  if (!row) return storeFailure(row.error());
  if (!*row) return problem(404, "Not Found", fmt::format("no VNF instance with id '{}'", id.substr(0, 80)));
  return jsonResponse(200, instanceView(**row));
}

Response Service::deleteInstance(const Request& r, const std::string& id) {
  Response resp;
  auto ok = store_.transaction([&]() -> Result<void> {
    auto row = store_.get(Table::kInstances, id);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      resp = problem(404, "Not Found", fmt::format("no VNF instance with id '{}'", id.substr(0, 80)));
      return {};
    }
    if ((**row)["instantiationState"] != "NOT_INSTANTIATED") {
      resp = problem(409, "Conflict",
                     fmt::format("VNF instance {} is INSTANTIATED; terminate it first (POST .../terminate)", id));
      return {};
    }
    auto occs = store_.list(Table::kOpOccs, id);
    if (!occs) return std::unexpected(occs.error());
    for (const auto& o : *occs) {
      if (kBusyStates.contains(o.value("operationState", ""))) {
        resp = problem(409, "Conflict",
                       fmt::format("VNF instance {} has operation {} in state {}; finish it first", id,
                                   o.value("id", ""), o.value("operationState", "")));
        return {};
      }
    }
    if (auto d = store_.remove(Table::kInstances, id); !d) return d;
    resp.status = 204;
    return {};
  });
  if (!ok) return storeFailure(ok.error());
  audit(r, "DELETE", id, std::to_string(resp.status));
  if (resp.status == 204) notify({{"notificationType", "VnfIdentifierDeletionNotification"}, {"vnfInstanceId", id}});
  return resp;
}

// ---- tasks ----

Response Service::startTask(const Request& r, const std::string& instance_id, const std::string& operation,
                            const json& params, const std::function<Result<void>(json& instance)>& check,
                            const json& priv) {
  Response resp;
  std::string occ_id;
  auto ok = store_.transaction([&]() -> Result<void> {
    auto row = store_.get(Table::kInstances, instance_id);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      resp = problem(404, "Not Found", fmt::format("no VNF instance with id '{}'", instance_id.substr(0, 80)));
      return {};
    }
    auto occs = store_.list(Table::kOpOccs, instance_id);
    if (!occs) return std::unexpected(occs.error());
    for (const auto& o : *occs) {
      if (kBusyStates.contains(o.value("operationState", ""))) {
        resp = problem(
            409, "OtherOperationInProgress",
            fmt::format("VNF instance {} has operation {} ({}) in state {}; wait for it, or retry, "
                        "rollback or fail it",
                        instance_id, o.value("id", ""), o.value("operation", ""), o.value("operationState", "")));
        return {};
      }
    }
    json inst = **row;
    if (auto c = check(inst); !c) {
      resp = fromError(c.error());
      if (c.error().code == Errc::kInvalidArgument) resp = problem(409, "Conflict", c.error().message);
      if (c.error().code == Errc::kBadContent) resp = problem(422, "Unprocessable Entity", c.error().message);
      return {};
    }
    occ_id = newId();
    const std::string now = nowIso();
    json occ{{"id", occ_id},
             {"operationState", "STARTING"},
             {"stateEnteredTime", now},
             {"startTime", now},
             {"vnfInstanceId", instance_id},
             {"operation", operation},
             {"isAutomaticInvocation", false},
             {"operationParams", params},
             {"isCancelPending", false},
             {"_vnfctl", priv}};
    if (auto p = store_.put(Table::kOpOccs, occ, instance_id, "STARTING"); !p) return p;
    if (auto p = store_.put(Table::kInstances, inst, "", inst.value("instantiationState", "")); !p) return p;
    resp.status = 202;
    return {};
  });
  if (!ok) return storeFailure(ok.error());
  audit(r, operation, instance_id, std::to_string(resp.status) + (occ_id.empty() ? "" : " opOcc=" + occ_id));
  if (resp.status != 202) return resp;
  if (auto occ = store_.get(Table::kOpOccs, occ_id); occ && *occ) notifyOpOcc(**occ, "START");
  resp.headers.emplace_back("Location", fmt::format("{}{}/vnf_lcm_op_occs/{}", config_.base_url, kPrefix, occ_id));
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(occ_id, false);
  }
  cv_.notify_all();
  return resp;
}

Response Service::task(const Request& r, const std::string& id, const std::string& op, const json& body) {
  auto bad = [](const std::string& msg) { return problem(400, "Bad Request", msg); };
  if (op == "modify") {
    if (auto u =
            unknownField(body, {"vnfInstanceName", "vnfInstanceDescription", "metadata"}, "VnfInfoModificationRequest"))
      return bad(*u);
    for (auto [key, type, what] : {std::tuple{"vnfInstanceName", json::value_t::string, "a string"},
                                   std::tuple{"vnfInstanceDescription", json::value_t::string, "a string"},
                                   std::tuple{"metadata", json::value_t::object, "an object"}}) {
      if (body.contains(key) && body[key].is_null()) continue;
      if (auto w = wrongType(body, key, type, what)) return bad(*w);
    }
    return startTask(
        r, id, "MODIFY_INFO", body, [](json&) -> Result<void> { return {}; }, json::object());
  }
  if (op == "instantiate") {
    if (auto u = unknownField(
            body,
            {"flavourId", "instantiationLevelId", "additionalParams", "extVirtualLinks", "extManagedVirtualLinks",
             "vimConnectionInfo", "localizationLanguage", "extensions", "vnfConfigurableProperties"},
            "InstantiateVnfRequest"))
      return bad(*u);
    if (auto w = wrongType(body, "flavourId", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "additionalParams", json::value_t::object, "an object")) return bad(*w);
    if (!body.contains("flavourId")) return bad("field 'flavourId' is required (vnfctl has one flavour: \"default\")");
    const json params = body.value("additionalParams", json::object());
    if (params.contains("name")) {
      return bad("additionalParams.name cannot be set: vnfctl names the domains of an instance itself");
    }
    if (params.contains("count")) return bad("additionalParams.count cannot be set: use scale (aspect \"vnfc\")");
    // The spec with the overrides, checked now: bad input changes nothing.
    std::string spec_yaml;
    auto check = [&](json& inst) -> Result<void> {
      if (inst["instantiationState"] != "NOT_INSTANTIATED") {
        return fail(Errc::kInvalidArgument, fmt::format("VNF instance {} is already INSTANTIATED", id));
      }
      const std::string vnfd = inst["vnfdId"];
      const auto file = std::filesystem::path(config_.vnfd_dir) / (vnfd + ".yaml");
      auto text = readUserFile(file.string(), kMaxSpecFileBytes, "VNF descriptor");
      if (!text) return fail(Errc::kBadContent, fmt::format("the VNF descriptor '{}' is gone from this host", vnfd));
      YAML::Node root;
      try {
        root = YAML::Load(*text);
      } catch (const YAML::Exception&) {
        return fail(Errc::kBadContent, fmt::format("the VNF descriptor '{}' is not valid YAML", vnfd));
      }
      if (!root.IsMap()) return fail(Errc::kBadContent, fmt::format("the VNF descriptor '{}' is not a YAML map", vnfd));
      mergeInto(root, params);
      // Relative boot files and profile paths are relative to the descriptor folder.
      auto absolutize = [&](YAML::Node n) {
        if (!n || !n.IsScalar()) return;
        std::string v = n.as<std::string>();
        if (!v.empty() && v[0] != '/' && v.find('/') != std::string::npos)
          n = (std::filesystem::path(config_.vnfd_dir) / v).lexically_normal().string();
        else if (!v.empty() && v[0] != '/' && (n.Tag() == "kernel"))
          n = v;
      };
      if (root["guest"] && root["guest"].IsMap()) {
        for (const char* k : {"kernel", "initrd", "disk"}) {
          auto n = root["guest"][k];
          if (n && n.IsScalar() && !n.as<std::string>().empty() && n.as<std::string>()[0] != '/')
            root["guest"][k] =
                (std::filesystem::path(config_.vnfd_dir) / n.as<std::string>()).lexically_normal().string();
        }
      }
      absolutize(root["profile"]);
      auto spec = parseSpecNode(root, "vnfd " + vnfd + " with additionalParams");
      if (!spec) return fail(Errc::kBadContent, spec.error().message);
      if (spec->count > config_.max_vnfcs) {
        return fail(Errc::kBadContent,
                    fmt::format("count {} is over the limit of {} VNFCs per instance", spec->count, config_.max_vnfcs));
      }
      YAML::Emitter out;
      out << root;
      spec_yaml = out.c_str();
      std::string base = spec->name.substr(0, 30) + "-" + inst["id"].get<std::string>().substr(0, 8);
      inst["_vnfctl"]["pending"] = {
          {"spec", spec_yaml}, {"base", base}, {"flavourId", body["flavourId"]}, {"count", spec->count}};
      return {};
    };
    return startTask(r, id, "INSTANTIATE", body, check, json::object());
  }
  auto instantiated = [id](json& inst) -> Result<void> {
    if (inst["instantiationState"] != "INSTANTIATED") {
      return fail(Errc::kInvalidArgument, fmt::format("VNF instance {} is NOT_INSTANTIATED; instantiate it first", id));
    }
    return {};
  };
  if (op == "terminate") {
    if (auto u = unknownField(body, {"terminationType", "gracefulTerminationTimeout", "additionalParams"},
                              "TerminateVnfRequest"))
      return bad(*u);
    if (auto w = wrongType(body, "terminationType", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "gracefulTerminationTimeout", json::value_t::number_integer, "an integer"))
      return bad(*w);
    const std::string type = body.value("terminationType", "");
    if (type != "FORCEFUL" && type != "GRACEFUL") return bad("field 'terminationType' must be FORCEFUL or GRACEFUL");
    if (body.contains("gracefulTerminationTimeout")) {
      auto t = body["gracefulTerminationTimeout"].get<long long>();
      if (t < 1 || t > 3600) return bad(fmt::format("gracefulTerminationTimeout {} is outside 1..3600 seconds", t));
    }
    return startTask(r, id, "TERMINATE", body, instantiated, json::object());
  }
  if (op == "scale") {
    if (auto u = unknownField(body, {"type", "aspectId", "numberOfSteps", "additionalParams"}, "ScaleVnfRequest"))
      return bad(*u);
    if (auto w = wrongType(body, "type", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "aspectId", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "numberOfSteps", json::value_t::number_integer, "an integer")) return bad(*w);
    const std::string type = body.value("type", "");
    if (type != "SCALE_OUT" && type != "SCALE_IN") return bad("field 'type' must be SCALE_OUT or SCALE_IN");
    if (body.value("aspectId", "") != "vnfc")
      return bad("field 'aspectId' must be \"vnfc\" (the one scaling aspect: domains of the instance)");
    const long long steps = body.contains("numberOfSteps") ? body["numberOfSteps"].get<long long>() : 1;
    if (steps < 1 || steps > config_.max_vnfcs)
      return bad(fmt::format("numberOfSteps {} is outside 1..{}", steps, config_.max_vnfcs));
    auto check = [&, steps, type](json& inst) -> Result<void> {
      if (auto ok = instantiated(inst); !ok) return ok;
      const int count = static_cast<int>(inst["_vnfctl"]["domains"].size());
      const long long target = type == "SCALE_OUT" ? count + steps : count - steps;
      if (target < 1 || target > config_.max_vnfcs) {
        return fail(Errc::kBadContent, fmt::format("scaling {} VNFCs by {} {} gives {}, outside 1..{}", count, steps,
                                                   type == "SCALE_OUT" ? "out" : "in", target, config_.max_vnfcs));
      }
      if (type == "SCALE_OUT") return scalableOut(inst["_vnfctl"], count);
      return {};
    };
    return startTask(r, id, "SCALE", body, check, json::object());
  }
  if (op == "heal") {
    if (auto u = unknownField(body, {"cause", "vnfcInstanceId", "additionalParams"}, "HealVnfRequest")) return bad(*u);
    if (auto w = wrongType(body, "cause", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "vnfcInstanceId", json::value_t::array, "an array of VNFC ids")) return bad(*w);
    if (auto w = wrongType(body, "additionalParams", json::value_t::object, "an object")) return bad(*w);
    const json params = body.value("additionalParams", json::object());
    if (auto u = unknownField(params, {"healType"}, "HealVnfRequest.additionalParams")) return bad(*u);
    const std::string how = params.value("healType", "restart");
    if (how != "restart" && how != "redefine")
      return bad("additionalParams.healType must be \"restart\" or \"redefine\"");
    auto check = [&](json& inst) -> Result<void> {
      if (auto ok = instantiated(inst); !ok) return ok;
      auto domains = inst["_vnfctl"]["domains"].get<std::vector<std::string>>();
      for (const auto& v : body.value("vnfcInstanceId", json::array())) {
        if (!v.is_string() || std::find(domains.begin(), domains.end(), v.get<std::string>()) == domains.end()) {
          return fail(Errc::kBadContent, fmt::format("vnfcInstanceId {} is not a VNFC of instance {}", v.dump(), id));
        }
      }
      return {};
    };
    return startTask(r, id, "HEAL", body, check, json::object());
  }
  if (op == "operate") {
    if (auto u = unknownField(body, {"changeStateTo", "stopType", "gracefulStopTimeout", "additionalParams"},
                              "OperateVnfRequest"))
      return bad(*u);
    if (auto w = wrongType(body, "changeStateTo", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "stopType", json::value_t::string, "a string")) return bad(*w);
    if (auto w = wrongType(body, "gracefulStopTimeout", json::value_t::number_integer, "an integer")) return bad(*w);
    const std::string to = body.value("changeStateTo", "");
    if (to != "STARTED" && to != "STOPPED") return bad("field 'changeStateTo' must be STARTED or STOPPED");
    const std::string stop = body.value("stopType", "FORCEFUL");
    if (stop != "FORCEFUL" && stop != "GRACEFUL") return bad("field 'stopType' must be FORCEFUL or GRACEFUL");
    if (body.contains("gracefulStopTimeout")) {
      auto t = body["gracefulStopTimeout"].get<long long>();
      if (t < 1 || t > 3600) return bad(fmt::format("gracefulStopTimeout {} is outside 1..3600 seconds", t));
    }
    return startTask(r, id, "OPERATE", body, instantiated, json::object());
  }
  return problem(404, "Not Found", "no such task");
}

// ---- operation occurrences ----

json Service::opOccView(const json& stored) const {
  json v = stored;
  v.erase("_vnfctl");
  const std::string self = fmt::format("{}{}/vnf_lcm_op_occs/{}", config_.base_url, kPrefix, stored.value("id", ""));
  v["_links"] = {
      {"self", {{"href", self}}},
      {"vnfInstance",
       {{"href", fmt::format("{}{}/vnf_instances/{}", config_.base_url, kPrefix, stored.value("vnfInstanceId", ""))}}}};
  if (stored.value("operationState", "") == "FAILED_TEMP") {
    for (const char* a : {"retry", "rollback", "fail"}) v["_links"][a] = {{"href", self + "/" + a}};
  }
  return v;
}

Response Service::listOpOccs(const Request&, const std::map<std::string, std::string>& query) {
  std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> filter;
  if (auto it = query.find("filter"); it != query.end()) {
    auto f = parseFilter(it->second, {"id", "operationState", "vnfInstanceId", "operation"});
    if (!f) return problem(400, "Bad Request", f.error().message);
    filter = *f;
  }
  auto rows = store_.list(Table::kOpOccs);
  if (!rows) return storeFailure(rows.error());
  std::vector<json> views;
  for (const auto& row : *rows) {
    if (matches(row, filter)) views.push_back(opOccView(row));
  }
  return page(views, query, config_.page_size, config_.base_url + kPrefix + "/vnf_lcm_op_occs");
}

Response Service::getOpOcc(const std::string& id) {
  auto row = store_.get(Table::kOpOccs, id);
  if (!row) return storeFailure(row.error());
  if (!*row) return problem(404, "Not Found", fmt::format("no operation occurrence with id '{}'", id.substr(0, 80)));
  return jsonResponse(200, opOccView(**row));
}

Response Service::opOccAction(const Request& r, const std::string& id, const std::string& action) {
  if (action != "retry" && action != "rollback" && action != "fail") {
    return problem(404, "Not Found", fmt::format("no action '{}' (retry, rollback, fail)", action.substr(0, 40)));
  }
  Response resp;
  json done;
  auto ok = store_.transaction([&]() -> Result<void> {
    auto row = store_.get(Table::kOpOccs, id);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      resp = problem(404, "Not Found", fmt::format("no operation occurrence with id '{}'", id.substr(0, 80)));
      return {};
    }
    json occ = **row;
    const std::string state = occ.value("operationState", "");
    if (state != "FAILED_TEMP") {
      resp = problem(409, "Conflict",
                     fmt::format("operation occurrence {} is {}; {} needs FAILED_TEMP", id, state, action));
      return {};
    }
    const std::string operation = occ.value("operation", "");
    if (action == "rollback" && operation != "INSTANTIATE" && operation != "SCALE") {
      resp = problem(
          409, "Conflict",
          fmt::format("{} cannot be rolled back (only INSTANTIATE and SCALE can); retry or fail it", operation));
      return {};
    }
    occ["stateEnteredTime"] = nowIso();
    if (action == "fail") {
      occ["operationState"] = "FAILED";
      resp.status = 200;
      done = occ;
    } else {
      occ["operationState"] = action == "retry" ? "PROCESSING" : "ROLLING_BACK";
      resp.status = 202;
    }
    return store_.put(Table::kOpOccs, occ, occ.value("vnfInstanceId", ""), occ["operationState"]);
  });
  if (!ok) return storeFailure(ok.error());
  audit(r, action, id, std::to_string(resp.status));
  if (resp.status == 200) {
    notifyOpOcc(done, "RESULT");
    return jsonResponse(200, opOccView(done));
  }
  if (resp.status == 202) {
    if (auto occ = store_.get(Table::kOpOccs, id); occ && *occ) notifyOpOcc(**occ, "START");
  }
  if (resp.status != 202) return resp;
  resp.headers.emplace_back("Location", fmt::format("{}{}/vnf_lcm_op_occs/{}", config_.base_url, kPrefix, id));
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(id, action == "rollback");
  }
  cv_.notify_all();
  return resp;
}

// ---- the worker ----

void Service::workerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stopping, nothing queued
    if (stopping_) break;
    auto [id, rollback] = jobs_.front();
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    runJob(id, rollback);
    refreshNow();
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
  busy_ = false;
  cv_.notify_all();
}

void Service::runJob(const std::string& occ_id, bool rollback) {
  auto row = store_.get(Table::kOpOccs, occ_id);
  if (!row || !*row) return;
  json occ = **row;
  const std::string instance_id = occ.value("vnfInstanceId", "");
  auto inst_row = store_.get(Table::kInstances, instance_id);
  if (!inst_row || !*inst_row) return;
  json inst = **inst_row;
  if (!rollback) {
    occ["operationState"] = "PROCESSING";
    occ["stateEnteredTime"] = nowIso();
    (void)store_.put(Table::kOpOccs, occ, instance_id, "PROCESSING");
    notifyOpOcc(occ, "START");
  }
  auto result = rollback ? runRollback(occ, inst) : runOperation(occ, inst);
  occ["stateEnteredTime"] = nowIso();
  if (result) {
    // The recipe hash each domain has now: a later read that finds another one shows the domain
    // was redefined behind the API's back (virsh, the CLI).
    refreshNow();
    json hashes = json::object();
    {
      std::lock_guard lock(domains_mu_);
      for (const auto& name : inst["_vnfctl"].value("domains", std::vector<std::string>{})) {
        if (auto it = domains_.find(name); it != domains_.end()) hashes[name] = it->second.spec_hash;
      }
    }
    inst["_vnfctl"]["hashes"] = hashes;
    occ["operationState"] = rollback ? "ROLLED_BACK" : "COMPLETED";
    occ.erase("error");
  } else {
    occ["operationState"] = "FAILED_TEMP";
    occ["error"] = problemJson(result.error());
  }
  const std::string state = occ["operationState"];
  auto ok = store_.transaction([&]() -> Result<void> {
    if (auto p = store_.put(Table::kInstances, inst, "", inst.value("instantiationState", "")); !p) return p;
    return store_.put(Table::kOpOccs, occ, instance_id, state);
  });
  if (!ok) std::fprintf(stderr, "vnfctl serve: %s\n", ok.error().str().c_str());
  notifyOpOcc(occ, "RESULT");
  if (audit_) {
    audit_(fmt::format("audit opOcc={} op={}{} instance={} result={}{}", occ_id, occ.value("operation", ""),
                       rollback ? " rollback" : "", instance_id, state,
                       result ? "" : " error=\"" + result.error().message.substr(0, 300) + "\""));
  }
}

Result<std::vector<VnfSpec>> Service::specsFor(const json& priv, int count) const {
  auto spec = parseSpecYaml(priv.value("spec", ""), "recorded spec");
  if (!spec) return std::unexpected(spec.error());
  spec->name = priv.value("base", "");
  // A pooled instance scaled in to one VNFC keeps VNFC 1 as it was defined (derived MACs, pool VF).
  const int n = std::max(count, 1);
  spec->count = pooled(priv, n) ? std::max(n, 2) : 1;
  auto specs = expandCount(*spec);
  specs.erase(specs.begin() + n, specs.end());
  if (spec->count == 1) specs[0].name += "-1";
  for (auto& s : specs) lifecycle::resolveBootFiles(s, config_.render);
  return specs;
}

Result<void> Service::launchSpecs(const std::vector<VnfSpec>& specs, bool replace) {
  lifecycle::LaunchRequest req;
  req.specs = specs;
  req.render = config_.render;
  req.start = true;
  req.replace = replace;
  req.ready_timeout = config_.ready_timeout;
  auto r = lifecycle::launch(env_, req);
  if (r) return {};
  Error e = r.error().error;
  if (!r.error().rolled_back.empty())
    e.message += fmt::format(" (rolled back: {} step(s))", r.error().rolled_back.size());
  return std::unexpected(std::move(e));
}

Result<void> Service::removeDomains(const std::vector<std::string>& names, bool graceful, std::chrono::seconds grace) {
  for (const auto& name : names) {
    if (graceful) {
      auto s = lifecycle::apply(env_, lifecycle::Op::kStop, name, grace);
      if (!s && s.error().code == Errc::kNoSuchVnf) continue;
      // A guest that ignores the graceful stop is powered off when the timeout is over.
      if (!s && s.error().code != Errc::kTimeout) return std::unexpected(s.error());
    }
    auto d = lifecycle::apply(env_, lifecycle::Op::kDestroy, name);
    if (!d && d.error().code == Errc::kNoSuchVnf) continue;  // already gone (virsh, the CLI)
    if (!d) return std::unexpected(d.error());
    auto u = lifecycle::apply(env_, lifecycle::Op::kUndefine, name);
    if (!u && u.error().code != Errc::kNoSuchVnf) return std::unexpected(u.error());
  }
  return {};
}

Result<void> Service::runOperation(json& occ, json& inst) {
  const std::string op = occ.value("operation", "");
  const json& params = occ["operationParams"];
  json& priv = inst["_vnfctl"];
  auto domainsNow = [&] { return priv.value("domains", std::vector<std::string>{}); };
  auto recordDomains = [&](const std::vector<VnfSpec>& specs) {
    json names = json::array();
    for (const auto& s : specs) names.push_back(s.name);
    priv["domains"] = names;
  };
  if (op == "MODIFY_INFO") {
    for (const char* k : {"vnfInstanceName", "vnfInstanceDescription"}) {
      if (params.contains(k)) inst[k] = params[k].is_null() ? json("") : params[k];
    }
    if (params.contains("metadata")) mergePatch(inst["metadata"], params["metadata"]);
    if (!inst["metadata"].is_object()) inst["metadata"] = json::object();
    return {};
  }
  if (op == "INSTANTIATE") {
    const json pending = priv.value("pending", json::object());
    const int count = pending.value("count", 1);
    auto specs = specsFor(pending, count);
    if (!specs) return std::unexpected(specs.error());
    if (auto ok = launchSpecs(*specs, false); !ok) return ok;
    priv["spec"] = pending["spec"];
    priv["base"] = pending["base"];
    priv["flavourId"] = pending["flavourId"];
    priv["scaleLevel"] = 0;
    priv["baseCount"] = count;
    priv.erase("pending");
    recordDomains(*specs);
    inst["instantiationState"] = "INSTANTIATED";
    return {};
  }
  if (op == "TERMINATE") {
    const bool graceful = params.value("terminationType", "") == "GRACEFUL";
    const auto grace = std::chrono::seconds(params.value("gracefulTerminationTimeout", 30));
    if (auto ok = removeDomains(domainsNow(), graceful, grace); !ok) return ok;
    inst["instantiationState"] = "NOT_INSTANTIATED";
    priv = {{"domains", json::array()}, {"scaleLevel", 0}};
    return {};
  }
  if (op == "SCALE") {
    const int count = static_cast<int>(domainsNow().size());
    const int steps = params.value("numberOfSteps", 1);
    const bool out = params.value("type", "") == "SCALE_OUT";
    occ["_vnfctl"]["countBefore"] = count;
    const int target = out ? count + steps : count - steps;
    auto specs = specsFor(priv, target);
    if (!specs) return std::unexpected(specs.error());
    if (out) {
      if (auto ok = launchSpecs(*specs, false); !ok) return ok;
    } else {
      auto names = domainsNow();
      std::vector<std::string> gone(names.begin() + target, names.end());
      std::reverse(gone.begin(), gone.end());
      if (auto ok = removeDomains(gone, false, std::chrono::seconds(0)); !ok) return ok;
    }
    recordDomains(*specs);
    priv["scaleLevel"] = target - priv.value("baseCount", 1);
    return {};
  }
  if (op == "HEAL") {
    const auto names = domainsNow();
    std::vector<std::string> scope = params.value("vnfcInstanceId", std::vector<std::string>{});
    if (scope.empty()) scope = names;
    const bool redefine = params.value("additionalParams", json::object()).value("healType", "restart") == "redefine";
    for (const auto& name : scope) {
      auto d = lifecycle::apply(env_, lifecycle::Op::kDestroy, name);
      if (!d && d.error().code != Errc::kNoSuchVnf) return std::unexpected(d.error());
      if (redefine && d) {
        auto u = lifecycle::apply(env_, lifecycle::Op::kUndefine, name);
        if (!u) return std::unexpected(u.error());
      }
    }
    // The recorded spec puts back what is missing and redefines what was changed behind our back.
    auto specs = specsFor(priv, static_cast<int>(names.size()));
    if (!specs) return std::unexpected(specs.error());
    if (auto ok = launchSpecs(*specs, true); !ok) return ok;
    recordDomains(*specs);
    return {};
  }
  if (op == "OPERATE") {
    const bool start = params.value("changeStateTo", "") == "STARTED";
    const bool graceful = params.value("stopType", "FORCEFUL") == "GRACEFUL";
    const auto grace = std::chrono::seconds(params.value("gracefulStopTimeout", 30));
    for (const auto& name : domainsNow()) {
      Result<lifecycle::OpResult> r;
      if (start) {
        r = lifecycle::apply(env_, lifecycle::Op::kStart, name);
      } else if (graceful) {
        r = lifecycle::apply(env_, lifecycle::Op::kStop, name, grace);
        if (!r && r.error().code == Errc::kTimeout) r = lifecycle::apply(env_, lifecycle::Op::kDestroy, name);
      } else {
        r = lifecycle::apply(env_, lifecycle::Op::kDestroy, name);
      }
      if (!r) return std::unexpected(r.error());
    }
    return {};
  }
  return fail(Errc::kInvalidArgument, fmt::format("unknown operation {}", op));
}

Result<void> Service::runRollback(json& occ, json& inst) {
  const std::string op = occ.value("operation", "");
  json& priv = inst["_vnfctl"];
  if (op == "INSTANTIATE") {
    // What a failed or killed instantiate may have left: every domain of the instance's names.
    const json pending = priv.value("pending", json::object());
    auto specs = specsFor(pending, pending.value("count", 1));
    if (!specs) return std::unexpected(specs.error());
    std::vector<std::string> names;
    for (const auto& s : *specs) names.push_back(s.name);
    if (auto ok = removeDomains(names, false, std::chrono::seconds(0)); !ok) return ok;
    priv.erase("pending");
    inst["instantiationState"] = "NOT_INSTANTIATED";
    return {};
  }
  if (op == "SCALE") {
    const int before = occ["_vnfctl"].value("countBefore", static_cast<int>(priv["domains"].size()));
    auto specs = specsFor(priv, before);
    if (!specs) return std::unexpected(specs.error());
    if (occ["operationParams"].value("type", "") == "SCALE_OUT") {
      std::vector<std::string> extra;
      for (int i = before + 1; i <= before + occ["operationParams"].value("numberOfSteps", 1); ++i)
        extra.push_back(priv.value("base", "") + "-" + std::to_string(i));
      if (auto ok = removeDomains(extra, false, std::chrono::seconds(0)); !ok) return ok;
    } else if (auto ok = launchSpecs(*specs, false); !ok) {
      return ok;
    }
    json names = json::array();
    for (const auto& s : *specs) names.push_back(s.name);
    priv["domains"] = names;
    priv["scaleLevel"] = before - priv.value("baseCount", 1);
    return {};
  }
  return fail(Errc::kInvalidArgument, fmt::format("{} cannot be rolled back", op));
}

// ---- subscriptions and notifications ----

Response Service::subscriptions(const Request& r, const std::vector<std::string>& parts, const json& body) {
  const bool get = r.method == "GET";
  if (parts.size() == 1 && get) {
    auto rows = store_.list(Table::kSubscriptions);
    if (!rows) return storeFailure(rows.error());
    std::map<std::string, std::string> none;
    return page(*rows, none, config_.page_size, config_.base_url + kPrefix + "/subscriptions");
  }
  if (parts.size() == 2 && (get || r.method == "DELETE")) {
    auto row = store_.get(Table::kSubscriptions, parts[1]);
    if (!row) return storeFailure(row.error());
    if (!*row) return problem(404, "Not Found", fmt::format("no subscription with id '{}'", parts[1].substr(0, 80)));
    if (get) return jsonResponse(200, **row);
    if (auto ok = store_.remove(Table::kSubscriptions, parts[1]); !ok) return storeFailure(ok.error());
    audit(r, "DELETE_SUBSCRIPTION", "", "204 subscription=" + parts[1]);
    Response resp;
    resp.status = 204;
    return resp;
  }
  if (parts.size() != 1 || r.method != "POST") {
    return problem(405, "Method Not Allowed", "subscriptions: GET, POST; subscriptions/{id}: GET, DELETE");
  }
  if (auto u = unknownField(body, {"filter", "callbackUri", "authentication", "verbosity"}, "LccnSubscriptionRequest"))
    return problem(400, "Bad Request", *u);
  if (auto w = wrongType(body, "callbackUri", json::value_t::string, "a string"))
    return problem(400, "Bad Request", *w);
  if (auto w = wrongType(body, "filter", json::value_t::object, "an object")) return problem(400, "Bad Request", *w);
  if (body.contains("authentication")) {
    return problem(
        422, "Unprocessable Entity",
        "authentication is not supported: notifications are sent over HTTPS with the server's CA check only");
  }
  if (!body.contains("callbackUri")) return problem(400, "Bad Request", "field 'callbackUri' is required");
  const json filter = body.value("filter", json::object());
  if (auto u = unknownField(filter,
                            {"vnfInstanceSubscriptionFilter", "notificationTypes", "operationTypes", "operationStates"},
                            "LifecycleChangeNotificationsFilter"))
    return problem(400, "Bad Request", *u);
  for (const char* k : {"notificationTypes", "operationTypes", "operationStates"}) {
    if (!filter.contains(k)) continue;
    if (!filter[k].is_array() ||
        !std::all_of(filter[k].begin(), filter[k].end(), [](const json& v) { return v.is_string(); }))
      return problem(400, "Bad Request", fmt::format("filter.{} must be an array of strings", k));
  }
  const std::string uri = body["callbackUri"];
  if (auto u = parseCallbackUri(uri); !u) return problem(422, "Unprocessable Entity", u.error().message);
  // The test GET: the subscriber must answer 204 before the subscription exists.
  auto probe = httpsRequest(notify_config_, "GET", uri, "");
  if (!probe || *probe != 204) {
    audit(r, "SUBSCRIBE", "", "422");
    return problem(422, "Unprocessable Entity",
                   fmt::format("the test GET to callbackUri {} did not answer 204: {}", uri.substr(0, 200),
                               probe ? fmt::format("status {}", *probe) : probe.error().message));
  }
  json sub{{"id", newId()}, {"filter", filter}, {"callbackUri", uri}, {"verbosity", body.value("verbosity", "FULL")}};
  sub["_links"] = {
      {"self",
       {{"href", fmt::format("{}{}/subscriptions/{}", config_.base_url, kPrefix, sub["id"].get<std::string>())}}}};
  if (auto ok = store_.put(Table::kSubscriptions, sub); !ok) return storeFailure(ok.error());
  audit(r, "SUBSCRIBE", "", "201 subscription=" + sub["id"].get<std::string>());
  Response resp = jsonResponse(201, sub);
  resp.headers.emplace_back("Location", sub["_links"]["self"]["href"]);
  return resp;
}

void Service::notifyOpOcc(const json& occ, const char* status) {
  json n{{"notificationType", "VnfLcmOperationOccurrenceNotification"},
         {"notificationStatus", status},
         {"operationState", occ.value("operationState", "")},
         {"vnfInstanceId", occ.value("vnfInstanceId", "")},
         {"operation", occ.value("operation", "")},
         {"isAutomaticInvocation", false},
         {"vnfLcmOpOccId", occ.value("id", "")}};
  if (occ.contains("error")) n["error"] = occ["error"];
  n["_links"] = {{"vnfLcmOpOcc",
                  {{"href", fmt::format("{}{}/vnf_lcm_op_occs/{}", config_.base_url, kPrefix, occ.value("id", ""))}}}};
  notify(std::move(n));
}

void Service::notify(json n) {
  if (!notifier_) return;
  auto subs = store_.list(Table::kSubscriptions);
  if (!subs) return;
  const std::string type = n["notificationType"];
  const std::string instance = n.value("vnfInstanceId", "");
  n["timeStamp"] = nowIso();
  n["_links"]["vnfInstance"] = {{"href", fmt::format("{}{}/vnf_instances/{}", config_.base_url, kPrefix, instance)}};
  auto listed = [](const json& f, const char* key, const std::string& v) {
    if (!f.contains(key) || !f[key].is_array() || f[key].empty()) return true;
    return std::find(f[key].begin(), f[key].end(), json(v)) != f[key].end();
  };
  for (const auto& sub : *subs) {
    const json& f = sub.value("filter", json::object());
    if (!listed(f, "notificationTypes", type)) continue;
    if (n.contains("operation") && !listed(f, "operationTypes", n["operation"])) continue;
    if (n.contains("operationState") && !listed(f, "operationStates", n["operationState"])) continue;
    if (f.contains("vnfInstanceSubscriptionFilter") &&
        !listed(f["vnfInstanceSubscriptionFilter"], "vnfInstanceIds", instance))
      continue;
    json one = n;
    one["id"] = newId();
    one["subscriptionId"] = sub.value("id", "");
    one["_links"]["subscription"] = sub.value("_links", json::object()).value("self", json::object());
    notifier_->post(sub.value("callbackUri", ""), one.dump());
  }
}

// ---- indicators (the forwarder's counters) ----

namespace {

// The last two "VNF-FWD STATS {json}" documents with totals in the last 256 KiB of a serial log,
// oldest first: the same tail reader and parser as `vnfctl stats` (common/file_io readFileTail,
// diagnose::lastForwarderStats), so a FIFO or device in the log's place is skipped at once and a
// line the guest is still writing is passed over.
std::vector<json> lastStats(const std::string& log) {
  if (log.empty()) return {};
  auto tail = readFileTail(log, 256 * 1024, "serial log");
  if (!tail) return {};
  std::vector<json> out;
  for (auto& doc : diagnose::lastForwarderStats(*tail, 2))
    if (doc.contains("totals") && doc["totals"].is_object()) out.push_back(std::move(doc));
  return out;
}

}  // namespace

std::optional<json> Service::forwarderTotals(const json& instance) {
  std::vector<std::string> logs;
  {
    std::lock_guard lock(domains_mu_);
    for (const auto& name : instance["_vnfctl"].value("domains", std::vector<std::string>{})) {
      if (auto it = domains_.find(name); it != domains_.end()) logs.push_back(it->second.serial_log);
    }
  }
  json sum{{"rxPackets", 0},
           {"txPackets", 0},
           {"dropPackets", 0},
           {"ringFullEvents", 0},
           {"rxPacketsPerSecond", 0.0},
           {"txPacketsPerSecond", 0.0},
           {"dropPacketsPerSecond", 0.0}};
  bool any = false;
  auto u64 = [](const json& t, const char* k) { return t.contains(k) && t[k].is_number() ? t[k].get<double>() : 0.0; };
  for (const auto& log : logs) {
    auto stats = lastStats(log);
    if (stats.empty()) continue;
    any = true;
    const json& last = stats.back()["totals"];
    sum["rxPackets"] = sum["rxPackets"].get<double>() + u64(last, "rx");
    sum["txPackets"] = sum["txPackets"].get<double>() + u64(last, "tx");
    sum["dropPackets"] = sum["dropPackets"].get<double>() + u64(last, "drops");
    sum["ringFullEvents"] = sum["ringFullEvents"].get<double>() + u64(last, "tx_full_drops");
    if (stats.size() == 2) {
      const double dt = u64(stats[1], "uptime_s") - u64(stats[0], "uptime_s");
      if (dt > 0) {
        const json& first = stats[0]["totals"];
        for (auto [out, key] : {std::pair{"rxPacketsPerSecond", "rx"}, std::pair{"txPacketsPerSecond", "tx"},
                                std::pair{"dropPacketsPerSecond", "drops"}}) {
          sum[out] = sum[out].get<double>() + std::max(0.0, (u64(last, key) - u64(first, key)) / dt);
        }
      }
    }
  }
  if (!any) return std::nullopt;
  return sum;
}

Response Service::indicators(const std::string& instance_id) {
  std::vector<json> rows;
  if (instance_id.empty()) {
    auto all = store_.list(Table::kInstances);
    if (!all) return storeFailure(all.error());
    rows = std::move(*all);
  } else {
    auto one = store_.get(Table::kInstances, instance_id);
    if (!one) return storeFailure(one.error());
    if (!*one) return problem(404, "Not Found", fmt::format("no VNF instance with id '{}'", instance_id.substr(0, 80)));
    rows.push_back(**one);
  }
  json out = json::array();
  for (const auto& inst : rows) {
    if (inst.value("instantiationState", "") != "INSTANTIATED") continue;
    auto totals = forwarderTotals(inst);
    if (!totals) continue;
    const std::string id = inst["id"];
    for (auto it = totals->begin(); it != totals->end(); ++it) {
      out.push_back(
          {{"id", it.key()},
           {"name", it.key()},
           {"value", it.value()},
           {"vnfInstanceId", id},
           {"_links",
            {{"self", {{"href", fmt::format("{}/vnfind/v1/indicators/{}/{}", config_.base_url, id, it.key())}}},
             {"vnfInstance", {{"href", fmt::format("{}{}/vnf_instances/{}", config_.base_url, kPrefix, id)}}}}}});
    }
  }
  return jsonResponse(200, out);
}

// ---- metrics ----

Response Service::metrics() {
  auto rows = store_.list(Table::kInstances);
  if (!rows) return storeFailure(rows.error());
  auto occs = store_.list(Table::kOpOccs);
  if (!occs) return storeFailure(occs.error());
  std::map<std::string, int> by_state{{"INSTANTIATED", 0}, {"NOT_INSTANTIATED", 0}};
  for (const auto& r : *rows) by_state[r.value("instantiationState", "")]++;
  std::map<std::string, int> occ_state;
  for (const auto& o : *occs) occ_state[o.value("operationState", "")]++;
  std::string out =
      "# HELP vnfctl_vnf_instances VNF instances by instantiation state.\n# TYPE vnfctl_vnf_instances gauge\n";
  for (const auto& [s, n] : by_state) out += fmt::format("vnfctl_vnf_instances{{state=\"{}\"}} {}\n", s, n);
  out += "# HELP vnfctl_lcm_op_occs LCM operation occurrences by state.\n# TYPE vnfctl_lcm_op_occs gauge\n";
  for (const auto& [s, n] : occ_state) out += fmt::format("vnfctl_lcm_op_occs{{state=\"{}\"}} {}\n", s, n);
  {
    std::lock_guard lock(domains_mu_);
    std::map<std::string, int> dom;
    for (const auto& [name, d] : domains_) dom[d.state]++;
    out += "# HELP vnfctl_domains VNF domains in libvirt by state.\n# TYPE vnfctl_domains gauge\n";
    for (const auto& [s, n] : dom) out += fmt::format("vnfctl_domains{{state=\"{}\"}} {}\n", s, n);
    out += fmt::format(
        "# HELP vnfctl_libvirt_up Whether the last libvirt read worked.\n# TYPE vnfctl_libvirt_up "
        "gauge\nvnfctl_libvirt_up {}\n",
        domains_known_ ? 1 : 0);
  }
  // The host's hugepage pools per NUMA node and page size, read from sysfs now (discovery of the
  // host the engine plans for: --host-root in tests).
  if (env_.discover) {
    auto host = env_.discover();
    out += fmt::format(
        "# HELP vnfctl_host_up Whether the host's sysfs could be read for this scrape.\n# TYPE vnfctl_host_up "
        "gauge\nvnfctl_host_up {}\n",
        host ? 1 : 0);
    if (host) {
      // One gauge per pool field: reserved (nr_hugepages) and free (free_hugepages).
      auto gauge = [&](const char* name, const char* help, auto field) {
        out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n", name, help);
        for (const auto& node : host->nodes) {
          for (const auto& pool : node.hugepages) {
            out += fmt::format("{}{{node=\"{}\",page_size_kib=\"{}\"}} {}\n", name, node.id, pool.page_size_kib,
                               pool.*field);
          }
        }
      };
      gauge("vnfctl_host_hugepages", "Hugepages reserved per NUMA node and page size (nr_hugepages).",
            &HugePagePool::total);
      gauge("vnfctl_host_hugepages_free", "Hugepages free per NUMA node and page size (free_hugepages).",
            &HugePagePool::free);
    }
  }
  out +=
      "# HELP vnfctl_fwd_packets_total The forwarder's packet counters per VNF instance (serial log).\n"
      "# TYPE vnfctl_fwd_packets_total counter\n";
  for (const auto& inst : *rows) {
    if (inst.value("instantiationState", "") != "INSTANTIATED") continue;
    auto totals = forwarderTotals(inst);
    if (!totals) continue;
    for (auto [key, what] : {std::pair{"rxPackets", "rx"}, std::pair{"txPackets", "tx"},
                             std::pair{"dropPackets", "drop"}, std::pair{"ringFullEvents", "ring_full"}}) {
      out += fmt::format("vnfctl_fwd_packets_total{{instance=\"{}\",counter=\"{}\"}} {}\n", inst.value("id", ""), what,
                         (*totals)[key].get<double>());
    }
  }
  Response r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  return r;
}

}  // namespace vnf::api
