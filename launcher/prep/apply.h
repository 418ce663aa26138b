// Applies prepare steps to a host and undoes them: reads each object's current state (HostFs), changes
// only what differs (HostOps), journals the original state before every change, and rolls back this
// run's changes when one fails, so a failed prepare leaves the host as it found it.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "host/host_fs.h"
#include "prep/host_ops.h"
#include "prep/journal.h"
#include "prep/steps.h"

namespace vnf::prep {

class Preparer {
 public:
  // `host_root`: where sysfs/procfs are read ("/" live); `ops` makes the changes; `journal` is loaded.
  Preparer(std::string host_root, HostOps& ops, Journal& journal)
      : root_(std::move(host_root)), ops_(ops), journal_(journal) {}

  // The object's state now: "" none/unbound, kNewVf when the VF does not exist yet.
  Result<std::string> current(const Step& step) const;
  // The steps whose object differs from the wanted state, `from` filled in. Also refuses up front a
  // vfio-pci bind of an existing VF whose IOMMU group holds a device bound to a host driver.
  Result<std::vector<Step>> diff(const std::vector<Step>& desired) const;
  // Applies the steps in order (re-reading each object first: equal ones are skipped). Returns the
  // changes made. On a failure, this run's changes are undone in reverse and the error says so.
  Result<std::vector<Step>> apply(const std::vector<Step>& steps);
  // Restores every journaled object to its original state, newest first; removes the journal when
  // all succeeded. Returns what was restored (from = state before, to = original).
  Result<std::vector<Step>> restoreAll(bool dry_run);

  // Checks that every other device in `addr`'s IOMMU group is unbound or bound to vfio-pci (bridges
  // aside). The error names the device, its driver and why sharing is unsafe.
  Result<void> checkIommuGroup(const std::string& addr) const;

 private:
  Result<HostFs> fs() const;  // a fresh HostFs: VFs come and go between reads
  Result<std::string> vfAddress(const HostFs& fs, const std::string& pf, int vf) const;  // "" if none
  Result<std::string> pfNetdev(const HostFs& fs, const std::string& pf) const;
  // Moves the object to `value`; returns the note to journal (driver_override, "created").
  Result<std::string> set(const Step& step, const std::string& value, const std::string& note);
  Result<std::string> setDriver(const Step& step, const std::string& value, const std::string& note);
  void rollback(std::vector<std::pair<Step, bool>>& done, std::vector<std::string>& report);
  // VF-level entries of VFs that restoring the PF's VF count destroys anyway are skipped.
  bool vfGoneAfterRestore(const Step& step) const;

  std::string root_;
  HostOps& ops_;
  Journal& journal_;
};

}  // namespace vnf::prep
