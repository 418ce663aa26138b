#include "domain/metadata.h"

#include <fmt/format.h>

#include "domain/write.h"
#include "domain/xml.h"

namespace vnf {
namespace domain {
namespace {

std::string yesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

void writeVnfMetadata(xmlNode* parent, const VnfMetadata& m) {
  xmlNode* vnf = xmlNewChild(parent, nullptr, xml::x(kVnfMetadataElement), nullptr);
  xmlNs* ns = xmlNewNs(vnf, xml::x(kVnfMetadataNs), xml::x(kVnfMetadataPrefix));
  xmlSetNs(vnf, ns);
  auto add = [&](xmlNode* p, const char* tag) { return xmlNewTextChild(p, ns, xml::x(tag), nullptr); };
  xmlNode* spec = add(vnf, "spec");
  xml::set(spec, "hash", m.spec_hash);
  if (m.recipe > 1) xml::set(spec, "recipe", std::to_string(m.recipe));
  for (const auto& [key, value] : m.spec_fields) {
    xmlNode* field = add(spec, "field");
    xml::set(field, "name", key);
    xml::set(field, "value", value);
  }
  xml::set(add(vnf, "tool"), "version", m.tool_version);
  xml::set(add(vnf, "image"), "hash", m.image_hash);
  xmlNode* pl = add(vnf, "placement");
  xml::set(pl, "node", std::to_string(m.node));
  xml::set(pl, "memory-kib", std::to_string(m.memory_kib));
  xml::set(pl, "page-size-kib", std::to_string(m.page_size_kib));
  xml::set(pl, "hugepages", std::to_string(m.hugepages));
  for (std::size_t i = 0; i < m.vcpu_pins.size(); ++i) {
    xmlNode* pin = add(pl, "vcpupin");
    xml::set(pin, "vcpu", std::to_string(i));
    xml::set(pin, "cpu", std::to_string(m.vcpu_pins[i]));
  }
  if (!m.shared_cpus.empty()) xml::set(add(pl, "shared"), "cpus", formatCpuList(m.shared_cpus));
  if (!m.emulator_cpus.empty()) xml::set(add(pl, "emulatorpin"), "cpus", formatCpuList(m.emulator_cpus));
  for (const auto& vf : m.vfs) {
    xmlNode* e = add(vnf, "vf");
    xml::set(e, "nic", std::to_string(vf.nic_index));
    xml::set(e, "pf", vf.pf.str());
    xml::set(e, "address", vf.vf.str());
    xml::set(e, "index", std::to_string(vf.vf_index));
    if (!vf.driver.empty()) xml::set(e, "driver", vf.driver);
    if (vf.vlan) xml::set(e, "vlan", std::to_string(*vf.vlan));
    if (vf.trust) xml::set(e, "trust", yesNo(*vf.trust));
    if (vf.spoofchk) xml::set(e, "spoofchk", yesNo(*vf.spoofchk));
    if (vf.mtu) xml::set(e, "mtu", std::to_string(*vf.mtu));
  }
}

}  // namespace domain

namespace {

bool isVnfElement(const xmlNode* n) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
         std::string(reinterpret_cast<const char*>(n->ns->href)) == kVnfMetadataNs &&
         xml::name(n) == kVnfMetadataElement;
}

// A child of the <vnf> element: in its namespace, or in none when libvirt stripped it.
bool inVnfNs(const xmlNode* n, std::string_view tag) {
  if (n->type != XML_ELEMENT_NODE || xml::name(n) != tag) return false;
  return !n->ns || (n->ns->href && std::string(reinterpret_cast<const char*>(n->ns->href)) == kVnfMetadataNs);
}

// Reads attributes of vnfctl's element, collecting every problem.
class Fields {
 public:
  std::vector<std::string> problems;

