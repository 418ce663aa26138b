// From a VnfSpec and its Placement to libvirt domain XML. The public face of vnf_domain:
//
//   auto tmpl = loadTemplate(spec.profile, templates_dir);      // the one file read
//   auto xml  = renderDomainXml(*tmpl, input);                   // pure
//   validateDomainXml(*xml);                                     // libvirt's domain.rng
//
// A template is a complete domain (domain-templates/*.xml). The renderer owns the elements listed in
// docs/domain-xml.md and replaces them; everything else in the template (emulator, controllers,
// extra devices, clock, ...) is kept. Rendering never plans and does no host I/O.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "domain/metadata.h"
#include "domain/model.h"
#include "planning/placement.h"
#include "spec/canonical.h"
#include "spec/spec.h"

struct _xmlDoc;

namespace vnf {

inline constexpr const char* kDefaultDomainRng = "/usr/share/libvirt/schemas/domain.rng";

// A parsed template: immutable once loaded, cheap to copy, rendered any number of times.
class Template {
 public:
  const std::string& source() const { return source_; }  // file path, or the name given to parseTemplate
  const _xmlDoc* doc() const { return doc_.get(); }
  // The firmware the template asks for: the path in its <os><loader type='rom'> ("" when it has
  // none). vnfctl writes <os> itself; this is the one part of the template's <os> it carries over
  // (where the spec's guest.firmware is auto).
  const std::string& loader() const { return loader_; }

 private:
  friend Result<Template> parseTemplate(const std::string&, const std::string&);
  Template(std::shared_ptr<_xmlDoc> doc, std::string source, std::string loader)
      : doc_(std::move(doc)), source_(std::move(source)), loader_(std::move(loader)) {}
  std::shared_ptr<_xmlDoc> doc_;
  std::string source_;
  std::string loader_;
};

// `profile_or_path`: a profile name ("default" -> templates_dir/default.xml), or a path when it holds
// a '/' or ends in ".xml". Errors: kNotFound for an unknown profile (the message lists the profiles
// in templates_dir and suggests a close name) or a missing file; kInvalidArgument when the path is
// not a regular file (a FIFO, a device, a folder) or is over kMaxTemplateBytes (common/file_io.h,
// readUserFile); kUnreadable; kBadContent when the file is not well-formed XML (libxml2's message
// and line) or its root is not <domain>, or its <os><loader> is not a ROM given by absolute path
// (vnfctl owns <os>; UEFI pflash loaders need an NVRAM it does not manage).
inline constexpr std::uint64_t kMaxTemplateBytes = 4 << 20;
Result<Template> loadTemplate(const std::string& profile_or_path, const std::filesystem::path& templates_dir);

// The same checks on text already in memory; `source` names it in messages.
Result<Template> parseTemplate(const std::string& xml, const std::string& source);

struct DomainMetadata {
  std::string spec_hash;
  std::string tool_version;
  std::string image_hash;
  int recipe = 1;
  std::vector<SpecField> spec_fields;
};

struct RenderInput {
  const VnfSpec* spec = nullptr;
  const Placement* placement = nullptr;
  DomainType type = DomainType::kQemu;
  std::string uuid;  // 8-4-4-4-12 hex; also seeds the MACs the spec leaves out
  DomainMetadata meta;
  std::string serial_log_path;  // <serial type='file'>; "" gives a pty console
  std::string kernel_cmdline;   // vnfctl's kernel arguments, placed before spec.guest.cmdline
};

// The domain XML (UTF-8, indented). Errors (kInvalidArgument) list every inconsistency between
// spec and placement found (vCPU pins vs vcpus, topology vs vcpus, VF nic indexes, memory vs page
// size, missing boot source, uuid form) in one message, one problem per line.
Result<std::string> renderDomainXml(const Template& tmpl, const RenderInput& input);

// The same, from a model built once: buildDomain, then `cmdline(port MACs)` (the guest manifest,
// which names the data ports by the MACs the model gave them) is put before spec.guest.cmdline,
// then the XML is written. The model and its XML always agree.
struct RenderedDomainXml {
  domain::Domain model;
  std::vector<MacAddress> port_macs;  // data ports in guest order: VF NICs in spec order, then taps
  std::string xml;
};
Result<RenderedDomainXml> renderDomain(const Template& tmpl, const RenderInput& input,
                                       const std::function<std::string(const std::vector<MacAddress>&)>& cmdline);

// SHA-256 (hex) of the template as parsed (comments and formatting included as libxml2 keeps
// them): a changed template changes the recipe hash of every VNF rendered from it.
std::string templateDigest(const Template& tmpl);

// Validates against libvirt's RelaxNG schema. Errors: kBadContent with libxml2's messages
// ("line 12: Element vcpupin failed to validate attributes"), one per line; kNotFound when the
// schema cannot be loaded.
Result<void> validateDomainXml(const std::string& xml, const std::filesystem::path& rng = kDefaultDomainRng);

// The MAC vnfctl gives a NIC the spec leaves without one: 52:54:00 (QEMU's locally administered
// prefix) then 3 bytes of FNV-1a-64 over "<uuid>/<label>", label "vf0", "tap1", "mgmt", ...
// Stable for a uuid, so a redefined domain keeps its MACs.
MacAddress derivedMac(const std::string& uuid, const std::string& label);

}  // namespace vnf
