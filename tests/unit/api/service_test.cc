// The SOL003 service request by request, below HTTPS, against libvirt's test driver: tasks go
// through the lifecycle engine; libvirt stays the truth (a domain removed or redefined behind the
// API's back shows on the next read, and heal or terminate deal with it); a killed server's
// operation comes back FAILED_TEMP; one task per instance at a time, also under a race; roles,
// Version, rate limit and bad input answer ProblemDetails and change nothing.
#include "api/service.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include <fmt/format.h>

#include "discovery/discover.h"
#include "host/host_fs.h"
#include "spec/load.h"
#include "tests/unit/engine_env.h"
#include "tests/unit/test_util.h"
#include "virt/vnf_domains.h"

namespace vnf::api {
namespace {

using nlohmann::json;

class ReadyAtOnce final : public lifecycle::ReadinessSource {
 public:
  Result<ReadyLine> waitReady(const Connection&, const std::string& name, const std::string&, std::chrono::seconds,
                              const lifecycle::CancelToken&, const std::function<void(double)>&) override {
    return ReadyLine{"VNF-READY name=" + name, 0.1};
  }
};

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::setUpTestDriver("api", dir_, conn_, env_));
    test::writeFile(dir_ / "vnfd" / "fw.yaml", "name: fw\nvcpus: 2\nmemory: 1G\nhugepages: 1G\n");
    env_.readiness = &ready_;
    env_.lock_wait = std::chrono::milliseconds(2000);
    config_.vnfd_dir = (dir_ / "vnfd").string();
    config_.base_url = "https://192.0.2.1:8443";
    config_.render.templates_dir = VNF_TEMPLATES;
    config_.render.image_dir = dir_ / "image";
    config_.render.log_dir = (dir_ / "logs").string();
    config_.render.domain_type = DomainType::kQemu;
    config_.mutations_per_second = 1000;
    config_.mutation_burst = 1000;
    config_.refresh = std::chrono::milliseconds(50);
    auto s = Store::open((dir_ / "api.sqlite").string());
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    conn_.reset();
    std::filesystem::remove_all(dir_);
  }
  Service& service() {
    if (!service_) {
      service_ = std::make_unique<Service>(config_, *store_, env_, [this](const std::string& l) {
        std::lock_guard lock(audit_mu_);
        audit_.push_back(l);
      });
      service_->start();
    }
    return *service_;
  }
  Response call(const std::string& method, const std::string& target, const std::string& body = "",
                Role role = Role::kOperator) {
    Request r;
    r.method = method;
    r.target = target;
    r.version = "2.0.0";
    r.body = body;
    if (!body.empty()) r.content_type = "application/json";
    r.subject = role == Role::kOperator ? "CN=op" : "CN=ro";
    r.role = role;
    return service().handle(r);
  }
  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }
  static std::string path(const std::string& url) { return url.substr(std::string("https://192.0.2.1:8443").size()); }
  // Creates an instance of a VNFD and instantiates it; returns its path.
  std::string instantiated(const std::string& vnfd = "fw") {
    auto c = call("POST", "/vnflcm/v2/vnf_instances", json{{"vnfdId", vnfd}}.dump());
    EXPECT_EQ(c.status, 201) << c.body;
    const std::string inst = path(header(c, "Location"));
    auto i = call("POST", inst + "/instantiate", R"({"flavourId":"default"})");
    EXPECT_EQ(i.status, 202) << i.body;
    EXPECT_TRUE(i.body.empty());
    service().waitIdle();
    auto occ = json::parse(call("GET", path(header(i, "Location"))).body);
    EXPECT_EQ(occ["operationState"], "COMPLETED") << occ.dump();
    return inst;
  }
  json get(const std::string& p) {
    auto r = call("GET", p);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  json task(const std::string& p, const std::string& body) {
    auto r = call("POST", p, body);
    EXPECT_EQ(r.status, 202) << r.body;
    service().waitIdle();
    return get(path(header(r, "Location")));
  }

  std::filesystem::path dir_;
  std::optional<Connection> conn_;
  ReadyAtOnce ready_;
  lifecycle::Environment env_;
  ServiceConfig config_;
  std::optional<Store> store_;
  std::unique_ptr<Service> service_;
  std::mutex audit_mu_;
  std::vector<std::string> audit_;
};

