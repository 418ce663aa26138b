// The engine's test seams, read from the environment by every front end that runs the engine
// (`vnfctl launch`/`define`, `vnfctl serve`; docs/cli.md "Test seams"):
//   VNFCTL_TEST_HOLD=PASS[:VNF]  after that pass, wait until `cancel` is set (a signal), so a test
//                                can signal the real binary at a known point (at most 120 s)
//   VNFCTL_TEST_FAIL=PASS[:VNF]  inject a failure after that pass (rolled back like any other)
// Neither set: an empty function (no seam).
#pragma once

#include <functional>
#include <string>

#include "common/error.h"
#include "lifecycle/engine.h"

namespace vnf::lifecycle {

std::function<Result<void>(Pass, const std::string&)> testSeamFromEnv(const CancelToken& cancel);

}  // namespace vnf::lifecycle
