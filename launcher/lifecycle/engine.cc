#include "lifecycle/engine.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/host_lock.h"
#include "common/sha256.h"
#include "common/stage.h"
#include "virt/holdings.h"

namespace vnf::lifecycle {

const char* passName(Pass p) {
  switch (p) {
    case Pass::kGather: return "gather";
    case Pass::kReconcile: return "reconcile";
    case Pass::kPlan: return "plan";
    case Pass::kRender: return "render";
    case Pass::kDefine: return "define";
    case Pass::kStart: return "start";
    case Pass::kReady: return "ready";
    case Pass::kRollback: return "rollback";
  }
  return "?";
}

std::optional<Pass> passFromName(const std::string& name) {
  for (Pass p : {Pass::kGather, Pass::kReconcile, Pass::kPlan, Pass::kRender, Pass::kDefine, Pass::kStart, Pass::kReady,
                 Pass::kRollback}) {
    if (name == passName(p)) return p;
  }
  return std::nullopt;
}

const char* opName(Op op) {
  switch (op) {
    case Op::kStart: return "start";
    case Op::kStop: return "stop";
    case Op::kDestroy: return "destroy";
    case Op::kUndefine: return "undefine";
  }
  return "?";
}

bool LaunchResult::changed() const {
  return std::any_of(vnfs.begin(), vnfs.end(), [](const VnfOutcome& v) { return v.changed(); });
}

std::string lockPathFor(const std::string& run_dir, const std::string& uri) {
  const std::string u = uri.empty() ? defaultUri() : uri;
  return (std::filesystem::path(run_dir) / fmt::format("launch-{}.lock", sha256Hex(u).substr(0, 16))).string();
}

Result<ReadyLine> SerialLogReadiness::waitReady(const Connection& conn, const std::string& name,
                                                const std::string& serial_log, std::chrono::seconds timeout,
                                                const CancelToken& cancel, const std::function<void(double)>& waited) {
  return waitForReady(
      conn, name, serial_log, timeout, [&] { return cancel.cancelled(); }, waited);
}

namespace {

const char* stateText(DomainState s) { return domainStateName(s); }

std::string interruptedMessage(const CancelToken* cancel, Pass pass) {
  const int sig = cancel ? cancel->signal() : 0;
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : nullptr;
  return name ? fmt::format("interrupted by {} during {}", name, passName(pass))
              : fmt::format("cancelled during {}", passName(pass));
}

// Keeps a definition --replace takes away in a file until the run ends, so even a SIGKILL cannot
// lose it: the next run names the file.
class UndoJournal {
 public:
  explicit UndoJournal(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path pathFor(const std::string& name) const { return dir_ / (name + ".xml"); }

  Result<void> keep(const std::string& name, const std::string& xml) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      return fail(Errc::kIo,
                  fmt::format("cannot create {} to keep the definition of {}: {}", dir_.string(), name, ec.message()),
                  "run vnfctl as root, or free space on that filesystem");
    }
    const auto path = pathFor(name);
    const auto tmp = dir_ / fmt::format(".{}.{}.tmp", name, ::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail(Errc::kIo, fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    std::size_t done = 0;
    while (done < xml.size()) {
      ssize_t n = ::write(fd, xml.data() + done, xml.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = errno;
        ::close(fd);
        std::filesystem::remove(tmp, ec);
        return fail(Errc::kIo, fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)),
                    "free space on that filesystem; nothing was changed");
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      int err = errno;
      std::filesystem::remove(tmp, ec);
      return fail(Errc::kIo, fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
      std::filesystem::remove(tmp, ec);
      return fail(Errc::kIo, fmt::format("cannot write {}: {}", path.string(), ec.message()));
    }
    kept_.push_back(name);
    return {};
  }
  void forget(const std::string& name) {
    std::error_code ec;
    std::filesystem::remove(pathFor(name), ec);
    std::erase(kept_, name);
  }
  void forgetAll() {
    std::error_code ec;
    for (const auto& n : kept_) std::filesystem::remove(pathFor(n), ec);
    kept_.clear();
  }
  // Definitions an earlier run kept and never removed (it was killed): one note each.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      const auto file = e.path().filename().string();
      if (!file.ends_with(".xml") || file.starts_with(".")) continue;
      out.push_back(
          fmt::format("an earlier vnfctl run was killed while replacing {}; its previous definition is kept "
                      "in {} (put it back with: virsh define {}, or delete the file)",
                      file.substr(0, file.size() - 4), e.path().string(), e.path().string()));
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> kept_;
};

// One undo step, in the order the run did things.
struct Undo {
  enum class Kind { kUndefineNew, kRedefineOld, kDestroyStarted } kind;
  std::string name;
  std::string old_xml;       // kRedefineOld
  bool old_running = false;  // kRedefineOld: start it again
};

class Run {
 public:
  Run(const Environment& env, const LaunchRequest& req)
      : env_(env), req_(req), journal_(std::filesystem::path(env.state_dir) / "undo") {}

