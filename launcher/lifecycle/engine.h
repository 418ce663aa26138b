// The lifecycle engine: one library that every front end (the CLI, the management API, the
// Ansible modules) calls to define, launch, replace, start, stop and remove VNFs. It is a list of
// named passes:
//
//   gather    the host, the managed domains, what they hold (under the per-URI host lock)
//   reconcile decide once per VNF: new / unchanged / changed (with the field diff)
//   plan      placements for new and changed VNFs against what the others hold
//   render    the domain model and its XML, once each
//   define    define new domains; redefine changed ones (the old definition kept for undo)
//   start     start what must run
//   ready     wait for each guest's READY line
//
// Every step that changes libvirt pushes its undo; a failure, a cancellation (the token, set by a
// signal handler in the CLI) or an error from the after_pass seam rolls back in reverse order, so
// libvirt is left as it was: definitions and running state (a replaced running domain is defined
// and started again, which means it rebooted: the result says so). The engine never prints; it
// reports through `progress` and returns typed results.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "lifecycle/recipe.h"
#include "lifecycle/render.h"
#include "planning/plan.h"
#include "spec/spec.h"
#include "virt/connection.h"
#include "virt/vnf_domains.h"

namespace vnf::lifecycle {

enum class Pass { kGather, kReconcile, kPlan, kRender, kDefine, kStart, kReady, kRollback };
const char* passName(Pass p);
// "gather" -> kGather, ...; nullopt for an unknown name.
std::optional<Pass> passFromName(const std::string& name);

struct Event {
  Pass pass;
  std::string vnf;      // "" for a whole-run step
  std::string message;  // one line, for people
};
using ProgressFn = std::function<void(const Event&)>;

// Set from a signal handler (async-signal-safe) or another thread; checked between steps and while
// waiting.
class CancelToken {
 public:
  void cancel(int signal = 0) noexcept { state_.store(signal, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return state_.load(std::memory_order_relaxed) >= 0; }
  int signal() const noexcept { return state_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> state_{-1};
};

// Where READY comes from: the guest's serial log for real guests, a fake in tests.
class ReadinessSource {
 public:
  virtual ~ReadinessSource() = default;
  virtual Result<ReadyLine> waitReady(const Connection& conn, const std::string& name, const std::string& serial_log,
                                      std::chrono::seconds timeout, const CancelToken& cancel,
                                      const std::function<void(double)>& waited) = 0;
};

class SerialLogReadiness final : public ReadinessSource {
 public:
  Result<ReadyLine> waitReady(const Connection& conn, const std::string& name, const std::string& serial_log,
                              std::chrono::seconds timeout, const CancelToken& cancel,
                              const std::function<void(double)>& waited) override;
};

struct Environment {
  const Connection* conn = nullptr;
  std::function<Result<HostTopology>()> discover;  // the host the plan is for
  ReadinessSource* readiness = nullptr;            // required when a request starts guests
  const CancelToken* cancel = nullptr;             // optional
  ProgressFn progress;                             // optional
  std::string run_dir = "/run/vnfctl";             // the per-URI host lock
  std::string state_dir = "/var/lib/vnfctl";       // undo/: definitions a --replace took away
  std::chrono::milliseconds lock_wait{60000};
  std::string command;  // for the lock holder's description ("vnfctl launch fw.yaml")
  // libvirt's QEMU runs on this machine (a local URI): hand it boot files its user can read,
  // staging copies under state_dir/boot when the given ones are not (a checkout in /root, mode 700).
  bool stage_boot_files = false;
  std::string qemu_conf = "/etc/libvirt/qemu.conf";
  // Test seam: called after a pass did its work for `vnf` ("" for a whole-run pass). An error is
  // handled as if that pass had failed.
  std::function<Result<void>(Pass, const std::string& vnf)> after_pass;
};

struct LaunchRequest {
  std::vector<VnfSpec> specs;  // instances (expandCount done)
  RenderOptions render;
  bool start = true;     // launch; false: define only
  bool replace = false;  // redefine VNFs whose spec changed
  bool dry_run = false;  // stop after render: decide and plan, change nothing
  std::chrono::seconds ready_timeout{240};
};

struct VnfOutcome {
  std::string name;
  Verdict verdict = Verdict::kNew;
  std::vector<FieldChange> diff;       // kChanged
  std::optional<Placement> placement;  // new and changed VNFs
  DomainType type = DomainType::kQemu;
  std::string serial_log;
  std::string state_before = "absent";  // "absent", "running", "shut off", ...
  bool defined = false;                 // this run defined or redefined it
  bool started = false;                 // this run started it
  bool rebooted = false;                // it ran before this run replaced it: the guest restarted
  std::optional<ReadyLine> ready;
  bool changed() const { return defined || started; }
};

struct LaunchResult {
  std::vector<VnfOutcome> vnfs;
  std::vector<std::string> notes;
  bool changed() const;
};

struct LaunchFailure {
  Error error;
  Pass pass = Pass::kGather;
  std::string vnf;         // the VNF it failed on ("" for the whole run)
  std::string serial_log;  // that VNF's serial log, and its last lines (read before rollback)
  std::string serial_tail;
  std::vector<VnfOutcome> vnfs;          // what had been decided
  std::vector<std::string> rolled_back;  // one line per undo step, in the order done
  std::vector<std::string> notes;        // as in LaunchResult (e.g. a definition an earlier killed run kept)
};

std::expected<LaunchResult, LaunchFailure> launch(const Environment& env, const LaunchRequest& request);

// Single-domain operations, idempotent: `changed` says whether anything was done.
enum class Op { kStart, kStop, kDestroy, kUndefine };
const char* opName(Op op);
struct OpResult {
  std::string name;
  bool changed = false;
  std::string state_before;
  std::string state_after;  // with dry_run: the state the operation would leave
  bool dry_run = false;
};
// kStop: graceful ACPI shutdown, waiting up to `grace`. kUndefine refuses a running VNF.
// dry_run: the same checks and the same answer (changed, states, errors), nothing done.
Result<OpResult> apply(const Environment& env, Op op, const std::string& name,
                       std::chrono::seconds grace = std::chrono::seconds(30), bool dry_run = false);

// The per-URI host lock file under run_dir (so runs against different hosts go in parallel).
std::string lockPathFor(const std::string& run_dir, const std::string& uri);

}  // namespace vnf::lifecycle
