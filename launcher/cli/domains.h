// The render pass lives in the lifecycle engine (lifecycle/render.h); `render` and the tests use it
// through these names.
#pragma once

#include "lifecycle/render.h"

namespace vnf::cli {

using lifecycle::defaultImageDir;
using lifecycle::defaultTemplatesDir;
using lifecycle::nameUuid;
using lifecycle::renderAll;
using lifecycle::RenderOptions;

}  // namespace vnf::cli
