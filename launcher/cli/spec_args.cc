#include "cli/spec_args.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "spec/load.h"

namespace vnf::cli {
namespace {

// "ens2f0,vlan=100,mtu=9000" -> {pf: ens2f0, vlan: "100", mtu: "9000"}. A part without '=' gets
// the value "" (the parser then says what that key expects).
YAML::Node listItem(const std::string& first_key, const std::string& item) {
  YAML::Node n(YAML::NodeType::Map);
  std::size_t start = 0;
  bool head = true;
  while (true) {
    auto comma = item.find(',', start);
    auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (head) {
      n[first_key] = part;
      head = false;
    } else {
      auto eq = part.find('=');
      n[part.substr(0, eq)] = eq == std::string::npos ? std::string() : part.substr(eq + 1);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return n;
}

// The given flags as a YAML node built in memory: values are scalars set through the API, so a
// value holding a newline or a colon stays one value.
YAML::Node flagsNode(const SpecArgs& a, const std::string& name, const std::string& hugepages) {
  YAML::Node n(YAML::NodeType::Map);
  if (!name.empty() || a.given("name")) n["name"] = a.given("name") ? a.name : name;
  auto scalar = [&](const char* key, const std::string& value) {
    if (a.given(key)) n[key] = value;
  };
  scalar("vcpus", a.vcpus);
  scalar("memory", a.memory);
  if (a.given("hugepages")) {
    n["hugepages"] = a.hugepages;
  } else if (!hugepages.empty()) {
    n["hugepages"] = hugepages;
  }
  scalar("cpu_policy", a.cpu_policy);
  scalar("smt_policy", a.smt_policy);
  scalar("emulator_threads", a.emulator_threads);
  scalar("numa_affinity", a.numa_affinity);
  scalar("profile", a.profile);
  scalar("count", a.count);
  if (a.given("nics")) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& item : a.nics) list.push_back(listItem("pf", item));
    n["nics"] = list;
  }
  if (a.given("taps")) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& item : a.taps) list.push_back(listItem("tap", item));
    n["taps"] = list;
  }
  return n;
}

bool anyFlag(const SpecArgs& a) {
  for (const auto& [key, opt] : a.options) {
    if (key != "files" && opt->count() > 0) return true;
  }
  return false;
}

}  // namespace

bool SpecArgs::given(const std::string& key) const {
  auto it = options.find(key);
  return it != options.end() && it->second->count() > 0;
}

void addSpecOptions(CLI::App* cmd, SpecArgs& a) {
  a.options["files"] =
      cmd->add_option("SPEC", a.files, "VNF spec files (YAML, docs/spec.md); or give the fields as flags");
  auto* g = "Spec as flags";
  a.options["name"] = cmd->add_option("--name", a.name, "VNF name")->group(g);
  a.options["vcpus"] = cmd->add_option("--vcpus", a.vcpus, "vCPUs (1..1024)")->group(g);
  a.options["memory"] = cmd->add_option("--memory", a.memory, "memory, e.g. 4G or 4096M")->group(g);
  a.options["hugepages"] = cmd->add_option("--hugepages", a.hugepages, "1G, 2M or none")->group(g);
  a.options["cpu_policy"] = cmd->add_option("--cpu-policy", a.cpu_policy, "dedicated or shared")->group(g);
  a.options["smt_policy"] = cmd->add_option("--smt-policy", a.smt_policy, "prefer, isolate or require")->group(g);
  a.options["emulator_threads"] =
      cmd->add_option("--emulator-threads", a.emulator_threads, "isolate or share")->group(g);
  a.options["numa_affinity"] = cmd->add_option("--numa-affinity", a.numa_affinity, "required or preferred")->group(g);
  a.options["profile"] = cmd->add_option("--profile", a.profile, "domain template name or path")->group(g);
  a.options["nics"] =
      cmd->add_option("--nic", a.nics, "PF[,vf=N][,mac=M][,vlan=V][,mtu=U][,trust=on][,spoofchk=off][,mode=hostdev]")
          ->group(g);
  a.options["taps"] =
      cmd->add_option("--tap", a.taps, "TAP[,mac=M][,mtu=U]: a virtio data NIC on a host tap device")->group(g);
  a.options["count"] = cmd->add_option("--count", a.count, "N identical instances name-1..name-N (1..1000)")->group(g);
}

Result<std::vector<VnfSpec>> gatherSpecs(const SpecArgs& a) {
  std::vector<VnfSpec> out;
  if (a.files.empty()) {
    if (!a.given("name")) {
      return fail(Errc::kInvalidArgument, "no VNF spec given",
                  "give a spec file (vnfctl plan fw.yaml) or at least --name, e.g. vnfctl plan --name fw1 --vcpus 4 "
                  "--memory 4G --nic ens2f0");
    }
    auto spec = parseSpecNode(flagsNode(a, "", ""), "command-line flags");
    if (!spec) return std::unexpected(spec.error());
    auto more = expandCount(*spec);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
  const bool flags = anyFlag(a);
  for (const auto& file : a.files) {
    auto spec = loadSpecFile(file);
    if (!spec) return std::unexpected(spec.error());
    if (flags) {
      // Flags override the file: they are parsed on their own (with the file's name, and its page
      // size unless they set one, so memory is checked against the right page), then copied over.
      const std::string pages = pageSizeName(spec->page_size_kib);
      auto over = parseSpecNode(flagsNode(a, spec->name, pages), fmt::format("{} with the command-line flags", file));
      if (!over) return std::unexpected(over.error());
      if (a.given("name")) spec->name = over->name;
      if (a.given("vcpus")) spec->vcpus = over->vcpus;
      if (a.given("memory")) spec->memory_mib = over->memory_mib;
      if (a.given("hugepages")) spec->page_size_kib = over->page_size_kib;
      if (a.given("cpu_policy")) spec->cpu_policy = over->cpu_policy;
      if (a.given("smt_policy")) spec->smt_policy = over->smt_policy;
      if (a.given("emulator_threads")) spec->emulator_policy = over->emulator_policy;
      if (a.given("numa_affinity")) spec->numa_affinity = over->numa_affinity;
      if (a.given("profile")) spec->profile = over->profile;
      if (a.given("nics")) spec->nics = over->nics;
      if (a.given("taps")) spec->tap_nics = over->tap_nics;
      if (a.given("count")) spec->count = over->count;
      auto problems = validateSpec(*spec);
      if (!problems.empty()) {
        std::string m = fmt::format("{} with the command-line flags has {} problem(s):", file, problems.size());
        for (const auto& p : problems) m += "\n  " + p.message;
        return fail(Errc::kInvalidArgument, m, "correct the flags; nothing was changed");
      }
    }
    auto more = expandCount(*spec);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

}  // namespace vnf::cli