TEST_F(ServiceTest, InstantiateRunsTheEngineAndTheInstanceReadsLibvirt) {
  const std::string inst = instantiated();
  auto v = get(inst);
  EXPECT_EQ(v["instantiationState"], "INSTANTIATED");
  const auto& info = v["instantiatedVnfInfo"];
  EXPECT_EQ(info["vnfState"], "STARTED");
  ASSERT_EQ(info["vnfcResourceInfo"].size(), 1u);
  const std::string domain = info["vnfcResourceInfo"][0]["id"];
  EXPECT_EQ(domain, "fw-" + inst.substr(inst.rfind('/') + 1, 8) + "-1");
  EXPECT_EQ(domainState(*conn_, domain).value(), DomainState::kRunning);
  EXPECT_FALSE(info.contains("metadata")) << info.dump();  // no drift
  EXPECT_FALSE(v.contains("_vnfctl"));
  std::lock_guard lock(audit_mu_);
  ASSERT_GE(audit_.size(), 3u);
  EXPECT_EQ(audit_[0].substr(0, 47), "audit subject=\"CN=op\" role=operator op=CREATE i");
}

TEST_F(ServiceTest, ADomainRemovedBehindTheApisBackShowsAndHealPutsItBack) {
  const std::string inst = instantiated();
  const std::string domain = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  ASSERT_TRUE(destroyDomain(*conn_, domain));
  ASSERT_TRUE(undefineDomain(*conn_, domain));
  service().refreshNow();
  auto v = get(inst);
  EXPECT_EQ(v["instantiatedVnfInfo"]["metadata"]["drift"]["missingDomains"], json::array({domain})) << v.dump();
  EXPECT_EQ(v["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["metadata"]["libvirtState"], "absent");
  EXPECT_EQ(v["instantiatedVnfInfo"]["vnfState"], "STOPPED");
  auto heal = task(inst + "/heal", R"({"cause":"gone"})");
  EXPECT_EQ(heal["operationState"], "COMPLETED") << heal.dump();
  v = get(inst);
  EXPECT_FALSE(v["instantiatedVnfInfo"].contains("metadata")) << v.dump();
  EXPECT_EQ(domainState(*conn_, domain).value(), DomainState::kRunning);
}

TEST_F(ServiceTest, ADomainRedefinedBehindTheApisBackShowsAndTerminateRemovesIt) {
  const std::string inst = instantiated();
  const std::string domain = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  // The CLI's launch --replace of the same name with other vCPUs.
  auto spec = parseSpecYaml(fmt::format("name: {}\nvcpus: 4\nmemory: 1G\nhugepages: 1G\n", domain), "cli.yaml");
  ASSERT_TRUE(spec);
  lifecycle::LaunchRequest req;
  req.specs = {*spec};
  req.render = config_.render;
  lifecycle::resolveBootFiles(req.specs[0], req.render);
  req.replace = true;
  auto l = lifecycle::launch(env_, req);
  ASSERT_TRUE(l) << l.error().error.message;
  service().refreshNow();
  auto v = get(inst);
  EXPECT_EQ(v["instantiatedVnfInfo"]["metadata"]["drift"]["changedDomains"], json::array({domain})) << v.dump();
  auto t = task(inst + "/terminate", R"({"terminationType":"FORCEFUL"})");
  EXPECT_EQ(t["operationState"], "COMPLETED") << t.dump();
  EXPECT_EQ(get(inst)["instantiationState"], "NOT_INSTANTIATED");
  auto found = findVnfDomain(*conn_, domain);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(call("DELETE", inst).status, 204);
}

TEST_F(ServiceTest, TerminateOfADomainAlreadyGoneCompletes) {
  const std::string inst = instantiated();
  const std::string domain = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  ASSERT_TRUE(destroyDomain(*conn_, domain));
  ASSERT_TRUE(undefineDomain(*conn_, domain));
  auto t = task(inst + "/terminate", R"({"terminationType":"GRACEFUL","gracefulTerminationTimeout":1})");
  EXPECT_EQ(t["operationState"], "COMPLETED") << t.dump();
}

TEST_F(ServiceTest, AnOperationAKilledServerLeftIsFailedTempAndRetryCompletesIt) {
  // What a server killed after it committed STARTING/PROCESSING leaves in the database.
  auto c = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})");
  const std::string inst = path(header(c, "Location"));
  const std::string id = inst.substr(inst.rfind('/') + 1);
  service_.reset();
  auto row = store_->get(Table::kInstances, id);
  ASSERT_TRUE(row && *row);
  json i = **row;
  i["_vnfctl"]["pending"] = {{"spec", "name: fw\nvcpus: 2\nmemory: 1G\nhugepages: 1G\n"},
                             {"base", "fw-" + id.substr(0, 8)},
                             {"flavourId", "default"},
                             {"count", 1}};
  ASSERT_TRUE(store_->put(Table::kInstances, i, "", "NOT_INSTANTIATED"));
  ASSERT_TRUE(store_->put(Table::kOpOccs,
                          {{"id", "occ1"},
                           {"operationState", "PROCESSING"},
                           {"vnfInstanceId", id},
                           {"operation", "INSTANTIATE"},
                           {"operationParams", {{"flavourId", "default"}}}},
                          id, "PROCESSING"));
  service_ = std::make_unique<Service>(config_, *store_, env_, nullptr);
  auto n = service_->recover();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  service_->start();
  auto occ = get("/vnflcm/v2/vnf_lcm_op_occs/occ1");
  EXPECT_EQ(occ["operationState"], "FAILED_TEMP");
  EXPECT_NE(occ["error"]["detail"].get<std::string>().find("the server stopped while this INSTANTIATE was PROCESSING"),
            std::string::npos)
      << occ.dump();
  EXPECT_TRUE(occ["_links"].contains("retry"));
  // Another task waits for it.
  EXPECT_EQ(call("POST", inst + "/instantiate", R"({"flavourId":"default"})").status, 409);
  EXPECT_EQ(call("POST", "/vnflcm/v2/vnf_lcm_op_occs/occ1/retry").status, 202);
  service().waitIdle();
  EXPECT_EQ(get("/vnflcm/v2/vnf_lcm_op_occs/occ1")["operationState"], "COMPLETED");
  EXPECT_EQ(get(inst)["instantiationState"], "INSTANTIATED");
  EXPECT_EQ(call("POST", "/vnflcm/v2/vnf_lcm_op_occs/occ1/retry").status, 409);
}

