#include "diagnose/finding.h"

namespace vnf::diagnose {

const char* severityName(Severity s) {
  switch (s) {
    case Severity::kOk: return "ok";
    case Severity::kInfo: return "info";
    case Severity::kWarn: return "warn";
    case Severity::kFail: return "fail";
  }
  return "?";
}

int diagnoseExitCode(const std::vector<Finding>& findings) {
  for (const auto& f : findings)
    if (f.severity == Severity::kFail) return 1;
  return 0;
}

nlohmann::ordered_json toJson(const Finding& f) {
  return {{"check", f.check}, {"vnf", f.vnf},     {"severity", severityName(f.severity)},
          {"seen", f.seen},   {"where", f.where}, {"meaning", f.meaning},
          {"fix", f.fix}};
}

}  // namespace vnf::diagnose
