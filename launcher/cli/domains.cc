#include "cli/domains.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "domain/manifest.h"
#include "spec/load.h"

#ifndef VNFCTL_VERSION
#define VNFCTL_VERSION "0.0.0"
#endif
#ifndef VNFCTL_SOURCE_TEMPLATES
#define VNFCTL_SOURCE_TEMPLATES ""
#endif

namespace vnf::cli {

std::filesystem::path defaultTemplatesDir() {
  if (const char* env = std::getenv("VNFCTL_TEMPLATES"); env && *env) return env;
  std::error_code ec;
  if (std::filesystem::is_directory("/usr/share/vnfctl/domain-templates", ec)) return "/usr/share/vnfctl/domain-templates";
  return VNFCTL_SOURCE_TEMPLATES;
}

std::filesystem::path defaultImageDir() {
  if (const char* env = std::getenv("VNFCTL_IMAGE_DIR"); env && *env) return env;
  return "/var/lib/vnfctl/image";
}

DomainType domainTypeFor(const HostTopology& host) {
  return host.cpu_flags.vmx || host.cpu_flags.svm ? DomainType::kKvm : DomainType::kQemu;
}

std::string nameUuid(const std::string& name) {
  // Two FNV-1a-64 passes with different offsets give 128 bits; version and variant bits set.
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : "vnfctl:" + name) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return h;
  };
  std::uint64_t hi = fnv(1469598103934665603ull), lo = fnv(0x9e3779b97f4a7c15ull);
  hi = (hi & ~0xf000ull) | 0x5000ull;                         // version 5 layout
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                     lo & 0xffffffffffffull);
}

namespace {

// The content hash of the guest image next to the kernel (image.json from guest/image/build-image).
std::string imageHash(const VnfSpec& spec) {
  if (spec.guest.kernel.empty()) return "";
  auto json = std::filesystem::path(spec.guest.kernel).parent_path() / "image.json";
  std::ifstream f(json);
  if (!f) return "";
  try {
    auto j = nlohmann::json::parse(f);
    return j.value("sha256", "");
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

}  // namespace

void resolveBootFiles(VnfSpec& spec, const RenderOptions& options) {
  if (spec.guest.kernel.empty() && spec.guest.disk.empty()) {
    spec.guest.kernel = (options.image_dir / "vmlinuz").string();
    spec.guest.initrd = (options.image_dir / "initrd.img").string();
  }
  // libvirt wants absolute paths: relative ones are taken from the current folder.
  for (auto* path : {&spec.guest.kernel, &spec.guest.initrd, &spec.guest.disk}) {
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  }
}

Result<std::vector<RenderedDomain>> renderAll(const HostTopology& host, const Allocations& existing,
                                              const std::vector<VnfSpec>& specs, const RenderOptions& options) {
  auto plan = planAll(host, existing, specs);
  if (!plan) return std::unexpected(plan.error());
  std::vector<RenderedDomain> out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    VnfSpec spec = specs[i];
    resolveBootFiles(spec, options);
    auto tmpl = loadTemplate(spec.profile, options.templates_dir);
    if (!tmpl) return std::unexpected(tmpl.error());
    RenderedDomain d;
    d.name = spec.name;
    d.uuid = nameUuid(spec.name);
    d.placement = (*plan)[i];
    d.type = options.domain_type.value_or(domainTypeFor(host));
    RenderInput input{&spec, &d.placement, d.type, d.uuid,
                      DomainMetadata{specHash(spec), VNFCTL_VERSION, imageHash(spec)},
                      (std::filesystem::absolute(options.log_dir) / (spec.name + ".serial.log")).lexically_normal().string(), ""};
    if (!spec.guest.kernel.empty()) {
      auto ports = dataPortMacs(input);
      if (!ports) return std::unexpected(ports.error());
      input.kernel_cmdline = manifestCmdline(spec, d.placement, host, *ports);
    }
    auto xml = renderDomainXml(*tmpl, input);
    if (!xml) return std::unexpected(xml.error());
    if (options.validate) {
      if (auto ok = validateDomainXml(*xml); !ok) {
        return fail(Errc::kBadContent,
                    fmt::format("the XML rendered for {} from template {} does not validate against libvirt's "
                                "schema:\n  {}",
                                spec.name, tmpl->source(), ok.error().message),
                    "the template is the likely cause: check it with virt-xml-validate FILE domain");
      }
    }
    d.xml = std::move(*xml);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace vnf::cli