TEST_F(ServiceTest, ScaleOutThenRollBackOfAFailedScale) {
  const std::string inst = instantiated();
  auto s = task(inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"vnfc","numberOfSteps":2})");
  EXPECT_EQ(s["operationState"], "COMPLETED") << s.dump();
  auto v = get(inst);
  ASSERT_EQ(v["instantiatedVnfInfo"]["vnfcResourceInfo"].size(), 3u);
  EXPECT_EQ(v["instantiatedVnfInfo"]["scaleStatus"][0]["scaleLevel"], 2);
  // A scale out the engine fails on (an injected failure after define of the 4th): FAILED_TEMP,
  // the engine rolled back; rollback then leaves 3.
  const std::string fourth = v["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"].get<std::string>();
  const std::string victim = fourth.substr(0, fourth.size() - 1) + "4";
  env_.after_pass = [victim](lifecycle::Pass p, const std::string& vnf) -> Result<void> {
    if (p == lifecycle::Pass::kDefine && vnf == victim) return fail(Errc::kIo, "injected");
    return {};
  };
  service_.reset();
  auto f = task(inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"vnfc"})");
  EXPECT_EQ(f["operationState"], "FAILED_TEMP") << f.dump();
  EXPECT_EQ(f["error"]["detail"].get<std::string>().substr(0, 8), "injected");
  auto rb = call("POST", path(f["_links"]["rollback"]["href"]));
  EXPECT_EQ(rb.status, 202) << rb.body;
  service().waitIdle();
  EXPECT_EQ(get(path(f["_links"]["self"]["href"]))["operationState"], "ROLLED_BACK");
  EXPECT_EQ(get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"].size(), 3u);
  auto in = task(inst + "/scale", R"({"type":"SCALE_IN","aspectId":"vnfc","numberOfSteps":2})");
  EXPECT_EQ(in["operationState"], "COMPLETED");
  EXPECT_EQ(get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"].size(), 1u);
  auto found = findVnfDomain(*conn_, fourth.substr(0, fourth.size() - 1) + "3");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  auto below = call("POST", inst + "/scale", R"({"type":"SCALE_IN","aspectId":"vnfc"})");
  EXPECT_EQ(below.status, 422) << below.body;
}

// A VNFD whose NICs are named host taps (or, with one VNFC, fixed MACs): a second VNFC cannot have
// them, so a scale out is refused up front (422 naming what and the fix) and nothing changes; it used
// to fail midway with "already defined from a different spec" (VNFC 1 lost its fixed MAC).
TEST_F(ServiceTest, ScaleOutOfASpecWithHostTapsIsRefusedUpFront) {
  test::writeFile(dir_ / "vnfd" / "tapped.yaml",
                  "name: tapped\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\ntaps:\n"
                  "  - tap: vnfscale0a\n    mac: 52:54:00:5c:a1:e0\n  - tap: vnfscale0b\n");
  const std::string inst = instantiated("tapped");
  const auto before = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"];
  ASSERT_EQ(before.size(), 1u);
  auto r = call("POST", inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"vnfc"})");
  EXPECT_EQ(r.status, 422) << r.body;
  for (const char* want : {"host tap vnfscale0a", "host tap vnfscale0b", "MAC 52:54:00:5c:a1:e0", "VF pool"})
    EXPECT_NE(r.body.find(want), std::string::npos) << want << " in " << r.body;
  service().waitIdle();
  EXPECT_EQ(get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"], before);
  EXPECT_EQ(get("/vnflcm/v2/vnf_lcm_op_occs").size(), 1u);  // the instantiate only: no SCALE occurrence
}

// A fixed management MAC is one domain's too: scaling out such an instance is refused (it used to
// be accepted and gave VNFC 2 the same MAC as VNFC 1).
TEST_F(ServiceTest, ScaleOutOfASpecWithAFixedManagementMacIsRefused) {
  test::writeFile(dir_ / "vnfd" / "mgmt.yaml",
                  "name: mgmt\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\n"
                  "management:\n  bridge: br0\n  mac: 52:54:00:5c:a1:e7\n");
  const std::string inst = instantiated("mgmt");
  const std::string base = "mgmt-" + inst.substr(inst.rfind('/') + 1, 8);
  auto xml = domainXml(*conn_, base + "-1", true);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("52:54:00:5c:a1:e7"), std::string::npos) << "one VNFC keeps the spec's MAC: " << *xml;
  auto r = call("POST", inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"vnfc"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("management MAC 52:54:00:5c:a1:e7"), std::string::npos) << r.body;
  service().waitIdle();
  EXPECT_FALSE(findVnfDomain(*conn_, base + "-2").value_or(std::nullopt).has_value());
}

