// A diagnose finding: what was seen (numbers and where they were read), what it means, and the
// fix (a vnfctl command where one exists). Severity orders them; the worst sets the exit status.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vnf::diagnose {

enum class Severity { kOk, kInfo, kWarn, kFail };
const char* severityName(Severity s);  // "ok", "info", "warn", "fail"

struct Finding {
  std::string check;  // stable id: "mtu.pf", "iommu.dmar", ...
  std::string vnf;    // the VNF it concerns; "" for the host as a whole
  Severity severity = Severity::kOk;
  std::string seen;     // the numbers
  std::string where;    // where they were read (file, netlink/ethtool call, recorded-answers file)
  std::string meaning;  // what it means for the VNF's packets
  std::string fix;      // exact command or edit; "" when nothing is to be done
};

// Like doctor: 0 when no finding fails (warnings allowed), 1 when one does.
int diagnoseExitCode(const std::vector<Finding>& findings);

// {"schema": "vnfctl.diagnose/v1", "exit_code", "findings": [...], "path": [...]} is built by the
// CLI; this is one finding as JSON.
nlohmann::ordered_json toJson(const Finding& f);

}  // namespace vnf::diagnose
