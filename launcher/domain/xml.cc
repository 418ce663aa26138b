#include "domain/xml.h"

#include <new>

#include <fmt/format.h>

namespace vnf::xml {
namespace {

struct ParserCtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Result<DocHandle> parse(const std::string& text, const std::string& what) {
  std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt) return fail(Errc::kBadContent, "libxml2 cannot allocate a parser context");
  // NONET: never fetch a DTD or entity from the network; NOERROR/NOWARNING: errors are returned,
  // not printed to stderr.
  const int options = XML_PARSE_NOBLANKS | XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  DocHandle doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), what.c_str(), nullptr,
                                  options));
  if (!doc || !ctxt->wellFormed) {
    const xmlError* err = xmlCtxtGetLastError(ctxt.get());
    std::string detail = err ? fmt::format("line {}: {}", err->line, trimmed(err->message)) : "no document";
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
