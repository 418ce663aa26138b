// The VNF domains vnfctl manages, through libvirt's API: found by their metadata (never by name
// patterns), defined, started, stopped, removed; and what they hold, for the planner.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "domain/metadata.h"
#include "planning/plan.h"
#include "virt/connection.h"

namespace vnf {

struct DomainDeleter {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;

enum class DomainState { kRunning, kPaused, kShutOff, kCrashed, kOther };
const char* domainStateName(DomainState s);
// virDomainState (VIR_DOMAIN_RUNNING, ...) as a DomainState.
DomainState domainStateFromLibvirt(int state);

struct ManagedDomain {
  std::string name;
  std::string uuid;
  DomainState state = DomainState::kOther;
  bool persistent = false;
  VnfMetadata meta;
  std::string serial_log;  // <serial type='file'> path, "" if none
};

// vnfctl's metadata of domain `name` (on `uri`) from its XML; nullopt when it has none (foreign).
// A damaged element is an error (kBadContent) naming the domain and how to repair or remove it:
// read as "not ours", its CPUs and VFs would be handed out again.
Result<std::optional<VnfMetadata>> readDomainMetadata(const std::string& xml, const std::string& name,
                                                      const std::string& uri);

// Every domain on the connection (active and defined), for the listings below.
Result<std::vector<DomainHandle>> listAllDomains(const Connection& conn);

// Every domain with vnfctl's metadata element, sorted by name. Foreign domains are left out; a
// domain whose vnfctl element is damaged fails the listing (readDomainMetadata): planning on it
// would hand out what that domain holds.
Result<std::vector<ManagedDomain>> listVnfDomains(const Connection& conn);

// The same listing for those who only show it (vnfctl list): the domains that read well, and one
// error per damaged domain (readDomainMetadata's, naming it and the repair), sorted by name.
struct DamagedDomain {
  std::string name;
  DomainState state = DomainState::kOther;  // a running one still holds its CPUs and memory
  Error error;
};
struct VnfListing {
  std::vector<ManagedDomain> domains;
  std::vector<DamagedDomain> damaged;
};
Result<VnfListing> listVnfDomainsKeepingDamaged(const Connection& conn);
// One managed domain by name; nullopt when there is no domain of that name. A domain of that name
// that vnfctl does not manage is an error (kConflict), so vnfctl never touches foreign domains.
Result<std::optional<ManagedDomain>> findVnfDomain(const Connection& conn, const std::string& name);

// What the managed domains hold, as their metadata records it: pinned CPUs and VFs always; normal
// memory always; hugepages only for domains that are defined but not running (running ones are
// already missing from the host's free counts). readHoldings (virt/holdings.h) reads the same from
// the XML libvirt runs, foreign domains included, and is what planning should use.
Allocations allocationsOf(const std::vector<ManagedDomain>& domains);

// Defines (persistently) with VIR_DOMAIN_DEFINE_VALIDATE.
Result<void> defineDomain(const Connection& conn, const std::string& xml);
Result<void> startDomain(const Connection& conn, const std::string& name);
// Graceful ACPI shutdown, then waits up to `grace`; a guest that ignores it is left running and
// the error says to use destroy.
Result<void> shutdownDomain(const Connection& conn, const std::string& name, std::chrono::seconds grace);
// Hard stop; no error when it is not running.
Result<void> destroyDomain(const Connection& conn, const std::string& name);
// Removes the definition (it must not be running) and the serial log vnfctl gave it.
Result<void> undefineDomain(const Connection& conn, const std::string& name);

// The libvirt XML of a domain (live when running).
Result<std::string> domainXml(const Connection& conn, const std::string& name, bool inactive);
Result<DomainState> domainState(const Connection& conn, const std::string& name);

// Waits for the guest's "VNF-READY" line in its serial log. Fails on "VNF-FAILED", when the domain
// stops, at `timeout`, or when `interrupted()` turns true (SIGINT). `progress` is called about once
// a second with the seconds waited.
struct ReadyLine {
  std::string line;
  double seconds = 0;
};
Result<ReadyLine> waitForReady(const Connection& conn, const std::string& name, const std::string& serial_log,
                               std::chrono::seconds timeout, const std::function<bool()>& interrupted,
                               const std::function<void(double)>& progress);

// The last `lines` lines of a file ("" when unreadable), for error messages.
std::string tailOf(const std::string& path, int lines);

}  // namespace vnf
