// `vnfctl tune` / `vnfctl untune`: the fixes diagnose can make itself. NIC ring sizes (the ethtool
// API) and the PF's queue IRQs onto the NIC's NUMA node (/proc/irq/N/smp_affinity_list). Every
// change is journaled with its original value before it is made (like prepare's journal), so
// untune restores exactly; a run that fails part-way puts back what it changed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "diagnose/ethtool.h"
#include "diagnose/probe.h"
#include "host/host_fs.h"
#include "prep/host_ops.h"

namespace vnf::diagnose {

// The seam to the NIC: ethtool on the live host, a fake in tests.
class RingOps {
 public:
  virtual ~RingOps() = default;
  virtual Result<ethtool::RingParams> rings(const std::string& nic) = 0;
  virtual Result<void> setRings(const std::string& nic, std::uint32_t rx, std::uint32_t tx) = 0;
};
class LiveRingOps final : public RingOps {
 public:
  Result<ethtool::RingParams> rings(const std::string& nic) override { return ethtool::rings(nic); }
  Result<void> setRings(const std::string& nic, std::uint32_t rx, std::uint32_t tx) override {
    return ethtool::setRings(nic, rx, tx);
  }
};

struct TuneEntry {
  std::string kind;  // "rings" (target: a netdev; values "RX/TX") or "irq" (target: /proc/irq/N/smp_affinity_list)
  std::string target;
  std::string original;  // the value before the first change; what untune writes back
  std::string applied;
  bool done = false;  // false: started, not confirmed (interrupted); untune restores it anyway
  bool operator==(const TuneEntry&) const = default;
};

struct TuneJournal {
  std::string path;
  std::vector<TuneEntry> entries;
  // A missing file is an empty journal; a damaged one is an error (never guessed around).
  static Result<TuneJournal> load(const std::string& path);
  Result<void> save() const;    // atomically (writeFileSafely)
  Result<void> remove() const;  // after a full untune
  TuneEntry* find(const std::string& kind, const std::string& target);
  bool empty() const { return entries.empty(); }
};

struct TuneRequest {
  std::vector<std::string> nics;       // PF netdevs
  std::optional<std::uint32_t> rings;  // 0: the driver's maximum
  bool irq_local = false;
  bool dry_run = false;
  bool force = false;                                     // change rings of a NIC a running VNF uses (its link resets)
  std::map<std::string, std::vector<std::string>> users;  // NIC -> running VNFs on its VFs
};

// Says each change before it is made ("ens1f0: RX ring 256 -> 4096 ... the link resets").
using Say = std::function<void(const std::string&)>;

// Errors (nothing changed): kInvalidArgument for a ring size over the maximum (naming value and
// limit) or an unknown NIC; kConflict for a NIC without ring support or one a running VNF uses
// without --force. A failure while applying restores this run's changes and returns the error.
Result<void> tune(const HostFs& fs, RingOps& nic, prep::HostOps& host, TuneJournal& journal, const TuneRequest& req,
                  const Say& say);
// Restores every journaled value, newest first, and removes the journal. Nothing to do: ok.
Result<void> untune(RingOps& nic, prep::HostOps& host, TuneJournal& journal, bool dry_run, const Say& say);

// Which running VNFs use each PF netdev (their VFs, from vnfctl's domain metadata) into `users`, and
// the PF netdevs of VNF `name` (empty name: none). kNoSuchVnf for an unknown name; kInvalidArgument
// for a VNF without a VF on a PF that has a netdev; the probe's error when domains cannot be listed.
Result<std::vector<std::string>> nicUsers(const HostFs& fs, Probe& probe, const std::string& name,
                                          std::map<std::string, std::vector<std::string>>& users);

// --persist: tune re-applies at boot through prepare's unit (vnfctl-prepare.service, written by
// `vnfctl prepare --persist`): the persisted request (/etc/vnfctl/tune.json, merged per NIC over runs)
// and a systemd drop-in (/etc/systemd/system/vnfctl-prepare.service.d/vnfctl-tune.conf) whose
// ExecStartPost runs `vnfctl tune --persisted FILE` after prepare, before libvirtd. untune removes both.
struct PersistedNic {
  std::optional<std::uint32_t> rings;  // 0: the driver's maximum
  bool irq_local = false;
  bool operator==(const PersistedNic&) const = default;
};
struct PersistedTune {
  std::map<std::string, PersistedNic> nics;
  bool operator==(const PersistedTune&) const = default;
  // A missing file is empty; a damaged one (or one naming an impossible NIC or size) is an error.
  static Result<PersistedTune> load(const std::string& path);
};
struct PersistPaths {
  std::string root = "/";  // a temp dir in tests
  std::string vnfctl_path = "/usr/bin/vnfctl";
  std::string journal_path = "/var/lib/vnfctl/tune-journal.json";
  std::string request() const;  // ROOT/etc/vnfctl/tune.json
  std::string dropIn() const;   // ROOT/etc/systemd/system/vnfctl-prepare.service.d/vnfctl-tune.conf
  std::string unit() const;     // ROOT/etc/systemd/system/vnfctl-prepare.service
};
// Merges req (its NICs, rings, IRQ choice) into the persisted request and writes it and the drop-in.
// kConflict, nothing written, when prepare's unit is not installed. Says what it wrote and the
// command that activates it (systemctl daemon-reload; vnfctl never runs systemctl).
Result<void> persistTune(const PersistPaths& paths, const TuneRequest& req, const Say& say);
// Removes the drop-in and the persisted request (those vnfctl wrote: refuses a drop-in without
// vnfctl's header); nothing there: ok.
Result<void> unpersistTune(const PersistPaths& paths, bool dry_run, const Say& say);
// The requests the boot-time run makes, one per NIC (in name order).
std::vector<TuneRequest> persistedRequests(const PersistedTune& p);

// "irqbalance runs (pid N): it will move the IRQs back ..." or "" (reads /proc/*/comm via fs).
std::string irqbalanceWarning(const HostFs& fs);

}  // namespace vnf::diagnose