// An instance instantiated with two VNFCs is pooled for life: its VNFCs have derived MACs, so after
// a scale in to one, a scale out is accepted and gives VNFC 2 back as it was (it used to be
// refused, "VNFC 1 was defined with the spec's MAC", which it was not); no MAC is used twice.
TEST_F(ServiceTest, APooledInstanceScalesOutAgainAfterScalingInToOne) {
  test::writeFile(dir_ / "vnfd" / "pool.yaml",
                  "name: pool\nvcpus: 1\nmemory: 512M\nhugepages: none\ncpu_policy: shared\ncount: 2\n"
                  "management:\n  bridge: br0\n  mac: 52:54:00:5c:a1:e8\n");
  const std::string inst = instantiated("pool");
  const std::string base = "pool-" + inst.substr(inst.rfind('/') + 1, 8);
  auto macOf = [&](const std::string& vnfc) {
    const std::string domain = base + vnfc;
    auto xml = domainXml(*conn_, domain, true);
    EXPECT_TRUE(xml) << domain;
    if (!xml) return std::string();
    const auto at = xml->find("<mac address='");
    return at == std::string::npos ? std::string() : xml->substr(at + 14, 17);
  };
  const std::string mac1 = macOf("-1"), mac2 = macOf("-2");
  EXPECT_NE(mac1, "52:54:00:5c:a1:e8");
  EXPECT_NE(mac1, mac2);
  EXPECT_EQ(task(inst + "/scale", R"({"type":"SCALE_IN","aspectId":"vnfc"})")["operationState"], "COMPLETED");
  ASSERT_EQ(get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"].size(), 1u);
  // A heal that redefines the one VNFC left gives it what it had, not the spec's fixed MAC.
  EXPECT_EQ(task(inst + "/heal", R"({"additionalParams":{"healType":"redefine"}})")["operationState"], "COMPLETED");
  EXPECT_EQ(macOf("-1"), mac1);
  auto out = task(inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"vnfc"})");
  EXPECT_EQ(out["operationState"], "COMPLETED") << out.dump();
  EXPECT_EQ(macOf("-1"), mac1) << "VNFC 1 is untouched";
  EXPECT_EQ(macOf("-2"), mac2) << "VNFC 2 comes back as it was";
}

