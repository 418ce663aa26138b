// The render pass: specs + placements -> domain models and their XML, each built once. Also the
// defaults every front end shares (templates folder, guest image folder, domain type, uuids).
#pragma once

#include <filesystem>
#include <functional>
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

inline constexpr const char* kQbootRom = "/usr/share/qemu/qboot.rom";

struct RenderOptions {
  std::filesystem::path templates_dir;      // domain-templates/
  std::optional<DomainType> domain_type;    // nullopt: kvm where the CPU has vmx/svm, else qemu
  std::string log_dir = "/var/log/vnfctl";  // serial logs: <log_dir>/<name>.serial.log
  bool validate = true;                     // check against libvirt's domain.rng
  // The vnfctl guest image (vmlinuz, initrd.img, image.json from guest/image/build-image), used
  // when a spec names neither guest.kernel nor guest.disk.
  std::filesystem::path image_dir = "/var/lib/vnfctl/image";
  // The qboot firmware ROM (QEMU's qemu-system-data ships it): guest.firmware auto picks it for a
  // direct kernel boot when it exists. "" = this host has no qboot.
  std::filesystem::path qboot_rom = kQbootRom;
  // Whether a firmware file exists (a seam for tests; the default asks the filesystem).
  std::function<bool(const std::filesystem::path&)> firmware_exists;
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

// Gives a spec without guest.kernel/disk the vnfctl image (the kernel its image.json names as
// "kernel": vmlinux where the build found a PVH-capable one, else vmlinuz), and makes boot paths
// absolute (as libvirt needs). Done before hashing the spec, so the same spec always hashes the same.
void resolveBootFiles(VnfSpec& spec, const RenderOptions& options);

// When the spec's kernel sits in a vnfctl image (an image.json beside it), checks that the kernel
// and initrd are what the build recorded: per file ("boot_files" in image.json) through their hash
// records (common/hash_cache.h), so an unchanged 64 MiB kernel is not read on every launch; images
// without "boot_files" are hashed whole ("sha256"). Nothing to check for a user's own kernel.
// Errors (kInvalidArgument): image.json is not valid JSON, or a file differs from the record.
Result<void> verifyImageHash(const VnfSpec& spec);

// Makes guest.firmware "bios" or the absolute path of a ROM: auto ("") takes the template's
// <loader>, else qboot for a direct kernel boot where options.qboot_rom exists, else bios;
// "qboot" is options.qboot_rom. Errors (kInvalidArgument): "qboot" on a host without it, a ROM
// path that is missing or not a regular file (refused before any read), or over 16 MiB.
Result<void> resolveFirmware(VnfSpec& spec, const Template& tmpl, const RenderOptions& options);
inline constexpr std::uint64_t kMaxFirmwareBytes = 16 << 20;

// What one VNF is rendered from, decided before planning: its template and its recipe.
struct Prepared {
  VnfSpec spec;  // boot files resolved
  Template tmpl;
  DomainType type = DomainType::kQemu;
  std::string serial_log;
  std::string image_hash;  // the guest image's recorded hash ("" if none)
  Recipe recipe;
  std::vector<std::string> notes;  // what launch must tell the user (guest.fast_boot weakening hardening)
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
