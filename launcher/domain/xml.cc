#include "domain/xml.h"

#include <algorithm>
#include <new>

#include <fmt/format.h>

namespace vnf::xml {
namespace {

struct ParserCtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

// For libxml2's unstructured messages ("I/O warning : failed to load external entity"): dropped,
// the structured handler has the same facts.
void ignoreGeneric(void*, const char*, ...) {}

}  // namespace

ErrorCollector::ErrorCollector(std::vector<std::string>& messages)
    : saved_func_(xmlStructuredError),
      saved_ctx_(xmlStructuredErrorContext),
      saved_generic_(xmlGenericError),
      saved_generic_ctx_(xmlGenericErrorContext) {
  xmlSetStructuredErrorFunc(&messages, collect);
  xmlSetGenericErrorFunc(nullptr, ignoreGeneric);
}

ErrorCollector::~ErrorCollector() {
  xmlSetStructuredErrorFunc(saved_ctx_, saved_func_);
  xmlSetGenericErrorFunc(saved_generic_ctx_, saved_generic_);
}

void ErrorCollector::collect(void* messages, xmlErrorPtr err) {
  if (!err || !err->message) return;
  std::string text = err->message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto* out = static_cast<std::vector<std::string>*>(messages);
  // RelaxNG errors carry the node rather than a line.
  long line_no = err->line;
  if (line_no <= 0 && err->node) line_no = xmlGetLineNo(static_cast<const xmlNode*>(err->node));
  std::string line = line_no > 0 ? fmt::format("line {}: {}", line_no, text) : text;
  if (std::find(out->begin(), out->end(), line) == out->end()) out->push_back(std::move(line));
}

Result<DocHandle> parse(const std::string& text, const std::string& what) {
  std::vector<std::string> errors;
  ErrorCollector collector(errors);
  std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt) throw std::bad_alloc();
  // NONET: never fetch a DTD or entity from the network. NOENT is not set: entities stay unexpanded.
  const int options = XML_PARSE_NOBLANKS | XML_PARSE_NONET;
  DocHandle doc(
      xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), what.c_str(), nullptr, options));
  if (!doc || !ctxt->wellFormed) {
    // The first error is the cause; the ones after it are libxml2 giving up ("Premature end").
    std::string detail = errors.empty() ? std::string("no document") : errors.front();
    return fail(Errc::kBadContent, fmt::format("{} is not well-formed XML: {}", what, detail),
                fmt::format("fix the XML at that line (xmllint --noout {} shows it)", what));
  }
  return doc;
}

std::string dump(xmlDoc* doc) {
  xmlNode* root = xmlDocGetRootElement(doc);
  // Dump the root element only: no <?xml?> declaration, like virsh dumpxml.
  xmlBuffer* b = xmlBufferCreate();
  if (!b) throw std::bad_alloc();
  xmlNodeDump(b, doc, root, 0, 1);
  std::string out(reinterpret_cast<const char*>(xmlBufferContent(b)), xmlBufferLength(b));
  xmlBufferFree(b);
  return out + "\n";
}

std::string name(const xmlNode* n) { return n && n->name ? reinterpret_cast<const char*>(n->name) : ""; }

bool isElement(const xmlNode* n, std::string_view local_name) {
  return n && n->type == XML_ELEMENT_NODE && name(n) == local_name;
}

std::vector<xmlNode*> children(xmlNode* parent) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

xmlNode* child(xmlNode* parent, std::string_view local_name) {
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
    if (isElement(c, local_name) && !c->ns) return c;
  }
  return nullptr;
}

bool attr(const xmlNode* n, const char* attr_name, std::string& out) {
  xmlChar* v = xmlGetNoNsProp(n, x(attr_name));
  if (!v) return false;
  out = reinterpret_cast<const char*>(v);
  xmlFree(v);
  return true;
}

xmlNode* add(xmlNode* parent, const char* tag, const std::string& text) {
  // xmlNewTextChild escapes its content (xmlNewChild would take it as markup).
  return xmlNewTextChild(parent, nullptr, x(tag), text.empty() ? nullptr : x(text));
}

void set(xmlNode* n, const char* attr_name, const std::string& value) { xmlSetProp(n, x(attr_name), x(value)); }

void removeChildren(xmlNode* parent, std::string_view local_name) {
  for (xmlNode* c : children(parent)) {
    if (isElement(c, local_name) && !c->ns) unlinkAndFree(c);
  }
}

void unlinkAndFree(xmlNode* n) {
  xmlUnlinkNode(n);
  xmlFreeNode(n);
}

}  // namespace vnf::xml
