// `vnfctl prepare` and `vnfctl unprepare`: make the host ready for SR-IOV VNFs (VFs, VF settings,
// vfio-pci, hugepages, boot persistence) and undo it from the journal. Exit 0: done or nothing to do;
// 1: a change failed (rolled back); 2: bad spec or arguments, nothing changed; 3: host unreadable;
// 8: another prepare holds the lock. With --json, stdout holds one document (schema
// vnfctl.prepare/v1, docs/cli.md): changed, the changes (object, from, to), the error kind.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/load.h"
#include "common/host_lock.h"
#include "prep/apply.h"
#include "prep/persist.h"
#include "prep/prep_spec.h"

namespace vnf::cli {
namespace {

struct PrepareOptions {
  std::string spec_path;
  std::string pf;
  int vfs = -1;
  std::vector<std::string> macs;   // "0=52:54:00:00:00:01"
  std::vector<std::string> vlans;  // "0=100"
  std::vector<int> trust;          // VF indexes
  std::vector<int> no_spoofchk;    // VF indexes
  bool no_vfio = false;
  std::vector<std::string> hugepages;  // "2M:64" or "2M:64@1"
  std::string isolcpus;
  bool dry_run = false;
  bool json = false;
  bool persist = false;
  std::string persist_root = "/";
  std::string journal = "/var/lib/vnfctl/prepare-journal.json";
  std::string lock = "/run/vnfctl/prepare.lock";
  double lock_wait_s = 5;
};

Result<std::pair<int, std::string>> indexed(const std::string& text, const char* what) {
  auto eq = text.find('=');
  auto idx = eq == std::string::npos ? std::nullopt : parseUnsigned(text.substr(0, eq));
  if (!idx || *idx > 4095) {
    return fail(Errc::kInvalidArgument, fmt::format("--{} '{}' is not INDEX=VALUE", what, text),
                fmt::format("write it like --{} 0={}", what, std::string(what) == "mac" ? "52:54:00:00:00:01" : "100"));
  }
  return std::pair{static_cast<int>(*idx), text.substr(eq + 1)};
}

prep::VfSettings& vfEntry(prep::PfSpec& pf, int index) {
  for (auto& v : pf.vfs) {
    if (v.index == index) return v;
  }
  pf.vfs.push_back(prep::VfSettings{index, {}, {}, {}, {}});
  return pf.vfs.back();
}

// "2M:512" or "1G:4@1".
std::optional<prep::HugepageSpec> parseHugepageFlag(const std::string& h) {
  const auto colon = h.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const auto at = h.find('@');
  prep::HugepageSpec out;
  auto kib = parseSizeKib(h.substr(0, colon));
  if (!kib || (*kib != 2048 && *kib != 1048576)) return std::nullopt;
  out.page_size_kib = *kib;
  auto count = parseUnsigned(h.substr(colon + 1, at == std::string::npos ? std::string::npos : at - colon - 1));
  if (!count) return std::nullopt;
  out.count = *count;
  if (at != std::string::npos) {
    auto node = parseUnsigned(h.substr(at + 1));
    if (!node || *node > 1023) return std::nullopt;
    out.node = static_cast<int>(*node);
  }
  return out;
}

// The spec from a file, or from flags (one PF).
Result<prep::PrepareSpec> specFrom(const PrepareOptions& o) {
  if (!o.spec_path.empty()) {
    if (!o.pf.empty() || !o.hugepages.empty()) {
      return fail(Errc::kInvalidArgument, "--spec cannot be combined with --pf or --hugepages",
                  "put everything in the spec file");
    }
    return prep::loadPrepareSpec(o.spec_path);
  }
  prep::PrepareSpec spec;
  std::vector<std::string> problems;
  if (o.pf.empty() && o.hugepages.empty()) {
    return fail(Errc::kInvalidArgument,
                "nothing to prepare: give --spec FILE, or --pf NAME --vfs N and/or --hugepages SIZE:COUNT",
                "vnfctl prepare --pf ens1f0 --vfs 4 --hugepages 2M:512 --dry-run");
  }
  if (!o.pf.empty()) {
    if (o.vfs < 0) return fail(Errc::kInvalidArgument, fmt::format("--pf {} needs --vfs N", o.pf), "add --vfs 2");
    prep::PfSpec pf{o.pf, o.vfs, !o.no_vfio, {}};
    for (const auto& m : o.macs) {
      auto kv = indexed(m, "mac");
      if (!kv) return std::unexpected(kv.error());
      auto mac = parseMac(kv->second);
      if (!mac || ((*mac)[0] & 1)) {
        problems.push_back(
            fmt::format("--mac {}: '{}' is not a unicast MAC address (like 52:54:00:00:00:01)", m, kv->second));
        continue;
      }
      vfEntry(pf, kv->first).mac = mac;
    }
    for (const auto& v : o.vlans) {
      auto kv = indexed(v, "vlan");
      if (!kv) return std::unexpected(kv.error());
      auto id = parseUnsigned(kv->second);
      if (!id || *id > 4094) {
        problems.push_back(fmt::format("--vlan {}: VLAN '{}' is outside 0..4094", v, kv->second));
        continue;
      }
      vfEntry(pf, kv->first).vlan = static_cast<int>(*id);
    }
    for (int i : o.trust) vfEntry(pf, i).trust = true;
    for (int i : o.no_spoofchk) vfEntry(pf, i).spoofchk = false;
    for (const auto& v : pf.vfs) {
      if (v.index >= pf.num_vfs)
        problems.push_back(
            fmt::format("VF {} has settings but --vfs is {} (indexes 0..{})", v.index, pf.num_vfs, pf.num_vfs - 1));
    }
    spec.pfs.push_back(std::move(pf));
  }
  for (const auto& h : o.hugepages) {
    auto parsed = parseHugepageFlag(h);
    if (!parsed) {
      problems.push_back(
          fmt::format("--hugepages '{}' is not SIZE:COUNT[@NODE] with SIZE 2M or 1G (like 2M:512 or 1G:4@1)", h));
      continue;
    }
    spec.hugepages.push_back(*parsed);
  }
  spec.kernel.isolcpus = o.isolcpus;
  if (!o.isolcpus.empty() && !parseCpuList(o.isolcpus))
    problems.push_back(fmt::format("--isolcpus '{}' is not a CPU list", o.isolcpus));
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += "\n  - " + p;
    return fail(Errc::kInvalidArgument, fmt::format("{} problem(s) with the arguments:{}", problems.size(), all));
  }
  return spec;
}

std::string selfPath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "/usr/bin/vnfctl" : p.string();
}