TEST_F(ServiceTest, OneTaskPerInstanceAlsoWhenManyRace) {
  auto c = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})");
  const std::string inst = path(header(c, "Location"));
  std::atomic<int> accepted{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = call("POST", inst + "/instantiate", R"({"flavourId":"default"})");
      if (r.status == 202) ++accepted;
      if (r.status == 409) ++conflicts;
    });
  }
  for (auto& t : threads) t.join();
  service().waitIdle();
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(conflicts, 7);
  EXPECT_EQ(get(inst)["instantiationState"], "INSTANTIATED");
}

TEST_F(ServiceTest, ReadersVersionsRatesAndBadInputAnswerProblemDetailsAndChangeNothing) {
  auto reader = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})", Role::kReader);
  EXPECT_EQ(reader.status, 403);
  EXPECT_EQ(reader.content_type, "application/problem+json");
  Request r;
  r.method = "GET";
  r.target = "/vnflcm/v2/vnf_instances";
  EXPECT_EQ(service().handle(r).status, 400);
  r.version = "1.3.0";
  EXPECT_EQ(service().handle(r).status, 406);
  r.version.reset();
  r.target = "/metrics";
  EXPECT_EQ(service().handle(r).status, 200);
  r.target = "/vnflcm/v2/api_versions";
  EXPECT_EQ(service().handle(r).status, 200);
  for (const char* body : {"{", "[1]", R"({"vnfdId":"fw","x":1})", R"({"vnfdId":["fw"]})", R"({"vnfdId":""})",
                           R"({"vnfdId":"fw","metadata":"x"})"}) {
    auto b = call("POST", "/vnflcm/v2/vnf_instances", body);
    EXPECT_TRUE(b.status == 400 || b.status == 422) << body << ": " << b.status;
    auto p = json::parse(b.body);
    EXPECT_EQ(p["status"], b.status);
    EXPECT_FALSE(p["detail"].get<std::string>().empty());
  }
  auto wrong_ct = call("POST", "/vnflcm/v2/vnf_instances", "");
  EXPECT_EQ(wrong_ct.status, 415);
  EXPECT_EQ(json::parse(call("GET", "/vnflcm/v2/vnf_instances").body).size(), 0u);
  // The rate of changing requests: a burst of 2 at 0.5/s, then 429 with Retry-After.
  service_.reset();
  config_.mutations_per_second = 0.5;
  config_.mutation_burst = 2;
  EXPECT_EQ(call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})").status, 201);
  EXPECT_EQ(call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})").status, 201);
  auto limited = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(header(limited, "Retry-After"), "2");
  EXPECT_EQ(call("GET", "/vnflcm/v2/vnf_instances").status, 200);  // reads are not limited
}

TEST_F(ServiceTest, InstantiateOverridesAreCheckedBeforeAnythingStarts) {
  auto c = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})");
  const std::string inst = path(header(c, "Location"));
  auto bad = call("POST", inst + "/instantiate", R"({"flavourId":"default","additionalParams":{"vcpus":0}})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("vcpus"), std::string::npos);
  auto name = call("POST", inst + "/instantiate", R"({"flavourId":"default","additionalParams":{"name":"x"}})");
  EXPECT_EQ(name.status, 400);
  EXPECT_EQ(json::parse(call("GET", "/vnflcm/v2/vnf_lcm_op_occs").body).size(), 0u);
  auto ok = task(inst + "/instantiate", R"({"flavourId":"default","additionalParams":{"vcpus":3}})");
  EXPECT_EQ(ok["operationState"], "COMPLETED") << ok.dump();
  const std::string domain = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  auto xml = domainXml(*conn_, domain, true);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find(">3</vcpu>"), std::string::npos) << *xml;
}

