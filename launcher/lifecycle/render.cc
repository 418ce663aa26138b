#include "lifecycle/render.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/hash_cache.h"
#include "common/sha256.h"
#include "domain/manifest.h"

#ifndef VNFCTL_VERSION
#define VNFCTL_VERSION "0.0.0"
#endif
#ifndef VNFCTL_SOURCE_TEMPLATES
#define VNFCTL_SOURCE_TEMPLATES ""
#endif

namespace vnf::lifecycle {

std::filesystem::path defaultTemplatesDir() {
  if (const char* env = std::getenv("VNFCTL_TEMPLATES"); env && *env) return env;
  std::error_code ec;
  if (std::filesystem::is_directory("/usr/share/vnfctl/domain-templates", ec))
    return "/usr/share/vnfctl/domain-templates";
  return VNFCTL_SOURCE_TEMPLATES;
}

std::filesystem::path defaultImageDir() {
  if (const char* env = std::getenv("VNFCTL_IMAGE_DIR"); env && *env) return env;
  return "/var/lib/vnfctl/image";
}

DomainType domainTypeFor(const HostTopology& host) {
  return host.cpu_flags.vmx || host.cpu_flags.svm ? DomainType::kKvm : DomainType::kQemu;
}

const char* domainTypeName(DomainType t) { return t == DomainType::kKvm ? "kvm" : "qemu"; }

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

// The kernel file image.json names ("kernel": "vmlinux" | "vmlinuz"); vmlinuz when it names none
// (images built before it did) or anything else (a name is not a path: nothing outside the image).
std::string imageKernel(const std::filesystem::path& image_dir) {
  auto text = readUserFile((image_dir / "image.json").string(), 1 << 20, "guest image description");
  if (!text) return "vmlinuz";
  try {
    const auto kernel = nlohmann::json::parse(*text).value("kernel", "vmlinuz");
    return kernel == "vmlinux" ? kernel : "vmlinuz";
  } catch (const nlohmann::json::exception&) {
    return "vmlinuz";  // launch's image check names the broken file
  }
}

}  // namespace

void resolveBootFiles(VnfSpec& spec, const RenderOptions& options) {
  if (spec.guest.kernel.empty() && spec.guest.disk.empty()) {
    spec.guest.kernel = (options.image_dir / imageKernel(options.image_dir)).string();
    spec.guest.initrd = (options.image_dir / "initrd.img").string();
  }
  // libvirt wants absolute paths: relative ones are taken from the current folder.
  for (auto* path : {&spec.guest.kernel, &spec.guest.initrd, &spec.guest.disk}) {
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  }
}

Result<void> verifyImageHash(const VnfSpec& spec) {
  if (spec.guest.kernel.empty()) return {};
  const auto dir = std::filesystem::path(spec.guest.kernel).parent_path();
  const auto json_path = dir / "image.json";
  std::error_code ec;
  if (!std::filesystem::exists(json_path, ec)) return {};  // a user's own kernel: nothing recorded
  auto text = readUserFile(json_path.string(), 1 << 20, "guest image description");
  if (!text) return std::unexpected(text.error());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::kInvalidArgument, fmt::format("{} is not valid JSON", json_path.string()),
                "rebuild the image: cmake --build build --target guest_image");
  }
  auto corrupt = [&](const std::string& what, const std::string& got, const std::string& want) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: guest image {} is corrupt or changed: {} has sha256 {} but its build recorded {}",
                            spec.name, dir.string(), what, got, want),
                "rebuild the image: cmake --build build --target guest_image");
  };
  std::vector<std::string> files{spec.guest.kernel};
  if (!spec.guest.initrd.empty()) files.push_back(spec.guest.initrd);
  const auto boot_files = j.find("boot_files");
  if (boot_files != j.end() && boot_files->is_object()) {
    for (const auto& f : files) {
      const auto name = std::filesystem::path(f).filename().string();
      const auto want = boot_files->value(name, std::string());
      auto got = cachedSha256(f, true);
      if (!got) return std::unexpected(got.error());
      if (got->hex != want) return corrupt(f, got->hex, want.empty() ? "nothing for it" : want);
    }
    return {};
  }
  auto got = sha256OfFiles(files);
  if (!got) return std::unexpected(got.error());
  const auto want = j.value("sha256", "");
  if (*got != want) return corrupt(fmt::format("{} (its boot files)", dir.string()), *got, want);
  return {};
}

Result<void> resolveFirmware(VnfSpec& spec, const Template& tmpl, const RenderOptions& options) {
  auto exists = [&](const std::filesystem::path& p) {
    if (options.firmware_exists) return options.firmware_exists(p);
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
  };
  auto& fw = spec.guest.firmware;
  if (fw.empty()) {
    if (!tmpl.loader().empty())
      fw = tmpl.loader();
    else if (!spec.guest.kernel.empty() && !options.qboot_rom.empty() && exists(options.qboot_rom))
      fw = options.qboot_rom.string();
    else
      fw = "bios";
    if (fw == "bios") return {};
  } else if (fw == "bios") {
    return {};
  } else if (fw == "qboot") {
    if (options.qboot_rom.empty() || !exists(options.qboot_rom)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: guest.firmware: qboot, but this host has no qboot ROM ({})", spec.name,
                              options.qboot_rom.empty() ? std::string("none configured") : options.qboot_rom.string()),
                  "install QEMU's firmware files (apt-get install qemu-system-data), or set guest.firmware: bios");
    }
    fw = options.qboot_rom.string();
  }
  fw = std::filesystem::absolute(fw).lexically_normal().string();
  // The test seam stands for the whole host: a ROM it vouches for is not read here.
  if (options.firmware_exists) {
    if (!options.firmware_exists(fw)) {
      return fail(Errc::kInvalidArgument, fmt::format("{}: guest.firmware: {} does not exist", spec.name, fw),
                  "give the path of a firmware ROM (such as /usr/share/qemu/qboot.rom), or bios");
    }
    return {};
  }
  return checkBootFile(fw, "guest.firmware", kMaxFirmwareBytes);
}

