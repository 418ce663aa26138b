#include "virt/remote_host.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace vnf {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc parse(const std::string& xml) {
  return Doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "libvirt.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

std::string attr(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

std::string text(xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return std::string(trim(out));
}

// Nodes matching an XPath expression under `ctx_node` (or the document).
std::vector<xmlNode*> select(xmlDoc* doc, const char* expr, xmlNode* ctx_node = nullptr) {
  std::vector<xmlNode*> out;
  std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> ctx(xmlXPathNewContext(doc), xmlXPathFreeContext);
  if (!ctx) return out;
  if (ctx_node) ctx->node = ctx_node;
  std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> res(
      xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr), ctx.get()), xmlXPathFreeObject);
  if (!res || !res->nodesetval) return out;
  for (int i = 0; i < res->nodesetval->nodeNr; ++i) out.push_back(res->nodesetval->nodeTab[i]);
  return out;
}

std::optional<PciAddress> addressOf(xmlNode* n) {
  auto h = [&](const char* a) { return parseHex(attr(n, a)); };
  auto d = h("domain"), b = h("bus"), s = h("slot"), f = h("function");
  if (!d || !b || !s || !f || *s > 31 || *f > 7) return std::nullopt;
  return PciAddress{static_cast<std::uint32_t>(*d), static_cast<std::uint8_t>(*b), static_cast<std::uint8_t>(*s),
                    static_cast<std::uint8_t>(*f)};
}

}  // namespace

Result<HostTopology> topologyFromCapabilities(const std::string& xml) {
  auto doc = parse(xml);
  if (!doc) return fail(Errc::kBadContent, "libvirt's capabilities XML is not well-formed");
  HostTopology host;
  host.notes.push_back({"libvirt",
                        "discovered through libvirt's host APIs: isolated CPUs, the kernel command line, "
                        "hugetlbfs mounts and /dev are not visible this way"});
  host.kernel.cmdline_error = "libvirt's host APIs do not expose it; give --host-root a snapshot of that host";
  for (auto* f : select(doc.get(), "/capabilities/host/cpu/feature|/capabilities/host/cpu/features/*")) {
    std::string name = f->name && std::string(reinterpret_cast<const char*>(f->name)) == "feature"
                           ? attr(f, "name")
                           : reinterpret_cast<const char*>(f->name);
    if (name == "vmx") host.cpu_flags.vmx = true;
    if (name == "svm") host.cpu_flags.svm = true;
    if (name == "pdpe1gb") host.cpu_flags.pdpe1gb = true;
  }
  for (auto* v : select(doc.get(), "/capabilities/host/cpu/vendor")) host.cpu_flags.vendor = text(v);
  for (auto* m : select(doc.get(), "/capabilities/host/cpu/model")) host.cpu_flags.model_name = text(m);
  auto cells = select(doc.get(), "/capabilities/host/topology/cells/cell");
  if (cells.empty()) {
    return fail(Errc::kBadContent, "libvirt reports no NUMA topology for this host (no <topology><cells>)",
                "plan against a snapshot of the host instead: vnfctl snapshot DIR there, then --host-root DIR here");
  }
  for (auto* cell : cells) {
    NumaNode node;
    node.id = static_cast<int>(parseInt(attr(cell, "id")).value_or(0));
    for (auto* m : select(doc.get(), "memory", cell)) node.mem_total_kib = parseUnsigned(text(m)).value_or(0);
    for (auto* p : select(doc.get(), "pages", cell)) {
      auto size = parseUnsigned(attr(p, "size")).value_or(0);
      if (size >= 2048) node.hugepages.push_back({size, parseUnsigned(text(p)).value_or(0), 0, 0});
    }
    for (auto* s : select(doc.get(), "distances/sibling", cell)) {
      node.distances.push_back(static_cast<int>(parseInt(attr(s, "value")).value_or(0)));
    }
    for (auto* c : select(doc.get(), "cpus/cpu", cell)) {
      Cpu cpu;
      cpu.id = static_cast<int>(parseInt(attr(c, "id")).value_or(-1));
      if (cpu.id < 0) continue;
      cpu.node = node.id;
      cpu.package = static_cast<int>(parseInt(attr(c, "socket_id")).value_or(-1));
      cpu.die = static_cast<int>(parseInt(attr(c, "die_id")).value_or(-1));
      cpu.core = static_cast<int>(parseInt(attr(c, "core_id")).value_or(-1));
      cpu.siblings = parseCpuList(attr(c, "siblings")).value_or(std::vector<int>{cpu.id});
      node.cpus.push_back(cpu.id);
      host.cpus.push_back(std::move(cpu));
    }
    std::sort(node.cpus.begin(), node.cpus.end());
    std::sort(node.hugepages.begin(), node.hugepages.end(),
              [](const HugePagePool& a, const HugePagePool& b) { return a.page_size_kib < b.page_size_kib; });
    host.nodes.push_back(std::move(node));
  }
  std::sort(host.cpus.begin(), host.cpus.end(), [](const Cpu& a, const Cpu& b) { return a.id < b.id; });
  std::sort(host.nodes.begin(), host.nodes.end(), [](const NumaNode& a, const NumaNode& b) { return a.id < b.id; });
  for (auto* i : select(doc.get(), "/capabilities/host/iommu")) {
    if (attr(i, "support") == "yes") host.platform.iommu_units.push_back("libvirt: iommu support=yes");
  }
  return host;
}