TEST_F(ServiceTest, IndicatorsAndMetricsCarryTheForwardersCounters) {
  const std::string inst = instantiated();
  const std::string id = inst.substr(inst.rfind('/') + 1);
  EXPECT_EQ(get("/vnfind/v1/indicators"), json::array());  // no STATS line yet
  const std::string domain = get(inst)["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  auto d = findVnfDomain(*conn_, domain);
  ASSERT_TRUE(d && *d);
  ASSERT_FALSE((*d)->serial_log.empty());
  auto line = [](double up, int rx, int tx, int drops, int full) {
    return fmt::format(
        "VNF-FWD STATS {{\"uptime_s\":{},\"ports\":[],\"totals\":{{\"rx\":{},\"tx\":{},\"drops\":{},"
        "\"tx_full_drops\":{}}}}}\n",
        up, rx, tx, drops, full);
  };
  test::writeFile((*d)->serial_log, "boot\n" + line(10, 1000, 990, 10, 2) + "noise\n" + line(12, 3000, 2970, 30, 5));
  auto all = get("/vnfind/v1/indicators/" + id);
  std::map<std::string, double> v;
  for (const auto& i : all) {
    EXPECT_EQ(i["vnfInstanceId"], id);
    v[i["id"]] = i["value"].get<double>();
  }
  EXPECT_EQ(v["rxPackets"], 3000);
  EXPECT_EQ(v["txPackets"], 2970);
  EXPECT_EQ(v["dropPackets"], 30);
  EXPECT_EQ(v["ringFullEvents"], 5);
  EXPECT_EQ(v["rxPacketsPerSecond"], 1000);
  EXPECT_EQ(v["txPacketsPerSecond"], 990);
  EXPECT_EQ(v["dropPacketsPerSecond"], 10);
  EXPECT_EQ(call("GET", "/vnfind/v1/indicators/nope").status, 404);
  Request m;
  m.method = "GET";
  m.target = "/metrics";
  auto metrics = service().handle(m).body;
  EXPECT_NE(metrics.find(fmt::format("vnfctl_fwd_packets_total{{instance=\"{}\",counter=\"rx\"}} 3000\n", id)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("vnfctl_vnf_instances{state=\"INSTANTIATED\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vnfctl_vnf_instances{state=\"NOT_INSTANTIATED\"} 0\n"), std::string::npos) << metrics;
  // The host's hugepages per node and size (the fixture: node0 8 of 8 1G free, 0 of 0 2M;
  // node1 6 of 8 1G free, 512 of 512 2M).
  EXPECT_NE(metrics.find("vnfctl_host_up 1\n"), std::string::npos) << metrics;
  for (const char* want : {"vnfctl_host_hugepages{node=\"0\",page_size_kib=\"1048576\"} 8\n",
                           "vnfctl_host_hugepages_free{node=\"0\",page_size_kib=\"1048576\"} 8\n",
                           "vnfctl_host_hugepages{node=\"0\",page_size_kib=\"2048\"} 0\n",
                           "vnfctl_host_hugepages{node=\"1\",page_size_kib=\"1048576\"} 8\n",
                           "vnfctl_host_hugepages_free{node=\"1\",page_size_kib=\"1048576\"} 6\n",
                           "vnfctl_host_hugepages{node=\"1\",page_size_kib=\"2048\"} 512\n",
                           "vnfctl_host_hugepages_free{node=\"1\",page_size_kib=\"2048\"} 512\n"}) {
    EXPECT_NE(metrics.find(want), std::string::npos) << want << " not in:\n" << metrics;
  }
  // A FIFO in place of the log is skipped, never blocks.
  std::filesystem::remove((*d)->serial_log);
  ASSERT_EQ(::mkfifo((*d)->serial_log.c_str(), 0600), 0);
  EXPECT_EQ(get("/vnfind/v1/indicators"), json::array());
}

TEST_F(ServiceTest, MetricsSayWhenTheHostCannotBeReadAndStillAnswer) {
  env_.discover = [] { return Result<HostTopology>(fail(Errc::kIo, "cannot read /sys/devices/system/node")); };
  Request m;
  m.method = "GET";
  m.target = "/metrics";
  auto r = service().handle(m);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("vnfctl_host_up 0\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("vnfctl_host_hugepages"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("/sys/devices"), std::string::npos) << "errors never leak internals: " << r.body;
  EXPECT_NE(r.body.find("vnfctl_vnf_instances{state=\"NOT_INSTANTIATED\"} 0\n"), std::string::npos) << r.body;
}

// The list is answered from a cache while neither the store nor libvirt's snapshot changed; every
// change of either shows on the next read (a write through the API, a domain removed with virsh,
// libvirt going away).
TEST_F(ServiceTest, TheCachedListShowsEveryChangeOfTheStoreAndOfLibvirt) {
  const std::string inst = instantiated();
  const std::string id = inst.substr(inst.rfind('/') + 1);
  auto list = [&] { return call("GET", "/vnflcm/v2/vnf_instances").body; };
  const std::string first = list();
  EXPECT_EQ(list(), first);  // nothing changed: the same answer
  ASSERT_EQ(json::parse(first).size(), 1u);
  EXPECT_EQ(call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw","vnfInstanceName":"second"})").status, 201);
  auto two = json::parse(list());
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1]["vnfInstanceName"], "second");
  // Filtered and paged lists are cached per target: each answers its own.
  auto named = json::parse(call("GET", "/vnflcm/v2/vnf_instances?filter=(eq,vnfInstanceName,second)").body);
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0]["vnfInstanceName"], "second");
  const std::string domain = json::parse(list())[0]["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"];
  ASSERT_TRUE(destroyDomain(*conn_, domain));
  ASSERT_TRUE(undefineDomain(*conn_, domain));
  service().refreshNow();
  auto after = json::parse(list());
  EXPECT_EQ(after[0]["id"], id);
  EXPECT_EQ(after[0]["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["metadata"]["libvirtState"], "absent")
      << after[0].dump();
  EXPECT_EQ(after[0]["instantiatedVnfInfo"]["metadata"]["drift"]["missingDomains"], json::array({domain}));
  // A store write that a transaction rolls back leaves the list as it was.
  const std::string before_delete = list();
  EXPECT_EQ(call("DELETE", inst).status, 409);  // instantiated: refused, nothing changed
  EXPECT_EQ(list(), before_delete);
}

// Every changing request writes exactly one audit line, also when it is refused before a handler
// knows its operation (400, 404, 405, 415, 422, a missing Version); reads write none.
TEST_F(ServiceTest, EveryRefusedChangeIsAuditedOnceAndReadsAreNot) {
  auto c = call("POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})");
  ASSERT_EQ(c.status, 201);
  const std::string inst = path(header(c, "Location"));
  const std::string id = inst.substr(inst.rfind('/') + 1);
  auto lines = [&] {
    std::lock_guard lock(audit_mu_);
    return audit_;
  };
  struct Case {
    std::string method, target, body, content_type;
    int status;
    std::string op, instance;
  };
  const std::vector<Case> cases = {
      {"POST", "/vnflcm/v2/vnf_instances", "{", "application/json", 400, "POST /vnflcm/v2/vnf_instances", "-"},
      {"POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw"})", "text/plain", 415, "POST /vnflcm/v2/vnf_instances",
       "-"},
      {"POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"fw","x":1})", "application/json", 400,
       "POST /vnflcm/v2/vnf_instances", "-"},
      {"POST", "/vnflcm/v2/vnf_instances", R"({"vnfdId":"nope"})", "application/json", 422,
       "POST /vnflcm/v2/vnf_instances", "-"},
      {"PUT", "/vnflcm/v2/vnf_instances", "", "", 405, "PUT /vnflcm/v2/vnf_instances", "-"},
      {"POST", inst + "/reboot", "{}", "application/json", 404, "POST " + inst + "/reboot", id},
      {"PATCH", inst, R"({"vnfInstanceName":7})", "application/merge-patch+json", 400, "PATCH " + inst, id},
      {"POST", inst + "/scale", R"({"type":"SCALE_OUT","aspectId":"disk"})", "application/json", 400,
       "POST " + inst + "/scale", id},
      {"DELETE", "/vnflcm/v2/nothing", "", "", 404, "DELETE /vnflcm/v2/nothing", "-"},
      {"DELETE", "/vnflcm/v2/vnf_lcm_op_occs/x", "", "", 405, "DELETE /vnflcm/v2/vnf_lcm_op_occs/x", "-"},
  };
  for (const auto& k : cases) {
    const auto before = lines().size();
    Request r;
    r.method = k.method;
    r.target = k.target;
    r.version = "2.0.0";
    r.body = k.body;
    r.content_type = k.content_type;
    r.subject = "CN=op";
    r.role = Role::kOperator;
    auto resp = service().handle(r);
    EXPECT_EQ(resp.status, k.status) << k.method << " " << k.target << ": " << resp.body;
    auto now = lines();
    ASSERT_EQ(now.size(), before + 1) << k.method << " " << k.target << " wrote " << now.size() - before << " lines";
    EXPECT_EQ(now.back(), fmt::format("audit subject=\"CN=op\" role=operator op={} instance={} result={}", k.op,
                                      k.instance, k.status))
        << now.back();
  }
  // Without a Version header, a change is refused (400) and audited too.
  {
    const auto before = lines().size();
    Request r;
    r.method = "DELETE";
    r.target = inst;
    r.subject = "CN=op";
    r.role = Role::kOperator;
    EXPECT_EQ(service().handle(r).status, 400);
    ASSERT_EQ(lines().size(), before + 1);
    EXPECT_NE(lines().back().find("op=DELETE " + inst + " instance=" + id + " result=400"), std::string::npos)
        << lines().back();
  }
  // A handler's own line is not written twice.
  {
    const auto before = lines().size();
    EXPECT_EQ(call("DELETE", inst).status, 204);
    ASSERT_EQ(lines().size(), before + 1);
    EXPECT_NE(lines().back().find("op=DELETE instance=" + id + " result=204"), std::string::npos) << lines().back();
  }
  // Reads, also refused ones, are not audited.
  const auto before = lines().size();
  EXPECT_EQ(call("GET", "/vnflcm/v2/vnf_instances").status, 200);
  EXPECT_EQ(call("GET", "/vnflcm/v2/nothing").status, 404);
  EXPECT_EQ(lines().size(), before);
}

