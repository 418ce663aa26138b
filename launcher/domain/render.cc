#include "domain/render.h"

#include <libxml/relaxng.h>

#include <algorithm>

#include <fmt/format.h>

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

// libxml2 reports each problem here instead of printing it to stderr.
void collect(void* user, xmlErrorPtr err) {
  if (!err || !err->message) return;
  std::string text = err->message;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  auto* out = static_cast<std::vector<std::string>*>(user);
  std::string line = err->line > 0 ? fmt::format("line {}: {}", err->line, text) : text;
  if (std::find(out->begin(), out->end(), line) == out->end()) out->push_back(std::move(line));
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

Result<void> validateDomainXml(const std::string& text, const std::filesystem::path& rng) {
  auto doc = xml::parse(text, "the domain XML");
  if (!doc) return std::unexpected(doc.error());

  std::vector<std::string> errors;
  std::unique_ptr<xmlRelaxNGParserCtxt, SchemaParserDeleter> pctxt(xmlRelaxNGNewParserCtxt(rng.c_str()));
  if (!pctxt) throw std::bad_alloc();
  xmlRelaxNGSetParserStructuredErrors(pctxt.get(), collect, &errors);
  std::unique_ptr<xmlRelaxNG, SchemaDeleter> schema(xmlRelaxNGParse(pctxt.get()));
  if (!schema) {
    return fail(Errc::kNotFound, fmt::format("cannot load libvirt's domain schema {}:{}", rng.string(), joined(errors)),
                "install libvirt's schemas (Debian: libvirt-daemon ships /usr/share/libvirt/schemas/domain.rng)");
  }
  std::unique_ptr<xmlRelaxNGValidCtxt, ValidCtxtDeleter> vctxt(xmlRelaxNGNewValidCtxt(schema.get()));
  if (!vctxt) throw std::bad_alloc();
  xmlRelaxNGSetValidStructuredErrors(vctxt.get(), collect, &errors);
  if (xmlRelaxNGValidateDoc(vctxt.get(), doc->get()) != 0) {
    return fail(Errc::kBadContent,
                fmt::format("the domain XML does not validate against {}:{}", rng.string(), joined(errors)),
                "if the problem is in a template, fix it there; virt-xml-validate FILE domain shows the same errors");
  }
  return {};
}

}  // namespace vnf