// The machine-readable result of prepare/unprepare (schema vnfctl.prepare/v1). `changes` are the
// changes made, or with --dry-run the changes that would be made; `changed` is true exactly when
// the host was changed (never on a dry run, never on a failure: a failed apply is rolled back).
struct PrepareDoc {
  const char* command = "prepare";
  bool dry_run = false;
  bool changed = false;
  std::vector<prep::Step> changes;
  std::string journal;
  std::vector<std::string> activation;  // --persist: commands to run by hand
  std::optional<Error> error;
  // A change that failed while being made (rolled back) exits 1 whatever its kind, as before
  // --json existed; bad input still exits 2.
  bool failed_applying = false;
};

nlohmann::ordered_json stepJson(const prep::Step& c) {
  nlohmann::ordered_json j{{"kind", prep::stepKindName(c.kind)}, {"target", c.target}};
  j["vf"] = c.vf >= 0 ? nlohmann::ordered_json(c.vf) : nlohmann::ordered_json();
  // A file step's value is a whole file: the description names it without the content.
  const bool file = c.kind == prep::StepKind::kFile;
  j["from"] = file ? (c.note == "absent" || c.from.empty() ? "(absent)" : "(present)") : c.from;
  j["to"] = file ? (c.to.empty() ? "(absent)" : "(present)") : c.to;
  j["description"] = prep::describe(c);
  return j;
}