  std::expected<LaunchResult, LaunchFailure> go();

 private:
  // Pass bookkeeping: progress, cancellation, the test seam.
  void say(Pass pass, const std::string& vnf, std::string message) {
    if (env_.progress) env_.progress(Event{pass, vnf, std::move(message)});
  }
  Result<void> checkpoint(Pass pass, const std::string& vnf) {
    if (env_.after_pass) {
      if (auto ok = env_.after_pass(pass, vnf); !ok) return ok;
    }
    if (env_.cancel && env_.cancel->cancelled())
      return fail(Errc::kInterrupted, interruptedMessage(env_.cancel, pass),
                  "nothing of this run is left; run it again when ready");
    return {};
  }

  LaunchFailure failure(Error e, Pass pass, const std::string& vnf) {
    LaunchFailure f;
    f.error = std::move(e);
    f.pass = pass;
    f.vnf = vnf;
    if (!vnf.empty()) {
      for (const auto& o : outcomes_) {
        if (o.name == vnf) f.serial_log = o.serial_log;
      }
      if (!f.serial_log.empty() && (pass == Pass::kStart || pass == Pass::kReady))
        f.serial_tail = tailOf(f.serial_log, 15);
    }
    f.vnfs = outcomes_;
    rollback(f.rolled_back);
    f.notes = notes_;
    return f;
  }

  void rollback(std::vector<std::string>& lines);

  // "kvm", or "qemu" with why: the host has no vmx/svm, or it was asked for.
  std::string typeWhy(DomainType t) const {
    if (t == DomainType::kKvm) return "kvm";
    return domainTypeFor(*host_) == DomainType::kQemu ? "qemu (TCG emulation: this CPU has no vmx/svm)"
                                                      : "qemu (TCG emulation, as asked)";
  }

  Result<void> gather();
  Result<void> reconcile();
  Result<void> plan();
  Result<void> render();
  Result<void> stage(Prepared& p);
  Result<void> define(std::string& failed_vnf);
  Result<void> start(std::string& failed_vnf, Pass& failed_pass);