void addNetworkDevices(HostTopology& host, const std::vector<std::string>& pci_xmls,
                       const std::vector<std::string>& net_xmls) {
  std::map<std::string, NetDev> by_parent;  // parent node device name -> netdev
  for (const auto& xml : net_xmls) {
    auto doc = parse(xml);
    if (!doc) continue;
    NetDev nd;
    std::string parent;
    for (auto* p : select(doc.get(), "/device/parent")) parent = text(p);
    for (auto* n : select(doc.get(), "/device/capability[@type='net']/interface")) nd.name = text(n);
    for (auto* a : select(doc.get(), "/device/capability[@type='net']/address")) nd.mac = text(a);
    for (auto* l : select(doc.get(), "/device/capability[@type='net']/link")) {
      nd.operstate = attr(l, "state");
      nd.speed_mbps = parseInt(attr(l, "speed")).value_or(-1);
    }
    if (!parent.empty()) by_parent[parent] = nd;
  }
  for (const auto& xml : pci_xmls) {
    auto doc = parse(xml);
    if (!doc) continue;
    auto cls = select(doc.get(), "/device/capability[@type='pci']/class");
    if (cls.empty() || (parseHex(text(cls.front())).value_or(0) >> 16) != 0x02) continue;
    PciNic nic;
    auto cap = select(doc.get(), "/device/capability[@type='pci']").front();
    auto field = [&](const char* name) {
      auto n = select(doc.get(), name, cap);
      return n.empty() ? std::string() : text(n.front());
    };
    auto d = parseUnsigned(field("domain")), b = parseUnsigned(field("bus")), s = parseUnsigned(field("slot")),
         f = parseUnsigned(field("function"));
    if (!d || !b || !s || !f) continue;
    nic.address = PciAddress{static_cast<std::uint32_t>(*d), static_cast<std::uint8_t>(*b),
                             static_cast<std::uint8_t>(*s), static_cast<std::uint8_t>(*f)};
    nic.pci_class = static_cast<std::uint32_t>(parseHex(text(cls.front())).value_or(0));
    for (auto* v : select(doc.get(), "vendor", cap))
      nic.vendor = static_cast<std::uint16_t>(parseHex(attr(v, "id")).value_or(0));
    for (auto* p : select(doc.get(), "product", cap))
      nic.device = static_cast<std::uint16_t>(parseHex(attr(p, "id")).value_or(0));
    for (auto* n : select(doc.get(), "/device/driver/name")) nic.driver = text(n);
    for (auto* n : select(doc.get(), "numa", cap))
      nic.numa_node = static_cast<int>(parseInt(attr(n, "node")).value_or(-1));
    for (auto* g : select(doc.get(), "iommuGroup", cap)) {
      nic.iommu_group = static_cast<int>(parseInt(attr(g, "number")).value_or(-1));
      for (auto* a : select(doc.get(), "address", g)) {
        if (auto peer = addressOf(a); peer && *peer != nic.address) nic.iommu_group_peers.push_back(*peer);
      }
    }
    for (auto* v : select(doc.get(), "capability[@type='virt_functions']", cap)) {
      SriovInfo sriov;
      sriov.total_vfs = static_cast<int>(parseInt(attr(v, "maxCount")).value_or(0));
      int index = 0;
      for (auto* a : select(doc.get(), "address", v)) {
        if (auto vf = addressOf(a)) sriov.vfs.push_back({index++, *vf});
      }
      sriov.num_vfs = static_cast<int>(sriov.vfs.size());
      if (sriov.total_vfs > 0) nic.sriov = sriov;
    }
    for (auto* p : select(doc.get(), "capability[@type='phys_function']/address", cap)) nic.physfn = addressOf(p);
    std::string name;
    for (auto* n : select(doc.get(), "/device/name")) name = text(n);
    if (auto it = by_parent.find(name); it != by_parent.end()) nic.netdevs.push_back(it->second);
    host.nics.push_back(std::move(nic));
  }
  host.finishNics();
}

Result<HostTopology> discoverViaLibvirt(const Connection& conn) {
  char* caps = virConnectGetCapabilities(conn.get());
  if (!caps) return std::unexpected(lastLibvirtError("read the host capabilities of " + conn.uri()));
  std::string caps_xml = caps;
  free(caps);
  auto host = topologyFromCapabilities(caps_xml);
  if (!host) return host;
  // Free hugepages and memory per cell (the capabilities give totals only).
  for (auto& node : host->nodes) {
    for (auto& pool : node.hugepages) {
      unsigned int size = static_cast<unsigned int>(pool.page_size_kib);
      unsigned long long count = 0;
      if (virNodeGetFreePages(conn.get(), 1, &size, node.id, 1, &count, 0) == 1) pool.free = count;
    }
    unsigned long long free_bytes = 0;
    if (virNodeGetCellsFreeMemory(conn.get(), &free_bytes, node.id, 1) == 1) node.mem_free_kib = free_bytes / 1024;
  }
  auto fetch = [&](unsigned int flag) {
    std::vector<std::string> out;
    virNodeDevicePtr* devs = nullptr;
    int n = virConnectListAllNodeDevices(conn.get(), &devs, flag);
    for (int i = 0; i < n; ++i) {
      if (char* x = virNodeDeviceGetXMLDesc(devs[i], 0)) {
        out.emplace_back(x);
        free(x);
      }
      virNodeDeviceFree(devs[i]);
    }
    free(devs);
    return out;
  };
  addNetworkDevices(*host, fetch(VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV),
                    fetch(VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET));
  return host;
}

}  // namespace vnf
