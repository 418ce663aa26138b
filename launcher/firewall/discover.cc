#include "firewall/discover.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <memory>

#include <fmt/format.h>

#include "virt/vnf_domains.h"

namespace vnf::fw {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct NetFree {
  void operator()(virNetworkPtr n) const { virNetworkFree(n); }
};
using NetHandle = std::unique_ptr<virNetwork, NetFree>;

std::string prop(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

xmlNode* childNamed(xmlNode* parent, const char* name) {
  for (auto* c = parent->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, reinterpret_cast<const xmlChar*>(name)) == 0) return c;
  }
  return nullptr;
}

// The bridge of a libvirt network; "" when it has none (macvtap, hostdev forward modes).
std::string bridgeOf(virNetworkPtr net) {
  char* name = virNetworkGetBridgeName(net);
  if (!name) return {};
  std::string out = name;
  std::free(name);
  return out;
}

}  // namespace

Result<DomainPorts> portsOfDomainXml(const std::string& xml, const std::string& domain) {
  std::unique_ptr<xmlDoc, DocFree> doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                                                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return fail(Errc::kBadContent, fmt::format("libvirt's XML of domain {} is not well-formed", domain));
  std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> ctx(xmlXPathNewContext(doc.get()),
                                                                       xmlXPathFreeContext);
  if (!ctx) return fail(Errc::kIo, "libxml2 could not make an XPath context (out of memory)");
  std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> res(
      xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>("/domain/devices/interface"), ctx.get()),
      xmlXPathFreeObject);
  DomainPorts out;
  if (!res || !res->nodesetval) return out;
  for (int i = 0; i < res->nodesetval->nodeNr; ++i) {
    xmlNode* iface = res->nodesetval->nodeTab[i];
    const std::string type = prop(iface, "type");
    // A VF given whole (hostdev) has no host-side port to filter.
    if (type != "ethernet" && type != "bridge" && type != "network") continue;
    auto* target = childNamed(iface, "target");
    const std::string dev = target ? prop(target, "dev") : "";
    if (dev.empty()) {
      ++out.unnamed;
    } else {
      out.ports.push_back(dev);
    }
    if (auto* source = childNamed(iface, "source")) {
      if (type == "bridge" && !prop(source, "bridge").empty()) out.bridges.push_back(prop(source, "bridge"));
      if (type == "network" && !prop(source, "network").empty()) out.networks.push_back(prop(source, "network"));
    }
  }
  return out;
}

Result<Discovered> discoverInterfaces(const Connection& conn) {
  Discovered out;
  virNetworkPtr* nets = nullptr;
  const int n = virConnectListAllNetworks(conn.get(), &nets, VIR_CONNECT_LIST_NETWORKS_ACTIVE);
  if (n < 0 && virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
    // libvirtd without its network driver: no libvirt networks, so no dnsmasq to let through.
    out.notes.push_back("libvirt has no network driver here: no libvirt bridges get DHCP/DNS rules");
  } else if (n < 0) {
    return std::unexpected(lastLibvirtError("list libvirt's networks"));
  }
  std::vector<NetHandle> networks;
  for (int i = 0; i < n; ++i) networks.emplace_back(nets[i]);
  std::free(nets);
  for (const auto& net : networks) {
    if (auto b = bridgeOf(net.get()); !b.empty()) out.interfaces.libvirt_bridges.push_back(b);
  }
  auto domains = listVnfDomains(conn);
  if (!domains) return std::unexpected(domains.error());
  for (const auto& d : *domains) {
    const bool running = d.state == DomainState::kRunning || d.state == DomainState::kPaused;
    auto xml = domainXml(conn, d.name, !running);
    if (!xml) return std::unexpected(xml.error());
    auto ports = portsOfDomainXml(*xml, d.name);
    if (!ports) return std::unexpected(ports.error());
    for (auto& p : ports->ports) out.interfaces.vnf_ports.push_back(std::move(p));
    for (auto& b : ports->bridges) out.interfaces.vnf_bridges.push_back(std::move(b));
    for (const auto& netname : ports->networks) {
      NetHandle net(virNetworkLookupByName(conn.get(), netname.c_str()));
      if (!net) {
        out.notes.push_back(fmt::format("VNF {} uses libvirt network {}, which does not exist", d.name, netname));
        continue;
      }
      if (auto b = bridgeOf(net.get()); !b.empty()) out.interfaces.vnf_bridges.push_back(b);
    }
    if (ports->unnamed > 0) {
      out.notes.push_back(fmt::format(
          "VNF {} is {}: libvirt names {} of its ports when it starts; run `vnfctl firewall apply` again after "
          "it starts",
          d.name, domainStateName(d.state), ports->unnamed));
    }
  }
  return out;
}

}  // namespace vnf::fw