// Prints the document when --json was given; returns the exit code for `doc`.
int finish(const PrepareOptions& o, const PrepareDoc& doc) {
  int code = doc.error ? exitCodeFor(*doc.error) : kExitOk;
  if (doc.error && doc.failed_applying) code = doc.error->code == Errc::kInvalidArgument ? kExitUsage : kExitFailed;
  if (!o.json) {
    if (doc.error) printError(*doc.error);
    return code;
  }
  nlohmann::ordered_json changes = nlohmann::ordered_json::array();
  for (const auto& c : doc.changes) changes.push_back(stepJson(c));
  nlohmann::ordered_json j{{"schema", "vnfctl.prepare/v1"},
                           {"command", doc.command},
                           {"changed", doc.changed},
                           {"dry_run", doc.dry_run},
                           {"changes", changes},
                           {"journal", doc.journal},
                           {"activation_commands", doc.activation}};
  if (doc.error) {
    j["error"] = {{"kind", errcName(doc.error->code)},
                  {"exit_code", code},
                  {"message", doc.error->message},
                  {"fix", doc.error->fix}};
    printError(*doc.error);
  }
  std::printf("%s\n", j.dump(2).c_str());
  return code;
}

int runPrepare(const GlobalOptions& global, const PrepareOptions& o) {
  PrepareDoc doc{"prepare", o.dry_run, false, {}, o.journal, {}, {}};
  auto failed = [&](const Error& e) {
    doc.error = e;
    return finish(o, doc);
  };
  auto spec = specFrom(o);
  if (!spec) return failed(spec.error());
  std::optional<HostLock> lock;
  if (!o.dry_run) {
    auto got = HostLock::acquire(o.lock, std::chrono::milliseconds(static_cast<long>(o.lock_wait_s * 1000)),
                                 "prepare/unprepare");
    if (!got) return failed(got.error());
    lock.emplace(std::move(*got));
  }
  auto host = loadHost(global.host_root);
  if (!host) return failed(host.error());
  auto desired = prep::desiredSteps(*host, *spec);
  if (!desired) return failed(desired.error());
  if (o.persist) {
    prep::PersistOptions po{o.persist_root, selfPath(), o.journal};
    for (auto& s : prep::persistSteps(*host, *spec, po)) desired->push_back(std::move(s));
  }
  auto journal = prep::Journal::load(o.journal);
  if (!journal) return failed(journal.error());
  prep::LiveHostOps ops(global.host_root);
  prep::Preparer preparer(global.host_root, ops, *journal);
  auto changes = preparer.diff(*desired);
  if (!changes) return failed(changes.error());
  FILE* out = o.json ? stderr : stdout;  // with --json, stdout holds only the document
  if (changes->empty()) {
    std::fprintf(out, "nothing to do: the host already matches the spec (no changes made)\n");
    return finish(o, doc);
  }
  if (o.dry_run) {
    std::fprintf(out, "dry run: %zu change(s) would be made (current -> desired):\n", changes->size());
    for (const auto& c : *changes) std::fprintf(out, "  %s\n", prep::describe(c).c_str());
    doc.changes = std::move(*changes);
    return finish(o, doc);
  }
  auto applied = preparer.apply(*changes);
  if (!applied) {
    doc.failed_applying = true;
    return failed(applied.error());
  }
  if (applied->empty()) {
    std::fprintf(out, "nothing to do: the host already matches the spec (no changes made)\n");
    return finish(o, doc);
  }
  std::fprintf(out, "applied %zu change(s):\n", applied->size());
  for (const auto& c : *applied) std::fprintf(out, "  %s\n", prep::describe(c).c_str());
  std::fprintf(out, "journal: %s (undo with: vnfctl unprepare --journal %s)\n", o.journal.c_str(), o.journal.c_str());
  if (o.persist) {
    doc.activation = prep::activationCommands(*host, *spec);
    std::fprintf(out, "to make it persistent, run (vnfctl does not run them):\n");
    for (const auto& cmd : doc.activation) std::fprintf(out, "  %s\n", cmd.c_str());
  }
  doc.changed = true;
  doc.changes = std::move(*applied);
  return finish(o, doc);
}

