// Internal to vnf_domain: the typed model written into a template document with libxml2.
#pragma once

#include <libxml/tree.h>

#include "domain/metadata.h"
#include "domain/model.h"

namespace vnf::domain {

// Sets or replaces, in `doc` (a copy of the template), every element the renderer owns (listed in
// docs/domain-xml.md) and puts the top-level elements in libvirt's order. Template content the
// renderer does not own is kept; comments are dropped.
void writeDomain(xmlDoc* doc, const Domain& d);

// Appends vnfctl's <vnfctl:vnf xmlns:vnfctl=kVnfMetadataNs> element to `parent` (<metadata>).
void writeVnfMetadata(xmlNode* parent, const VnfMetadata& m);

}  // namespace vnf::domain
