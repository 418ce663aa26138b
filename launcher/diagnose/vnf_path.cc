#include "diagnose/vnf_path.h"

#include <fmt/format.h>

#include "domain/xml.h"
#include "host/parse.h"

namespace vnf::diagnose {

Result<VnfPath> parseVnfPath(const DomainRecord& d) {
  VnfPath p;
  p.name = d.name;
  p.state = d.state;
  auto meta = readVnfMetadata(d.xml);
  if (!meta) {
    return fail(Errc::kBadContent, fmt::format("domain {}: {}", d.name, meta.error().message), meta.error().fix);
  }
  if (!*meta) {
    return fail(Errc::kBadContent, fmt::format("domain {} has no vnfctl metadata: vnfctl does not manage it", d.name));
  }
  p.meta = std::move(**meta);
  auto doc = xml::parse(d.xml, "domain " + d.name);
  if (!doc) return std::unexpected(doc.error());
  xmlNode* root = xmlDocGetRootElement(doc->get());
  xmlNode* devices = root ? xml::child(root, "devices") : nullptr;
  if (!devices) return p;
  for (xmlNode* n : xml::children(devices)) {
    if (xml::isElement(n, "interface")) {
      std::string type;
      xml::attr(n, "type", type);
      if (type == "hostdev") continue;  // a VF: its path is the metadata's
      TapPort t;
      if (xmlNode* target = xml::child(n, "target")) xml::attr(target, "dev", t.dev);
      if (xmlNode* mtu = xml::child(n, "mtu")) {
        std::string v;
        if (xml::attr(mtu, "size", v)) {
          if (auto m = parseInt(v); m && *m > 0 && *m <= 65535) t.mtu = static_cast<int>(*m);
        }
      }
      if (!t.dev.empty()) p.taps.push_back(std::move(t));
    } else if (xml::isElement(n, "serial") && p.serial_log.empty()) {
      std::string type;
      xml::attr(n, "type", type);
      if (type != "file") continue;
      if (xmlNode* src = xml::child(n, "source")) xml::attr(src, "path", p.serial_log);
    }
  }
  return p;
}

}  // namespace vnf::diagnose
