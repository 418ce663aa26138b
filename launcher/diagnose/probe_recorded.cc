// RecordedProbe: answers from a JSON file (schema vnfctl.diagnose-answers/v1, docs/diagnose.md).
// Sampled values are arrays [first, second]; advance() moves from the first to the second.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "common/file_io.h"
#include "diagnose/probe.h"
#include "host/parse.h"

namespace vnf::diagnose {
namespace {

constexpr std::uint64_t kMaxAnswersBytes = 64ull << 20;

class RecordedProbe final : public Probe {
 public:
  RecordedProbe(std::string path, nlohmann::json j, std::unique_ptr<Probe> fallback)
      : path_(std::move(path)), j_(std::move(j)), fallback_(std::move(fallback)) {}

  std::string origin() const override { return fmt::format("recorded in {}", path_); }

  Result<std::vector<DomainRecord>> domains() override {
    if (fallback_ && !section("domains")) return fallback_->domains();
    std::vector<DomainRecord> out;
    auto* arr = section("domains");
    if (!arr) return out;
    for (const auto& d : *arr) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string())
        return bad("domains[]", "an object with a string \"name\"");
      DomainRecord r;
      r.name = d["name"].get<std::string>();
      r.state = d.value("state", "running");
      r.xml = d.value("xml", "");
      if (d.contains("xml_file") && d["xml_file"].is_string()) {
        // Relative to the answers file, so a fixture folder can be moved as a whole.
        auto file = std::filesystem::path(path_).parent_path() / d["xml_file"].get<std::string>();
        auto xml = readUserFile(file.string(), kMaxAnswersBytes, "recorded domain XML");
        if (!xml) return std::unexpected(xml.error());
        r.xml = std::move(*xml);
      }
      out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Result<std::vector<VfVlan>> vfVlans(const std::string& pf) override {
    if (fallback_ && !section("vf_vlans")) return fallback_->vfVlans(pf);
    auto v = entry("vf_vlans", pf);
    if (!v) return std::unexpected(v.error());
    const nlohmann::json& e = **v;
    std::vector<VfVlan> out;
    if (!e.is_array()) return bad("vf_vlans." + pf, "an array");
    for (const auto& vf : e) {
      if (!vf.is_object()) return bad("vf_vlans." + pf + "[]", "an object {index, vlan}");
      out.push_back(VfVlan{vf.value("index", 0), vf.value("vlan", 0)});
    }
    return out;
  }

  // vf_stats.PF: {"VF index": {counter: number}} (or an array of two such samples).
  Result<std::map<int, Counters>> vfStats(const std::string& pf) override {
    if (fallback_ && !section("vf_stats")) return fallback_->vfStats(pf);
    auto v = sampled("vf_stats", pf);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->is_object()) return bad("vf_stats." + pf, "an object VF index -> counters");
    std::map<int, Counters> out;
    for (auto it = (*v)->begin(); it != (*v)->end(); ++it) {
      auto index = parseInt(it.key());
      if (!index || *index < 0 || *index > 65535) return bad("vf_stats." + pf + " keys", "VF indexes 0..65535");
      auto c = counterObject(it.value(), fmt::format("vf_stats.{}.{}", pf, it.key()));
      if (!c) return std::unexpected(c.error());
      out[static_cast<int>(*index)] = std::move(*c);
    }
    return out;
  }

  Result<ethtool::RingParams> rings(const std::string& ifname) override {
    if (fallback_ && !section("rings")) return fallback_->rings(ifname);
    auto v = entry("rings", ifname);
    if (!v) return std::unexpected(v.error());
    const nlohmann::json& e = **v;
    if (!e.is_object()) return bad("rings." + ifname, "an object {rx, rx_max, tx, tx_max}");
    return ethtool::RingParams{e.value("rx", 0u), e.value("rx_max", 0u), e.value("tx", 0u), e.value("tx_max", 0u)};
  }

  Result<std::map<std::string, bool>> features(const std::string& ifname) override {
    if (fallback_ && !section("features")) return fallback_->features(ifname);
    auto v = entry("features", ifname);
    if (!v) return std::unexpected(v.error());
    const nlohmann::json& e = **v;
    std::map<std::string, bool> out;
    if (!e.is_object()) return bad("features." + ifname, "an object name -> bool");
    for (auto it = e.begin(); it != e.end(); ++it) out[it.key()] = it.value().is_boolean() && it.value().get<bool>();
    return out;
  }

  Result<Counters> nicStats(const std::string& ifname) override {
    if (fallback_ && !section("nic_stats")) return fallback_->nicStats(ifname);
    return counters("nic_stats", ifname);
  }
  Result<Counters> linkStats(const std::string& ifname) override {
    if (fallback_ && !section("link_stats")) return fallback_->linkStats(ifname);
    return counters("link_stats", ifname);
  }

