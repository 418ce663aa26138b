#include "cli/spec_args.h"

#include <fmt/format.h>

#include "spec/load.h"

namespace vnf::cli {
namespace {

// Builds YAML text from flags so flags and files share one parser and one set of messages.
std::string flagsAsYaml(const SpecArgs& a) {
  std::string y;
  auto q = [](const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  if (!a.name.empty()) y += "name: " + q(a.name) + "\n";
  if (a.vcpus != -1) y += fmt::format("vcpus: {}\n", a.vcpus);
  if (!a.memory.empty()) y += "memory: " + q(a.memory) + "\n";
  if (!a.hugepages.empty()) y += "hugepages: " + q(a.hugepages) + "\n";
  if (!a.cpu_policy.empty()) y += "cpu_policy: " + q(a.cpu_policy) + "\n";
  if (!a.smt_policy.empty()) y += "smt_policy: " + q(a.smt_policy) + "\n";
  if (!a.emulator_threads.empty()) y += "emulator_threads: " + q(a.emulator_threads) + "\n";
  if (!a.numa_affinity.empty()) y += "numa_affinity: " + q(a.numa_affinity) + "\n";
  if (!a.profile.empty()) y += "profile: " + q(a.profile) + "\n";
  if (a.count != -1) y += fmt::format("count: {}\n", a.count);
  auto list = [&](const char* key, const char* first, const std::vector<std::string>& items) {
    if (items.empty()) return;
    y += std::string(key) + ":\n";
    for (const auto& item : items) {
      std::size_t start = 0;
      bool head = true;
      while (start <= item.size()) {
        auto comma = item.find(',', start);
        auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (head) {
          y += fmt::format("  - {}: {}\n", first, q(part));
          head = false;
        } else {
          auto eq = part.find('=');
          y += fmt::format("    {}: {}\n", part.substr(0, eq), eq == std::string::npos ? q("") : q(part.substr(eq + 1)));
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  };
  list("nics", "pf", a.nics);
  list("taps", "tap", a.taps);
  return y;
}

}  // namespace

void addSpecOptions(CLI::App* cmd, SpecArgs& a) {
  cmd->add_option("SPEC", a.files, "VNF spec files (YAML, docs/spec.md); or give the fields as flags");
  auto* g = "Spec as flags";
  cmd->add_option("--name", a.name, "VNF name")->group(g);
  cmd->add_option("--vcpus", a.vcpus, "vCPUs")->group(g);
  cmd->add_option("--memory", a.memory, "memory, e.g. 4G or 4096M")->group(g);
  cmd->add_option("--hugepages", a.hugepages, "1G, 2M or none")->group(g);
  cmd->add_option("--cpu-policy", a.cpu_policy, "dedicated or shared")->group(g);
  cmd->add_option("--smt-policy", a.smt_policy, "prefer, isolate or require")->group(g);
  cmd->add_option("--emulator-threads", a.emulator_threads, "isolate or share")->group(g);
  cmd->add_option("--numa-affinity", a.numa_affinity, "required or preferred")->group(g);
  cmd->add_option("--profile", a.profile, "domain template name or path")->group(g);
  cmd->add_option("--nic", a.nics, "PF[,vf=N][,mac=M][,vlan=V][,mtu=U][,trust=on][,spoofchk=off][,mode=hostdev]")->group(g);
  cmd->add_option("--tap", a.taps, "TAP[,mac=M][,mtu=U]: a virtio data NIC on a host tap device")->group(g);
  cmd->add_option("--count", a.count, "N identical instances name-1..name-N")->group(g);
}

Result<std::vector<VnfSpec>> gatherSpecs(const SpecArgs& a) {
  std::vector<VnfSpec> out;
  auto flags = flagsAsYaml(a);
  if (a.files.empty()) {
    if (a.name.empty()) {
      return fail(Errc::kInvalidArgument, "no VNF spec given",
                  "give a spec file (vnfctl plan fw.yaml) or at least --name, e.g. vnfctl plan --name fw1 --vcpus 4 "
                  "--memory 4G --nic ens2f0");
    }
    auto spec = parseSpecYaml(flags, "");
    if (!spec) return std::unexpected(spec.error());
    auto more = expandCount(*spec);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
  for (const auto& file : a.files) {
    auto spec = loadSpecFile(file);
    if (!spec) return std::unexpected(spec.error());
    if (!flags.empty()) {
      // Flags override the file: parse them over the file's values.
      // The flags are checked with the file's page size unless they set one themselves.
      std::string base = "name: " + spec->name + "\n";
      if (a.hugepages.empty()) {
        base += fmt::format("hugepages: {}\n", spec->page_size_kib == 1048576 ? "1G" : spec->page_size_kib == 2048 ? "2M" : "none");
      }
      auto over = parseSpecYaml(base + flags, "command-line flags");
      if (!over) return std::unexpected(over.error());
      if (a.vcpus != -1) spec->vcpus = over->vcpus;
      if (!a.memory.empty()) spec->memory_mib = over->memory_mib;
      if (!a.hugepages.empty()) spec->page_size_kib = over->page_size_kib;
      if (!a.cpu_policy.empty()) spec->cpu_policy = over->cpu_policy;
      if (!a.smt_policy.empty()) spec->smt_policy = over->smt_policy;
      if (!a.emulator_threads.empty()) spec->emulator_policy = over->emulator_policy;
      if (!a.numa_affinity.empty()) spec->numa_affinity = over->numa_affinity;
      if (!a.profile.empty()) spec->profile = over->profile;
      if (!a.nics.empty()) spec->nics = over->nics;
      if (!a.taps.empty()) spec->tap_nics = over->tap_nics;
      if (a.count != -1) spec->count = over->count;
      if (!a.name.empty()) spec->name = a.name;
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