  const Environment& env_;
  const LaunchRequest& req_;
  UndoJournal journal_;
  std::optional<HostLock> lock_;
  std::optional<HostTopology> host_;
  std::vector<DomainHolding> holdings_;
  std::vector<Prepared> prepared_;
  std::vector<std::optional<ManagedDomain>> existing_;  // per request spec
  std::vector<VnfOutcome> outcomes_;                    // per request spec
  std::vector<std::size_t> to_render_;                  // indexes of new/changed VNFs
  std::vector<Placement> placements_;                   // per to_render_
  std::vector<RenderedVnf> rendered_;                   // per to_render_
  std::vector<Undo> undo_;
  std::vector<std::string> notes_;
};

Result<void> Run::gather() {
  const std::string lock_path = lockPathFor(env_.run_dir, env_.conn->uri());
  auto lock = HostLock::acquire(
      lock_path, env_.lock_wait, "launch",
      [&](const std::string& holder) {
        say(Pass::kGather, "",
            fmt::format("the host lock {} is held by {}; waiting up to {} s", lock_path, holder,
                        std::chrono::duration_cast<std::chrono::seconds>(env_.lock_wait).count()));
      },
      env_.command);
  if (!lock) return std::unexpected(lock.error());
  lock_.emplace(std::move(*lock));
  for (auto& note : journal_.leftovers()) notes_.push_back(std::move(note));
  auto host = env_.discover();
  if (!host) return std::unexpected(host.error());
  host_.emplace(std::move(*host));
  // What every domain holds, managed or foreign, from the XML libvirt runs (virt/holdings.h).
  auto holdings = readHoldings(*env_.conn);
  if (!holdings) return std::unexpected(holdings.error());
  holdings_ = std::move(*holdings);
  for (const auto& spec : req_.specs) {
    auto found = findVnfDomain(*env_.conn, spec.name);
    if (!found) {
      if (found.error().code == Errc::kConflict) {
        return fail(Errc::kInvalidArgument, found.error().message, found.error().fix);
      }
      return std::unexpected(found.error());
    }
    existing_.push_back(*found);
  }
  auto prepared = prepareAll(*host_, req_.specs, req_.render);
  if (!prepared) return std::unexpected(prepared.error());
  prepared_ = std::move(*prepared);
  say(Pass::kGather, "",
      fmt::format("{} domain{} on {}, {} managed by vnfctl", holdings_.size(), holdings_.size() == 1 ? "" : "s",
                  env_.conn->uri(),
                  std::count_if(holdings_.begin(), holdings_.end(), [](const DomainHolding& h) { return h.managed; })));
  return checkpoint(Pass::kGather, "");
}

Result<void> Run::reconcile() {
  std::vector<std::string> need_replace;
  for (std::size_t i = 0; i < prepared_.size(); ++i) {
    const auto& p = prepared_[i];
    VnfOutcome o;
    o.name = p.spec.name;
    o.type = p.type;
    o.serial_log = p.serial_log;
    if (existing_[i]) {
      const auto& e = *existing_[i];
      o.state_before = stateText(e.state);
      auto c = compareWithDefined(e.meta, p.spec, p.recipe);
      o.verdict = c.verdict;
      o.diff = std::move(c.diff);
      if (o.verdict == Verdict::kUnchanged && !e.serial_log.empty()) o.serial_log = e.serial_log;
      if (o.verdict == Verdict::kChanged && !req_.replace) {
        std::string lines;
        for (const auto& d : o.diff) lines += fmt::format("\n    {}: {} -> {}", d.field, d.before, d.after);
        need_replace.push_back(
            fmt::format("{} is already defined from a different spec ({}):{}", o.name, o.state_before, lines));
      }
    }
    if (o.verdict != Verdict::kUnchanged) to_render_.push_back(i);
    say(Pass::kReconcile, o.name, verdictName(o.verdict));
    outcomes_.push_back(std::move(o));
  }
  if (!need_replace.empty()) {
    std::string msg;
    for (const auto& n : need_replace) msg += (msg.empty() ? "" : "\n") + n;
    const bool running = std::any_of(outcomes_.begin(), outcomes_.end(), [](const VnfOutcome& o) {
      return o.verdict == Verdict::kChanged && o.state_before == "running";
    });
    return fail(Errc::kNeedsReplace, msg,
                fmt::format("add --replace to redefine it ({}); nothing was changed",
                            running ? "the running guest is stopped and started again: it reboots"
                                    : "it is not running, so nothing stops"));
  }
  return checkpoint(Pass::kReconcile, "");
}

Result<void> Run::plan() {
  // What the other domains hold. A VNF being replaced frees its CPUs and VFs; if it runs, its
  // hugepages come back when it stops. Unchanged VNFs of this request keep theirs.
  std::set<std::string> replaced;
  for (std::size_t i : to_render_) replaced.insert(outcomes_[i].name);
  Allocations allocations;
  for (const auto& h : holdings_) {
    if (!replaced.contains(h.name)) {
      addHolding(allocations, h);
    } else if ((h.state == DomainState::kRunning || h.state == DomainState::kPaused) && h.hugepages > 0) {
      allocations.hugepages_returning[{h.node, h.page_size_kib}] += h.hugepages;
    }
  }
  std::vector<VnfSpec> specs;
  for (std::size_t i : to_render_) specs.push_back(prepared_[i].spec);
  auto plan = planAll(*host_, allocations, specs);
  if (!plan) {
    Error e = plan.error();
    if (e.code == Errc::kConflict) e.code = Errc::kDoesNotFit;
    return std::unexpected(std::move(e));
  }
  placements_ = std::move(*plan);
  for (std::size_t k = 0; k < to_render_.size(); ++k) {
    auto& o = outcomes_[to_render_[k]];
    o.placement = placements_[k];
    say(Pass::kPlan, o.name, fmt::format("NUMA node {}", placements_[k].node));
  }
  return checkpoint(Pass::kPlan, "");
}

// Boot files QEMU's user cannot read are copied, content-addressed, where it can; the recipe keeps
// the paths the spec gave (a staged copy is the same content).
Result<void> Run::stage(Prepared& p) {
  if (!env_.stage_boot_files || req_.dry_run) return {};
  auto who = qemuIdentity(env_.qemu_conf);
  if (!who) return std::unexpected(who.error());
  for (auto* path : {&p.spec.guest.kernel, &p.spec.guest.initrd}) {
    if (path->empty()) continue;
    auto staged = stageForQemu(*path, who->uid, who->gid, (std::filesystem::path(env_.state_dir) / "boot").string());
    if (!staged) return std::unexpected(staged.error());
    if (staged->staged) {
      notes_.push_back(fmt::format("{}: {}", p.spec.name, staged->note));
      say(Pass::kRender, p.spec.name, staged->note);
      *path = staged->path;
    }
  }
  return {};
}

Result<void> Run::render() {
  for (std::size_t k = 0; k < to_render_.size(); ++k) {
    const std::size_t i = to_render_[k];
    if (auto ok = stage(prepared_[i]); !ok) return ok;
    for (const auto& note : prepared_[i].notes) {
      notes_.push_back(fmt::format("{}: {}", prepared_[i].spec.name, note));
      say(Pass::kRender, prepared_[i].spec.name, note);
    }
    const std::string uuid = existing_[i] ? existing_[i]->uuid : "";
    auto d = renderOne(*host_, prepared_[i], placements_[k], uuid, req_.render.validate);
    if (!d) return std::unexpected(d.error());
    rendered_.push_back(std::move(*d));
    say(Pass::kRender, outcomes_[i].name, "domain XML rendered and validated");
  }
  return checkpoint(Pass::kRender, "");
}

Result<void> Run::define(std::string& failed_vnf) {
  for (const auto& d : rendered_) {
    // libvirt opens the serial log at start; its folder must exist.
    std::error_code ec;
    const auto dir = std::filesystem::path(d.serial_log).parent_path();
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      failed_vnf = d.name;
      return fail(Errc::kIo, fmt::format("cannot create the serial log folder {}: {}", dir.string(), ec.message()),
                  "give --log-dir a folder root can write, on a filesystem with space; nothing was changed");
    }
  }
  for (std::size_t k = 0; k < to_render_.size(); ++k) {
    const std::size_t i = to_render_[k];
    auto& o = outcomes_[i];
    const auto& d = rendered_[k];
    failed_vnf = o.name;
    if (existing_[i]) {
      // Replace in place: the new definition overwrites the old one (same name and uuid), so
      // there is no moment without a definition; the old one is kept for undo, also on disk.
      auto old = domainXml(*env_.conn, o.name, true);
      if (!old) return std::unexpected(old.error());
      if (auto ok = journal_.keep(o.name, *old); !ok) return ok;
      const bool was_running =
          existing_[i]->state == DomainState::kRunning || existing_[i]->state == DomainState::kPaused;
      if (auto ok = defineDomain(*env_.conn, d.xml); !ok) {
        journal_.forget(o.name);  // libvirt kept the old definition: nothing to put back
        return ok;
      }
      undo_.push_back({Undo::Kind::kRedefineOld, o.name, *old, was_running});
      o.defined = true;
      if (was_running) {
        if (auto ok = destroyDomain(*env_.conn, o.name); !ok) return ok;
        o.rebooted = true;
      }
      say(Pass::kDefine, o.name,
          fmt::format("redefined on NUMA node {}, domain type {}{}", d.placement.node, typeWhy(d.type),
                      was_running ? "; the old guest was stopped" : ""));
    } else {
      std::error_code ec;
      std::filesystem::remove(d.serial_log, ec);  // a stale log would hold an old READY line
      if (auto ok = defineDomain(*env_.conn, d.xml); !ok) return ok;
      undo_.push_back({Undo::Kind::kUndefineNew, o.name, "", false});
      o.defined = true;
      say(Pass::kDefine, o.name,
          fmt::format("defined on NUMA node {}, domain type {}", d.placement.node, typeWhy(d.type)));
    }
    if (auto ok = checkpoint(Pass::kDefine, o.name); !ok) return ok;
  }
  failed_vnf.clear();
  return {};
}

Result<void> Run::start(std::string& failed_vnf, Pass& failed_pass) {
  for (auto& o : outcomes_) {
    const bool runs = o.verdict == Verdict::kUnchanged && (o.state_before == "running" || o.state_before == "paused");
    const bool should_run = req_.start || o.rebooted;  // define --replace of a running VNF brings it back
    if (runs || !should_run) continue;
    failed_vnf = o.name;
    failed_pass = Pass::kStart;
    if (o.verdict == Verdict::kUnchanged || o.rebooted) {
      std::error_code ec;
      std::filesystem::remove(o.serial_log, ec);  // the READY line must be this boot's
    }
    if (auto ok = startDomain(*env_.conn, o.name); !ok) {
      // The definition validated, so what is missing is on the host: hugepages, a device, a file
      // QEMU may not read. libvirt's reason names it.
      Error e = ok.error();
      e.code = Errc::kHostNotReady;
      if (e.fix.empty())
        e.fix = "the host lacks what the domain needs (see libvirt's reason above): fix it and launch again";
      return std::unexpected(std::move(e));
    }
    undo_.push_back({Undo::Kind::kDestroyStarted, o.name, "", false});
    o.started = true;
    say(Pass::kStart, o.name, "started");
    if (auto ok = checkpoint(Pass::kStart, o.name); !ok) return ok;
    failed_pass = Pass::kReady;
    if (!env_.readiness) return fail(Errc::kInvalidArgument, "the engine was given no readiness source");
    CancelToken never;
    auto ready = env_.readiness->waitReady(
        *env_.conn, o.name, o.serial_log, req_.ready_timeout, env_.cancel ? *env_.cancel : never, [&](double s) {
          say(Pass::kReady, o.name, fmt::format("waiting for the guest to report READY... {:.0f} s", s));
        });
    if (!ready) {
      Error e = ready.error();
      if (env_.cancel && env_.cancel->cancelled()) {
        e = Error{Errc::kInterrupted, interruptedMessage(env_.cancel, Pass::kReady),
                  "nothing of this run is left; run it again when ready"};
      }
      return std::unexpected(std::move(e));
    }
    o.ready = *ready;
    say(Pass::kReady, o.name, fmt::format("ready in {:.1f} s: {}", ready->seconds, ready->line));
    if (auto ok = checkpoint(Pass::kReady, o.name); !ok) return ok;
  }
  failed_vnf.clear();
  return {};
}

void Run::rollback(std::vector<std::string>& lines) {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    const Undo& u = *it;
    switch (u.kind) {
      case Undo::Kind::kDestroyStarted: {
        auto ok = destroyDomain(*env_.conn, u.name);
        lines.push_back(ok ? fmt::format("{}: stopped again", u.name)
                           : fmt::format("{}: could not be stopped: {}", u.name, ok.error().message));
        break;
      }
      case Undo::Kind::kUndefineNew: {
        (void)destroyDomain(*env_.conn, u.name);
        auto ok = undefineDomain(*env_.conn, u.name);
        lines.push_back(ok ? fmt::format("{}: the domain this run defined was removed", u.name)
                           : fmt::format("{}: could not be undefined: {}", u.name, ok.error().message));
        break;
      }
      case Undo::Kind::kRedefineOld: {
        (void)destroyDomain(*env_.conn, u.name);
        if (auto ok = defineDomain(*env_.conn, u.old_xml); !ok) {
          lines.push_back(fmt::format("{}: could not put back the previous definition: {} (it is kept in {})", u.name,
                                      ok.error().message, journal_.pathFor(u.name).string()));
          continue;  // keep the journal file
        }
        if (!u.old_running) {
          lines.push_back(fmt::format("{}: the previous definition is back", u.name));
        } else if (auto ok = startDomain(*env_.conn, u.name); !ok) {
          lines.push_back(fmt::format("{}: the previous definition is back but did not start again: {}", u.name,
                                      ok.error().message));
        } else {
          lines.push_back(
              fmt::format("{}: the previous definition is back and running again (the guest rebooted)", u.name));
        }
        std::error_code ec;
        std::filesystem::remove(journal_.pathFor(u.name), ec);
        break;
      }
    }
    say(Pass::kRollback, u.name, lines.back());
  }
  if (undo_.empty()) lines.push_back("nothing had been changed");
  undo_.clear();
}

std::expected<LaunchResult, LaunchFailure> Run::go() {
  if (auto ok = gather(); !ok) return std::unexpected(failure(ok.error(), Pass::kGather, ""));
  if (auto ok = reconcile(); !ok) return std::unexpected(failure(ok.error(), Pass::kReconcile, ""));
  if (auto ok = plan(); !ok) return std::unexpected(failure(ok.error(), Pass::kPlan, ""));
  if (auto ok = render(); !ok) return std::unexpected(failure(ok.error(), Pass::kRender, ""));
  if (!req_.dry_run) {
    std::string vnf;
    if (auto ok = define(vnf); !ok) return std::unexpected(failure(ok.error(), Pass::kDefine, vnf));
    // Planning and defining are done: other runs may plan now (they see these definitions).
    lock_.reset();
    Pass pass = Pass::kStart;
    if (auto ok = start(vnf, pass); !ok) return std::unexpected(failure(ok.error(), pass, vnf));
    journal_.forgetAll();
  }
  LaunchResult r;
  r.vnfs = std::move(outcomes_);
  r.notes = std::move(notes_);
  return r;
}

}  // namespace

