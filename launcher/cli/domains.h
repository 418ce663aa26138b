// From specs to domain XML, as `render` (and later `define`/`launch`) need it: plan, name a uuid,
// work out the guest manifest, render from the profile's template and validate against libvirt's
// schema. Nothing is written here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "discovery/topology.h"
#include "domain/render.h"
#include "planning/plan.h"
#include "spec/spec.h"

namespace vnf::cli {

struct RenderOptions {
  std::filesystem::path templates_dir;     // domain-templates/
  std::optional<DomainType> domain_type;   // nullopt: kvm where the CPU has vmx/svm, else qemu
  std::string log_dir = "/var/log/vnfctl"; // serial logs: <log_dir>/<name>.serial.log
  bool validate = true;                    // check against libvirt's domain.rng
  // The vnfctl guest image (vmlinuz, initrd.img, image.json from guest/image/build-image), used
  // when a spec names neither guest.kernel nor guest.disk.
  std::filesystem::path image_dir = "/var/lib/vnfctl/image";
};

struct RenderedDomain {
  std::string name;
  std::string uuid;
  std::string xml;
  Placement placement;
  DomainType type = DomainType::kQemu;
};

// The default templates folder: $VNFCTL_TEMPLATES, else the installed one, else the source tree's.
std::filesystem::path defaultTemplatesDir();
// $VNFCTL_IMAGE_DIR, else /var/lib/vnfctl/image.
std::filesystem::path defaultImageDir();
// kvm where the host CPU exposes vmx or svm; qemu (TCG) otherwise.
DomainType domainTypeFor(const HostTopology& host);
// A stable uuid for a VNF name (name-based, version 5 layout), so renders are reproducible.
std::string nameUuid(const std::string& name);

// Gives a spec without guest.kernel/disk the vnfctl image, and makes boot paths absolute (as
// libvirt needs). Done before hashing the spec, so the same spec always hashes the same.
void resolveBootFiles(VnfSpec& spec, const RenderOptions& options);

Result<std::vector<RenderedDomain>> renderAll(const HostTopology& host, const Allocations& existing,
                                              const std::vector<VnfSpec>& specs, const RenderOptions& options);

}  // namespace vnf::cli