int runUnprepare(const GlobalOptions& global, const PrepareOptions& o) {
  PrepareDoc doc{"unprepare", o.dry_run, false, {}, o.journal, {}, {}};
  auto failed = [&](const Error& e) {
    doc.error = e;
    return finish(o, doc);
  };
  std::optional<HostLock> lock;
  if (!o.dry_run) {
    auto got = HostLock::acquire(o.lock, std::chrono::milliseconds(static_cast<long>(o.lock_wait_s * 1000)),
                                 "prepare/unprepare");
    if (!got) return failed(got.error());
    lock.emplace(std::move(*got));
  }
  FILE* out = o.json ? stderr : stdout;
  auto journal = prep::Journal::load(o.journal);
  if (!journal) return failed(journal.error());
  if (journal->empty()) {
    std::fprintf(out, "nothing to undo: no prepare journal at %s\n", o.journal.c_str());
    return finish(o, doc);
  }
  prep::LiveHostOps ops(global.host_root);
  prep::Preparer preparer(global.host_root, ops, *journal);
  auto restored = preparer.restoreAll(o.dry_run);
  if (!restored) {
    doc.failed_applying = true;
    Error e = restored.error();
    if (e.code == Errc::kInvalidArgument) e.code = Errc::kIo;  // unprepare takes no input to blame
    return failed(e);
  }
  std::fprintf(out, "%s %zu change(s)%s\n", o.dry_run ? "dry run: would restore" : "restored", restored->size(),
               o.dry_run ? " (current -> original):" : ":");
  for (const auto& c : *restored) std::fprintf(out, "  %s\n", prep::describe(c).c_str());
  doc.changed = !o.dry_run && !restored->empty();
  doc.changes = std::move(*restored);
  return finish(o, doc);
}

void addCommonOptions(CLI::App* cmd, PrepareOptions& o) {
  cmd->add_flag("--dry-run", o.dry_run, "Show the changes (current -> desired) and make none");
  cmd->add_flag("--json", o.json, "Print the result as JSON (schema vnfctl.prepare/v1); messages go to stderr");
  cmd->add_option("--journal", o.journal, "Journal of changes and original state")->capture_default_str();
  cmd->add_option("--lock", o.lock, "Host-wide lock file")->capture_default_str();
  cmd->add_option("--lock-wait", o.lock_wait_s, "Seconds to wait for another run to release the lock")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
}

}  // namespace

void addPrepareCommands(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto opt = std::make_shared<PrepareOptions>();
  auto* cmd = app.add_subcommand(
      "prepare", "Create SR-IOV VFs, set them, bind them to vfio-pci and reserve hugepages (journaled)");
  cmd->add_option("--spec", opt->spec_path, "Host spec (YAML: pfs, hugepages, kernel); see docs/prepare.md")
      ->option_text("FILE");
  cmd->add_option("--pf", opt->pf, "PF netdev or PCI address");
  cmd->add_option("--vfs", opt->vfs, "Number of VFs on --pf")->check(CLI::Range(0, 4096));
  cmd->add_option("--mac", opt->macs, "VF MAC, INDEX=MAC (repeatable)");
  cmd->add_option("--vlan", opt->vlans, "VF VLAN, INDEX=ID (repeatable; 0 = untagged)");
  cmd->add_option("--trust", opt->trust, "Trust this VF index (repeatable)");
  cmd->add_option("--no-spoofchk", opt->no_spoofchk, "Turn spoof checking off on this VF index (repeatable)");
  cmd->add_flag("--no-vfio", opt->no_vfio, "Leave the VFs on their kernel driver");
  cmd->add_option("--hugepages", opt->hugepages, "SIZE:COUNT[@NODE], e.g. 2M:512 (node: the PF's NUMA node)");
  cmd->add_option("--isolcpus", opt->isolcpus, "CPUs to isolate at boot (with --persist)");
  cmd->add_flag("--persist", opt->persist,
                "Also write a boot-time systemd unit and a grub drop-in (never runs update-grub)");
  cmd->add_option("--persist-root", opt->persist_root, "Write the --persist files under this directory")
      ->capture_default_str();
  addCommonOptions(cmd, *opt);
  cmd->callback([&global, &run, opt] { run = [&global, opt] { return runPrepare(global, *opt); }; });

  auto uopt = std::make_shared<PrepareOptions>();
  auto* undo = app.add_subcommand("unprepare", "Restore what vnfctl prepare changed, from its journal");
  addCommonOptions(undo, *uopt);
  undo->callback([&global, &run, uopt] { run = [&global, uopt] { return runUnprepare(global, *uopt); }; });
}

}  // namespace vnf::cli