std::expected<LaunchResult, LaunchFailure> launch(const Environment& env, const LaunchRequest& request) {
  Run run(env, request);
  return run.go();
}

Result<OpResult> apply(const Environment& env, Op op, const std::string& name, std::chrono::seconds grace,
                       bool dry_run) {
  auto found = findVnfDomain(*env.conn, name);
  if (!found) {
    if (found.error().code == Errc::kConflict)
      return fail(Errc::kInvalidArgument, found.error().message, found.error().fix);
    return std::unexpected(found.error());
  }
  if (!*found) {
    return fail(Errc::kNoSuchVnf, fmt::format("no VNF named '{}' on {}", name, env.conn->uri()),
                "see the VNFs vnfctl manages with: vnfctl list");
  }
  OpResult r;
  r.name = name;
  const DomainState before = (*found)->state;
  r.state_before = stateText(before);
  const bool active = before == DomainState::kRunning || before == DomainState::kPaused;
  if (dry_run) {
    r.dry_run = true;
    if (op == Op::kUndefine && active) {
      return fail(Errc::kConflict, fmt::format("{} is running; it cannot be undefined while it runs", name),
                  fmt::format("stop it first: vnfctl destroy {}", name));
    }
    r.changed = op == Op::kUndefine || (op == Op::kStart) != active;
    r.state_after = !r.changed            ? r.state_before
                    : op == Op::kStart    ? stateText(DomainState::kRunning)
                    : op == Op::kUndefine ? "absent"
                                          : stateText(DomainState::kShutOff);
    return r;
  }
  Result<void> done;
  switch (op) {
    case Op::kStart:
      if (!active) done = startDomain(*env.conn, name), r.changed = true;
      break;
    case Op::kStop:
      if (active) done = shutdownDomain(*env.conn, name, grace), r.changed = true;
      break;
    case Op::kDestroy:
      if (active) done = destroyDomain(*env.conn, name), r.changed = true;
      break;
    case Op::kUndefine: done = undefineDomain(*env.conn, name), r.changed = true; break;
  }
  if (!done) {
    Error e = done.error();
    if (op == Op::kStop && e.code == Errc::kConflict) e.code = Errc::kTimeout;
    return std::unexpected(std::move(e));
  }
  auto after = domainState(*env.conn, name);
  r.state_after = after ? stateText(*after) : "absent";
  if (op == Op::kUndefine) r.state_after = "absent";
  return r;
}

}  // namespace vnf::lifecycle
