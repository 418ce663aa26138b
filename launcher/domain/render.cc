#include "domain/render.h"

#include <libxml/relaxng.h>

#include <fmt/format.h>

#include "common/sha256.h"
#include "domain/build.h"
#include "domain/write.h"
#include "domain/xml.h"

namespace vnf {
namespace {

struct SchemaParserDeleter {
  void operator()(xmlRelaxNGParserCtxt* c) const { xmlRelaxNGFreeParserCtxt(c); }
};
struct SchemaDeleter {
  void operator()(xmlRelaxNG* s) const { xmlRelaxNGFree(s); }
};
struct ValidCtxtDeleter {
  void operator()(xmlRelaxNGValidCtxt* c) const { xmlRelaxNGFreeValidCtxt(c); }
};

// libxml2 reports a defect inside an <interleave> (most of domain.rng) as "Extra element X in
// interleave" without a node. Give it the line of the first <X>, so the user knows where to look.
void addMissingLines(xmlDoc* doc, std::vector<std::string>& errors) {
  constexpr std::string_view kPrefix = "Extra element ";
  for (auto& e : errors) {
    if (!e.starts_with(kPrefix)) continue;
    const std::string tag = e.substr(kPrefix.size(), e.find(' ', kPrefix.size()) - kPrefix.size());
    std::vector<xmlNode*> todo = {xmlDocGetRootElement(doc)};
    while (!todo.empty()) {
      xmlNode* n = todo.front();
      todo.erase(todo.begin());
      if (xml::name(n) == tag) {
        e = fmt::format("line {}: {}", xmlGetLineNo(n), e);
        break;
      }
      auto kids = xml::children(n);
      todo.insert(todo.end(), kids.begin(), kids.end());
    }
  }
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

}  // namespace

Result<std::string> renderDomainXml(const Template& tmpl, const RenderInput& input) {
  auto model = domain::buildDomain(input);
  if (!model) return std::unexpected(model.error());
  // The template stays untouched: each render works on its own copy.
  xml::DocHandle doc(xmlCopyDoc(const_cast<xmlDoc*>(tmpl.doc()), 1));
  if (!doc) throw std::bad_alloc();
  domain::writeDomain(doc.get(), *model);
  return xml::dump(doc.get());
}

Result<RenderedDomainXml> renderDomain(const Template& tmpl, const RenderInput& input,
                                       const std::function<std::string(const std::vector<MacAddress>&)>& cmdline) {
  auto model = domain::buildDomain(input);
  if (!model) return std::unexpected(model.error());
  RenderedDomainXml out;
  for (const auto& i : model->devices.hostdev_interfaces) out.port_macs.push_back(i.mac);
  for (const auto& e : model->devices.ethernet_interfaces) out.port_macs.push_back(e.mac);
  if (cmdline && !input.spec->guest.kernel.empty()) {
    const std::string manifest = cmdline(out.port_macs);
    const std::string& extra = input.spec->guest.cmdline;
    model->os.cmdline = manifest.empty() ? extra : extra.empty() ? manifest : manifest + " " + extra;
  }
  xml::DocHandle doc(xmlCopyDoc(const_cast<xmlDoc*>(tmpl.doc()), 1));
  if (!doc) throw std::bad_alloc();
  domain::writeDomain(doc.get(), *model);
  out.xml = xml::dump(doc.get());
  out.model = std::move(*model);
  return out;
}

std::string templateDigest(const Template& tmpl) { return sha256Hex(xml::dump(const_cast<xmlDoc*>(tmpl.doc()))); }

Result<void> validateDomainXml(const std::string& text, const std::filesystem::path& rng) {
  auto doc = xml::parse(text, "the domain XML");
  if (!doc) return std::unexpected(doc.error());

  std::vector<std::string> errors;
  xml::ErrorCollector collector(errors);
  std::unique_ptr<xmlRelaxNGParserCtxt, SchemaParserDeleter> pctxt(xmlRelaxNGNewParserCtxt(rng.c_str()));
  if (!pctxt) throw std::bad_alloc();
  xmlRelaxNGSetParserStructuredErrors(pctxt.get(), xml::ErrorCollector::collect, &errors);
  std::unique_ptr<xmlRelaxNG, SchemaDeleter> schema(xmlRelaxNGParse(pctxt.get()));
  if (!schema) {
    return fail(Errc::kNotFound, fmt::format("cannot load libvirt's domain schema {}:{}", rng.string(), joined(errors)),
                "install libvirt's schemas (Debian: libvirt-daemon ships /usr/share/libvirt/schemas/domain.rng)");
  }
  std::unique_ptr<xmlRelaxNGValidCtxt, ValidCtxtDeleter> vctxt(xmlRelaxNGNewValidCtxt(schema.get()));
  if (!vctxt) throw std::bad_alloc();
  xmlRelaxNGSetValidStructuredErrors(vctxt.get(), xml::ErrorCollector::collect, &errors);
  if (xmlRelaxNGValidateDoc(vctxt.get(), doc->get()) != 0) {
    addMissingLines(doc->get(), errors);
    return fail(Errc::kBadContent,
                fmt::format("the domain XML does not validate against {}:{}", rng.string(), joined(errors)),
                "if the problem is in a template, fix it there; virt-xml-validate FILE domain shows the same errors");
  }
  return {};
}

}  // namespace vnf