  std::string text(const xmlNode* n, const char* a, bool required = true) {
    std::string v;
    if (!xml::attr(n, a, v) && required) problems.push_back(fmt::format("<{}> has no '{}'", xml::name(n), a));
    return v;
  }
  template <class T>
  std::optional<T> number(const xmlNode* n, const char* a, bool required = true) {
    std::string v;
    if (!xml::attr(n, a, v)) {
      if (required) problems.push_back(fmt::format("<{}> has no '{}'", xml::name(n), a));
      return std::nullopt;
    }
    auto parsed = parseInt(v);
    if (!parsed || *parsed < -1) {
      problems.push_back(fmt::format("<{}> {}='{}' is not a number", xml::name(n), a, v));
      return std::nullopt;
    }
    return static_cast<T>(*parsed);
  }
  std::optional<bool> flag(const xmlNode* n, const char* a) {
    std::string v;
    if (!xml::attr(n, a, v)) return std::nullopt;
    if (v == "yes") return true;
    if (v == "no") return false;
    problems.push_back(fmt::format("<{}> {}='{}' is not yes or no", xml::name(n), a, v));
    return std::nullopt;
  }
  PciAddress pci(const xmlNode* n, const char* a) {
    auto v = text(n, a);
    auto parsed = parsePciAddress(v);
    if (!parsed) {
      if (!v.empty()) problems.push_back(fmt::format("<{}> {}='{}' is not a PCI address", xml::name(n), a, v));
      return {};
    }
    return *parsed;
  }
  std::vector<int> cpus(const xmlNode* n, const char* a) {
    auto v = text(n, a);
    auto parsed = parseCpuList(v);
    if (!parsed) {
      problems.push_back(fmt::format("<{}> {}='{}' is not a CPU list", xml::name(n), a, v));
      return {};
    }
    return *parsed;
  }
};

VnfMetadata readElement(xmlNode* vnf, Fields& f) {
  VnfMetadata m;
  for (xmlNode* c : xml::children(vnf)) {
    if (inVnfNs(c, "spec")) {
      m.spec_hash = f.text(c, "hash");
      m.recipe = f.number<int>(c, "recipe", false).value_or(1);
      for (xmlNode* field : xml::children(c)) {
        if (inVnfNs(field, "field")) m.spec_fields.emplace_back(f.text(field, "name"), f.text(field, "value", false));
      }
    }
    if (inVnfNs(c, "tool")) m.tool_version = f.text(c, "version");
    if (inVnfNs(c, "image")) m.image_hash = f.text(c, "hash");
    if (inVnfNs(c, "placement")) {
      m.node = f.number<int>(c, "node").value_or(-1);
      m.memory_kib = f.number<std::uint64_t>(c, "memory-kib", false).value_or(0);
      m.page_size_kib = f.number<std::uint64_t>(c, "page-size-kib").value_or(0);
      m.hugepages = f.number<std::uint64_t>(c, "hugepages").value_or(0);
      for (xmlNode* p : xml::children(c)) {
        if (inVnfNs(p, "vcpupin")) {
          auto vcpu = f.number<int>(p, "vcpu");
          auto cpu = f.number<int>(p, "cpu");
          if (vcpu && cpu && *vcpu >= 0 && *vcpu < 8192) {
            if (static_cast<int>(m.vcpu_pins.size()) <= *vcpu) m.vcpu_pins.resize(*vcpu + 1, -1);
            m.vcpu_pins[*vcpu] = *cpu;
          }
        }
        if (inVnfNs(p, "shared")) m.shared_cpus = f.cpus(p, "cpus");
        if (inVnfNs(p, "emulatorpin")) m.emulator_cpus = f.cpus(p, "cpus");
      }
      for (std::size_t i = 0; i < m.vcpu_pins.size(); ++i) {
        if (m.vcpu_pins[i] < 0) f.problems.push_back(fmt::format("vCPU {} has no <vcpupin>", i));
      }
    }
    if (inVnfNs(c, "vf")) {
      VfMetadata vf;
      vf.nic_index = f.number<int>(c, "nic").value_or(0);
      vf.pf = f.pci(c, "pf");
      vf.vf = f.pci(c, "address");
      vf.vf_index = f.number<int>(c, "index").value_or(-1);
      vf.driver = f.text(c, "driver", false);
      vf.vlan = f.number<int>(c, "vlan", false);
      vf.trust = f.flag(c, "trust");
      vf.spoofchk = f.flag(c, "spoofchk");
      vf.mtu = f.number<int>(c, "mtu", false);
      m.vfs.push_back(std::move(vf));
    }
  }
  return m;
}

}  // namespace

Result<std::optional<VnfMetadata>> readVnfMetadata(const std::string& text) {
  auto doc = xml::parse(text, "the domain XML");
  if (!doc) return std::unexpected(doc.error());
  xmlNode* root = xmlDocGetRootElement(doc->get());
  xmlNode* vnf = nullptr;
  // virDomainGetMetadata returns the element stripped of its namespace: asked for by URI, it is ours.
  if (isVnfElement(root) || (xml::isElement(root, kVnfMetadataElement) && !root->ns)) {
    vnf = root;
  } else if (xml::isElement(root, "domain")) {
    for (xmlNode* c : xml::children(xml::child(root, "metadata"))) {
      if (isVnfElement(c)) vnf = c;
    }
    if (!vnf) return std::optional<VnfMetadata>{};
  } else {
    return fail(Errc::kBadContent, fmt::format("expected a <domain> or a <vnf xmlns='{}'> element, found <{}>",
                                               kVnfMetadataNs, xml::name(root)));
  }
  Fields f;
  VnfMetadata m = readElement(vnf, f);
  if (!f.problems.empty()) {
    std::string msg = fmt::format("vnfctl's metadata ({}) is malformed:", kVnfMetadataNs);
    for (const auto& p : f.problems) msg += "\n  " + p;
    return fail(Errc::kBadContent, std::move(msg),
                "the domain was edited by hand or written by another tool; redefine it with vnfctl");
  }
  return std::optional<VnfMetadata>{std::move(m)};
}

}  // namespace vnf