namespace {

// The content hash of the guest image next to the kernel (image.json from guest/image/build-image).
std::string recordedImageHash(const VnfSpec& spec) {
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

std::string serialLogPath(const RenderOptions& o, const std::string& name) {
  return (std::filesystem::absolute(o.log_dir) / (name + ".serial.log")).lexically_normal().string();
}

}  // namespace

Result<std::vector<Prepared>> prepareAll(const HostTopology& host, const std::vector<VnfSpec>& specs,
                                         const RenderOptions& options) {
  std::map<std::string, Template> templates;
  std::map<std::string, std::string> digests;
  std::vector<Prepared> out;
  out.reserve(specs.size());
  for (const auto& s : specs) {
    VnfSpec spec = s;
    resolveBootFiles(spec, options);
    auto it = templates.find(spec.profile);
    if (it == templates.end()) {
      auto tmpl = loadTemplate(spec.profile, options.templates_dir);
      if (!tmpl) return std::unexpected(tmpl.error());
      it = templates.emplace(spec.profile, std::move(*tmpl)).first;
      digests[spec.profile] = templateDigest(it->second);
    }
    if (auto ok = resolveFirmware(spec, it->second, options); !ok) return std::unexpected(ok.error());
    // Boot files are hashed below: a FIFO or /dev/zero there must not hang or eat memory.
    for (const auto& [file, what] :
         {std::pair{spec.guest.kernel, "guest.kernel"}, std::pair{spec.guest.initrd, "guest.initrd"}}) {
      if (file.empty()) continue;
      std::error_code ec;
      // A file that is not there at all is only rendered (vnfctl render); launch refuses it earlier.
      if (!std::filesystem::exists(file, ec) && !std::filesystem::is_symlink(file, ec)) continue;
      if (auto ok = checkBootFile(file, what, kMaxBootFileBytes); !ok) return std::unexpected(ok.error());
    }
    const DomainType type = options.domain_type.value_or(domainTypeFor(host));
    const std::string log = serialLogPath(options, spec.name);
    std::string image = recordedImageHash(spec);
    // A user's own kernel without a recorded hash: its content is its identity.
    std::string identity = image;
    if (identity.empty() && !spec.guest.kernel.empty()) {
      std::vector<std::string> files{spec.guest.kernel};
      if (!spec.guest.initrd.empty()) files.push_back(spec.guest.initrd);
      auto h = sha256OfFiles(files);
      identity = h ? *h : "unreadable";
    }
    Recipe recipe = recipeOf(spec, {domainTypeName(type), log, digests[spec.profile], identity});
    std::vector<std::string> notes;
    if (spec.guest.fast_boot) {
      notes.push_back(
          fmt::format("guest.fast_boot is on: the guest kernel boots with {} (faster, less hardened: "
                      "pages not zeroed at allocation, no crypto self-tests, no CPU vulnerability "
                      "mitigations); remove fast_boot for the hardened defaults",
                      kFastBootKernelArgs));
    }
    out.push_back(
        Prepared{std::move(spec), it->second, type, log, std::move(image), std::move(recipe), std::move(notes)});
  }
  return out;
}

Result<RenderedVnf> renderOne(const HostTopology& host, const Prepared& p, const Placement& placement,
                              const std::string& uuid, bool validate) {
  RenderedVnf d;
  d.name = p.spec.name;
  d.uuid = uuid.empty() ? nameUuid(p.spec.name) : uuid;
  d.placement = placement;
  d.type = p.type;
  d.serial_log = p.serial_log;
  DomainMetadata meta{p.recipe.hash, VNFCTL_VERSION, p.image_hash, p.recipe.version, p.recipe.fields};
  RenderInput input{&p.spec, &d.placement, d.type, d.uuid, std::move(meta), p.serial_log, ""};
  auto rendered = renderDomain(p.tmpl, input, [&](const std::vector<MacAddress>& ports) {
    return manifestCmdline(p.spec, d.placement, host, ports);
  });
  if (!rendered) return std::unexpected(rendered.error());
  if (validate) {
    if (auto ok = validateDomainXml(rendered->xml); !ok) {
      return fail(Errc::kBadContent,
                  fmt::format("the XML rendered for {} from template {} does not validate against libvirt's "
                              "schema:\n  {}",
                              p.spec.name, p.tmpl.source(), ok.error().message),
                  "the template is the likely cause: check it with virt-xml-validate FILE domain");
    }
  }
  d.model = std::move(rendered->model);
  d.xml = std::move(rendered->xml);
  return d;
}

Result<std::vector<RenderedVnf>> renderAll(const HostTopology& host, const Allocations& existing,
                                           const std::vector<VnfSpec>& specs, const RenderOptions& options) {
  auto prepared = prepareAll(host, specs, options);
  if (!prepared) return std::unexpected(prepared.error());
  std::vector<VnfSpec> resolved;
  for (const auto& p : *prepared) resolved.push_back(p.spec);
  auto plan = planAll(host, existing, resolved);
  if (!plan) return std::unexpected(plan.error());
  std::vector<RenderedVnf> out;
  for (std::size_t i = 0; i < prepared->size(); ++i) {
    auto d = renderOne(host, (*prepared)[i], (*plan)[i], "", options.validate);
    if (!d) return std::unexpected(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace vnf::lifecycle
