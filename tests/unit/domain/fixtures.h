// Hand-built specs, placements and XPath probes shared by the domain tests.
#pragma once

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "domain/render.h"

namespace vnf::test {

inline const std::string kUuid = "6f1c2a4e-8a52-4b7e-9d0c-3e5f7a9b1c2d";

inline std::filesystem::path templatesDir() { return VNF_TEMPLATES; }

// A value-initialized T changed by `set` (g++ 12 warns on designated initializers that leave
// members out).
template <class T, class F>
T make(F set) {
  T value{};
  set(value);
  return value;
}

inline TapNicSpec tap(const char* dev, std::optional<MacAddress> mac = std::nullopt,
                      std::optional<int> mtu = std::nullopt) {
  return TapNicSpec{dev, mac, mtu};
}

inline MacAddress mac(const char* text) { return *parseMac(text); }
inline PciAddress pci(const char* text) { return *parsePciAddress(text); }

// 4 dedicated vCPUs on node 0 (CPUs 2-5), emulator on CPU 1, 4 GiB on 1 GiB pages, kernel boot.
inline VnfSpec dedicatedSpec() {
  VnfSpec s;
  s.name = "fw";
  s.vcpus = 4;
  s.memory_mib = 4096;
  s.page_size_kib = 1048576;
  s.guest.kernel = "/var/lib/vnfctl/images/vmlinuz";
  s.guest.initrd = "/var/lib/vnfctl/images/initrd.img";
  s.guest.cmdline = "vnf.mode=mac";
  return s;
}

inline Placement dedicatedPlacement() {
  Placement p;
  p.name = "fw";
  p.node = 0;
  p.vcpu_pins = {2, 3, 4, 5};
  p.emulator_cpus = {1};
  p.memory_kib = 4194304;
  p.page_size_kib = 1048576;
  p.hugepages = 4;
  p.guest_cores = 4;
  p.guest_threads = 1;
  return p;
}

// Adds spec NIC `index` and its VF assignment.
inline void addVf(VnfSpec& s, Placement& p, NicSpec nic, const char* pf, const char* vf, int vf_index,
                  const char* driver) {
  nic.pf = pf;
  s.nics.push_back(nic);
  p.vfs.push_back({.nic_index = static_cast<int>(s.nics.size()) - 1,
                   .pf = pci(pf),
                   .vf = pci(vf),
                   .vf_index = vf_index,
                   .vf_driver = driver,
                   .numa_node = p.node});
}

inline RenderInput inputFor(const VnfSpec& s, const Placement& p, DomainType type = DomainType::kKvm) {
  RenderInput in;
  in.spec = &s;
  in.placement = &p;
  in.type = type;
  in.uuid = kUuid;
  in.meta = {"sha256:5d41402abc4b2a76b9719d911017c592", "0.1.0", "sha256:7d793037a0760186574b0282f2f435e7", 1, {}};
  in.serial_log_path = "/var/log/vnfctl/" + p.name + ".serial.log";
  in.kernel_cmdline = "console=ttyS0";
  return in;
}

inline Template defaultTemplate() {
  auto t = loadTemplate("default", templatesDir());
  if (!t) throw std::runtime_error(t.error().str());
  return *t;
}

inline std::string render(const VnfSpec& s, const Placement& p, DomainType type = DomainType::kKvm) {
  auto xml = renderDomainXml(defaultTemplate(), inputFor(s, p, type));
  if (!xml) throw std::runtime_error(xml.error().str());
  return *xml;
}

// Evaluates an XPath 1.0 expression over `xml`; prefix "v" is vnfctl's metadata namespace.
// Node sets give their first node's string value; use count(...) for counts.
inline std::string xpath(const std::string& xml, const std::string& expr) {
  std::unique_ptr<xmlDoc, void (*)(xmlDoc*)> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "t.xml", nullptr, XML_PARSE_NONET), xmlFreeDoc);
  if (!doc) throw std::runtime_error("not XML");
  std::unique_ptr<xmlXPathContext, void (*)(xmlXPathContext*)> ctx(xmlXPathNewContext(doc.get()), xmlXPathFreeContext);
  xmlXPathRegisterNs(ctx.get(), BAD_CAST "v", BAD_CAST kVnfMetadataNs);
  std::unique_ptr<xmlXPathObject, void (*)(xmlXPathObject*)> obj(
      xmlXPathEvalExpression(BAD_CAST expr.c_str(), ctx.get()), xmlXPathFreeObject);
  if (!obj) throw std::runtime_error("bad XPath: " + expr);
  xmlChar* s = xmlXPathCastToString(obj.get());
  std::string out = reinterpret_cast<const char*>(s);
  xmlFree(s);
  return out;
}

inline int xcount(const std::string& xml, const std::string& expr) {
  return std::stoi(xpath(xml, "count(" + expr + ")"));
}

}  // namespace vnf::test
