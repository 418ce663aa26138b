// The render pass: specs + placements -> domain models and their XML, each built once. Also the
// defaults every front end shares (templates folder, guest image folder, domain type, uuids).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "domain/render.h"
#include "lifecycle/recipe.h"
#include "planning/plan.h"
#include "spec/spec.h"

namespace vnf::lifecycle {

struct RenderOptions {
  std::filesystem::path templates_dir;      // domain-templates/
  std::optional<DomainType> domain_type;    // nullopt: kvm where the CPU has vmx/svm, else qemu
  std::string log_dir = "/var/log/vnfctl";  // serial logs: <log_dir>/<name>.serial.log
  bool validate = true;                     // check against libvirt's domain.rng
  // The vnfctl guest image (vmlinuz, initrd.img, image.json from guest/image/build-image), used
  // when a spec names neither guest.kernel nor guest.disk.
  std::filesystem::path image_dir = "/var/lib/vnfctl/image";
};

// The default templates folder: $VNFCTL_TEMPLATES, else the installed one, else the source tree's.
std::filesystem::path defaultTemplatesDir();
// $VNFCTL_IMAGE_DIR, else /var/lib/vnfctl/image.
std::filesystem::path defaultImageDir();
// kvm where the host CPU exposes vmx or svm; qemu (TCG) otherwise.
DomainType domainTypeFor(const HostTopology& host);
const char* domainTypeName(DomainType t);
// A stable uuid for a VNF name (name-based, version 5 layout), so renders are reproducible.
std::string nameUuid(const std::string& name);

// Gives a spec without guest.kernel/disk the vnfctl image, and makes boot paths absolute (as
// libvirt needs). Done before hashing the spec, so the same spec always hashes the same.
void resolveBootFiles(VnfSpec& spec, const RenderOptions& options);

// What one VNF is rendered from, decided before planning: its template and its recipe.
struct Prepared {
  VnfSpec spec;  // boot files resolved
  Template tmpl;
  DomainType type = DomainType::kQemu;
  std::string serial_log;
  std::string image_hash;  // the guest image's recorded hash ("" if none)
  Recipe recipe;
};

// Loads each spec's template (once per profile), reads the image hash and computes the recipe.
Result<std::vector<Prepared>> prepareAll(const HostTopology& host, const std::vector<VnfSpec>& specs,
                                         const RenderOptions& options);

struct RenderedVnf {
  std::string name;
  std::string uuid;
  Placement placement;
  DomainType type = DomainType::kQemu;
  std::string serial_log;
  domain::Domain model;
  std::string xml;
};

// Renders one prepared VNF at its placement. `uuid`: the defined domain's uuid when it is being
// replaced (libvirt keeps a domain's uuid), else nameUuid(name).
Result<RenderedVnf> renderOne(const HostTopology& host, const Prepared& p, const Placement& placement,
                              const std::string& uuid, bool validate);

// plan + render for `vnfctl render`: every spec planned together against `existing`.
Result<std::vector<RenderedVnf>> renderAll(const HostTopology& host, const Allocations& existing,
                                           const std::vector<VnfSpec>& specs, const RenderOptions& options);

}  // namespace vnf::lifecycle