  Result<std::string> serialTail(const std::string& log) override {
    if (fallback_ && !section("serial_logs")) return fallback_->serialTail(log);
    auto v = sampled("serial_logs", log);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->is_string()) return bad("serial_logs." + log, "a string (or an array of two)");
    return (*v)->get<std::string>();
  }

  Result<std::string> reread(const std::string& path) override {
    if (fallback_ && !section("later_files")) return fallback_->reread(path);
    auto v = entry("later_files", path);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->is_string()) return bad("later_files." + path, "a string");
    return (*v)->get<std::string>();
  }

  // "kmsg": the records; "kmsg_source": where they were read ("/dev/kmsg" when absent).
  Result<KernelLog> kernelLog() override {
    if (fallback_ && !section("kmsg")) return fallback_->kernelLog();
    KernelLog out{"/dev/kmsg", {}};
    if (auto* src = section("kmsg_source")) {
      if (!src->is_string()) return bad("kmsg_source", "a string");
      out.source = src->get<std::string>();
    }
    auto* arr = section("kmsg");
    if (!arr) return fail(Errc::kNotFound, fmt::format("no kernel log recorded in {}", path_));
    for (const auto& l : *arr) {
      if (!l.is_string()) return bad("kmsg[]", "strings");
      out.records.push_back(l.get<std::string>());
    }
    return out;
  }

  Result<nlohmann::json> nftRuleset() override {
    if (fallback_ && !section("nft")) return fallback_->nftRuleset();
    auto* r = section("nft");
    if (!r) return fail(Errc::kNotFound, fmt::format("no nftables ruleset recorded in {}", path_));
    return *r;
  }

  void advance(std::chrono::milliseconds window) override {
    sample_ = 1;
    if (fallback_) fallback_->advance(window);
  }

 private:
  const nlohmann::json* section(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  std::unexpected<Error> bad(const std::string& where, const char* want) const {
    return fail(Errc::kBadContent, fmt::format("{}: {} must be {}", path_, where, want),
                "fix the recorded-answers file (docs/diagnose.md shows its layout)");
  }
  // answers[key][name]; {"error": "..."} there stands for a call the driver refused.
  Result<const nlohmann::json*> entry(const char* key, const std::string& name) const {
    auto* s = section(key);
    if (!s || !s->is_object() || !s->contains(name))
      return fail(Errc::kNotFound, fmt::format("no {} recorded for {} in {}", key, name, path_));
    const auto& v = (*s)[name];
    if (v.is_object() && v.contains("error") && v["error"].is_string())
      return fail(Errc::kConflict, fmt::format("{} on {}: {}", key, name, v["error"].get<std::string>()));
    return &v;
  }
  Result<const nlohmann::json*> sampled(const char* key, const std::string& name) const {
    auto v = entry(key, name);
    if (!v) return v;
    if ((*v)->is_array()) {
      if ((*v)->empty()) return bad(fmt::format("{}.{}", key, name), "a non-empty array");
      return &(**v)[std::min<std::size_t>(sample_, (*v)->size() - 1)];
    }
    return v;
  }
  Result<Counters> counters(const char* key, const std::string& name) const {
    auto v = sampled(key, name);
    if (!v) return std::unexpected(v.error());
    return counterObject(**v, fmt::format("{}.{}", key, name));
  }
  Result<Counters> counterObject(const nlohmann::json& v, const std::string& where) const {
    if (!v.is_object()) return bad(where, "an object counter -> number");
    Counters out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_number_unsigned() && !it.value().is_number_integer())
        return bad(fmt::format("{}.{}", where, it.key()), "an unsigned number");
      if (it.value().is_number_integer() && it.value().get<std::int64_t>() < 0)
        return bad(fmt::format("{}.{}", where, it.key()), "an unsigned number");
      out[it.key()] = it.value().get<std::uint64_t>();
    }
    return out;
  }

  std::string path_;
  nlohmann::json j_;
  std::unique_ptr<Probe> fallback_;  // answers for the sections the file does not record
  std::size_t sample_ = 0;
};

}  // namespace

Result<std::unique_ptr<Probe>> loadRecordedProbe(const std::string& path, std::unique_ptr<Probe> fallback) {
  auto text = readUserFile(path, kMaxAnswersBytes, "recorded-answers file");
  if (!text) return std::unexpected(text.error());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kBadContent, fmt::format("{} is not JSON: {}", path, e.what()),
                "fix the file, or record it again (docs/diagnose.md)");
  }
  if (!j.is_object() || j.value("schema", "") != "vnfctl.diagnose-answers/v1") {
    return fail(
        Errc::kBadContent,
        fmt::format("{} is not a recorded-answers file: its \"schema\" is not \"vnfctl.diagnose-answers/v1\"", path),
        "pass a file in the layout of docs/diagnose.md");
  }
  return std::unique_ptr<Probe>(new RecordedProbe(path, std::move(j), std::move(fallback)));
}

}  // namespace vnf::diagnose