// A subscriber that takes the connection and never answers (here: a listening socket nobody
// accepts from, so the TCP handshake completes and the TLS handshake waits forever) costs the
// notify timeout, never more: the subscription's test GET answers 422 within it, and so does a
// notification's delivery.
TEST_F(ServiceTest, ASubscriberThatNeverAnswersCostsTheTimeoutNotMore) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string uri = fmt::format("https://127.0.0.1:{}/notify", ntohs(addr.sin_port));

  NotifyConfig nc;
  nc.timeout = std::chrono::milliseconds(400);
  nc.attempts = 1;
  Notifier notifier(nc, nullptr);
  notifier.start();
  service().setNotifier(&notifier, nc);
  using Clock = std::chrono::steady_clock;

  auto t0 = Clock::now();
  auto direct = httpsRequest(nc, "GET", uri, "");
  auto took = Clock::now() - t0;
  ASSERT_FALSE(direct);
  EXPECT_NE(direct.error().message.find("no answer within 400 ms"), std::string::npos) << direct.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(1500));

  // The POST runs on another thread; a read on this one is answered meanwhile.
  t0 = Clock::now();
  auto sub = std::async(std::launch::async, [&] {
    return call("POST", "/vnflcm/v2/subscriptions", json{{"callbackUri", uri}}.dump());
  });
  EXPECT_EQ(call("GET", "/vnflcm/v2/vnf_instances").status, 200);
  ASSERT_EQ(sub.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "the test GET is not bounded";
  auto resp = sub.get();
  took = Clock::now() - t0;
  EXPECT_EQ(resp.status, 422) << resp.body;
  EXPECT_EQ(resp.content_type, "application/problem+json");
  EXPECT_NE(resp.body.find("did not answer 204"), std::string::npos) << resp.body;
  EXPECT_LT(took, std::chrono::milliseconds(1500));

  // The delivery thread: a notification to it is given up after the bound, the queue drains.
  t0 = Clock::now();
  notifier.post(uri, "{}");
  auto idle = std::async(std::launch::async, [&] { notifier.waitIdle(); });
  ASSERT_EQ(idle.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "the delivery is not bounded";
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1500));
  service_.reset();  // before the notifier goes
  ::close(listener);
}

}  // namespace
}  // namespace vnf::api
