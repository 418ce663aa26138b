// `vnfctl render SPEC...`: the libvirt domain XML for each VNF, to stdout or files. It plans
// against the host (as `plan`), so the XML pins real CPUs and VFs; `virsh define` accepts it.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/domains.h"
#include "cli/load.h"
#include "cli/spec_args.h"
#include "common/file_io.h"

namespace vnf::cli {
namespace {

struct RenderArgs {
  SpecArgs spec;
  std::string out;
  std::string templates;
  std::string domain_type;
  std::string log_dir = "/var/log/vnfctl";
  std::string image_dir;
  bool no_validate = false;
};

// Refuses an output path that is one of the spec files given: rendering would destroy the input.
Result<void> checkNotASpec(const std::filesystem::path& out, const std::vector<std::string>& spec_files) {
  for (const auto& file : spec_files) {
    std::error_code ec;
    if (std::filesystem::equivalent(out, file, ec)) {
      return fail(
          Errc::kInvalidArgument,
          fmt::format("-o {} is the VNF spec {} given on the command line; writing the XML there would "
                      "destroy the spec",
                      out.string(), file),
          fmt::format("give another output file, e.g. -o {}", (std::filesystem::path(file).parent_path() /
                                                               (std::filesystem::path(file).stem().string() + ".xml"))
                                                                  .string()));
    }
  }
  return {};
}

}  // namespace

void addRenderCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd =
      app.add_subcommand("render", "Plan and write the libvirt domain XML of VNFs (changes nothing on the host)");
  auto a = std::make_shared<RenderArgs>();
  addSpecOptions(cmd, a->spec);
  cmd->add_option("-o,--output", a->out,
                  "File to write (one VNF) or folder for NAME.xml files (several); default stdout");
  cmd->add_option("--templates", a->templates,
                  "Folder of domain templates (default: $VNFCTL_TEMPLATES or the installed ones)");
  cmd->add_option("--domain-type", a->domain_type, "kvm or qemu (default: kvm where the CPU has vmx/svm, else qemu)")
      ->check(CLI::IsMember({"kvm", "qemu"}));
  cmd->add_option("--log-dir", a->log_dir, "Folder for the guests' serial logs");
  cmd->add_option(
      "--image-dir", a->image_dir,
      "Guest image for specs without guest.kernel/disk (default: $VNFCTL_IMAGE_DIR or /var/lib/vnfctl/image)");
  cmd->add_flag("--no-validate", a->no_validate, "Skip the check against libvirt's domain.rng");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      auto specs = gatherSpecs(a->spec);
      if (!specs) {
        printError(specs.error());
        return exitCodeFor(specs.error());
      }
      auto host = loadHostFor(global);
      if (!host) {
        printError(host.error());
        return exitCodeFor(host.error());
      }
      RenderOptions options;
      options.templates_dir = a->templates.empty() ? defaultTemplatesDir() : std::filesystem::path(a->templates);
      if (!a->domain_type.empty()) options.domain_type = a->domain_type == "kvm" ? DomainType::kKvm : DomainType::kQemu;
      options.log_dir = a->log_dir;
      options.image_dir = a->image_dir.empty() ? defaultImageDir() : std::filesystem::path(a->image_dir);
      options.validate = !a->no_validate;
      auto domains = renderAll(*host, existingAllocations(global), *specs, options);
      if (!domains) {
        printError(domains.error());
        return exitCodeFor(domains.error());
      }
      if (a->out.empty()) {
        if (domains->size() > 1) {
          printError(Error{Errc::kInvalidArgument,
                           fmt::format("{} VNFs cannot go to stdout as one XML document", domains->size()),
                           "give -o FOLDER to write one NAME.xml per VNF"});
          return kExitUsage;
        }
        return printOutput(domains->front().xml);
      }
      std::filesystem::path out = a->out;
      bool folder = domains->size() > 1 || std::filesystem::is_directory(out);
      if (folder && !std::filesystem::is_directory(out)) {
        printError(Error{Errc::kInvalidArgument, fmt::format("{} is not a folder", out.string()),
                         fmt::format("create it first: mkdir -p {}", out.string())});
        return kExitUsage;
      }
      // Check every target before writing any, so a refusal changes nothing.
      for (const auto& d : *domains) {
        auto path = folder ? out / (d.name + ".xml") : out;
        auto ok = checkNotASpec(path, a->spec.files);
        if (ok) ok = checkWriteTarget(path.string());
        if (!ok) {
          printError(ok.error());
          return kExitUsage;
        }
      }
      for (const auto& d : *domains) {
        auto path = folder ? out / (d.name + ".xml") : out;
        if (auto ok = writeFileSafely(path.string(), d.xml, 0644); !ok) {
          printError(ok.error());
          return ok.error().code == Errc::kInvalidArgument ? kExitUsage : kExitEnv;
        }
        std::fprintf(stderr, "%s: node %d, domain type %s -> %s\n", d.name.c_str(), d.placement.node,
                     d.type == DomainType::kKvm ? "kvm" : "qemu (TCG: no vmx/svm on this CPU)", path.c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace vnf::cli
