// Internal to vnf_domain: libxml2 handles and the few node operations the writer and reader need.
// Text and attribute values go through xmlNewTextChild/xmlSetProp, which escape them.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vnf::xml {

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocHandle = std::unique_ptr<xmlDoc, DocDeleter>;

// Routes libxml2's errors on this thread into `messages` ("line N: text", each once) while in
// scope, instead of stderr; restores the previous handler on exit. libxml2 keeps the handler per
// thread, so parses on other threads are unaffected.
class ErrorCollector {
 public:
  explicit ErrorCollector(std::vector<std::string>& messages);
  ~ErrorCollector();
  ErrorCollector(const ErrorCollector&) = delete;
  ErrorCollector& operator=(const ErrorCollector&) = delete;
  static void collect(void* messages, xmlErrorPtr err);

 private:
  xmlStructuredErrorFunc saved_func_;
  void* saved_ctx_;
  xmlGenericErrorFunc saved_generic_;
  void* saved_generic_ctx_;
};

// Parses `text`; blank text nodes are dropped so the output can be re-indented. Errors
// (kBadContent): "<what> is not well-formed XML: line N: <libxml2's message>".
Result<DocHandle> parse(const std::string& text, const std::string& what);

// The root element as indented UTF-8 text, without an <?xml?> declaration (as virsh dumpxml).
std::string dump(xmlDoc* doc);

inline const xmlChar* x(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
inline const xmlChar* x(const std::string& s) { return x(s.c_str()); }

std::string name(const xmlNode* n);
bool isElement(const xmlNode* n, std::string_view local_name);
std::vector<xmlNode*> children(xmlNode* parent);               // element children
xmlNode* child(xmlNode* parent, std::string_view local_name);  // first element child of that name
// Reads an attribute without namespace into `out`; false when absent.
bool attr(const xmlNode* n, const char* attr_name, std::string& out);

// Appends <tag>text</tag> (text escaped by libxml2) / <tag/>.
xmlNode* add(xmlNode* parent, const char* tag, const std::string& text = {});
void set(xmlNode* n, const char* attr_name, const std::string& value);
void removeChildren(xmlNode* parent, std::string_view local_name);
void unlinkAndFree(xmlNode* n);

}  // namespace vnf::xml
