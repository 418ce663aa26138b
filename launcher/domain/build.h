// Spec + placement -> the typed domain model. Pure: all decisions about what the XML says are
// made here (and tested here), the writer only prints them.
#pragma once

#include "common/error.h"
#include "domain/model.h"
#include "domain/render.h"

namespace vnf::domain {

// Errors (kInvalidArgument): every inconsistency found, one per line (see renderDomainXml).
Result<Domain> buildDomain(const RenderInput& input);

// The disk image format from its file name: ".qcow2" -> "qcow2", anything else "raw". (libvirt
// never probes formats, for safety; an image in another format needs a ".qcow2"/".raw" name.)
std::string diskFormat(const std::string& path);

}  // namespace vnf::domain
