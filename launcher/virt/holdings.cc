#include "virt/holdings.h"

#include <libvirt/virterror.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "common/text.h"
#include "domain/xml.h"

namespace vnf {
namespace {

// x86's default Hugepagesize, for a bare <hugepages/> (libvirt then uses the host's default size).
constexpr std::uint64_t kDefaultHugepageKib = 2048;

// libvirt's memory units (docs: formatdomain "memory"), as a factor to KiB; 0 when unknown.
// Sizes below 1 KiB round up to whole KiB.
std::uint64_t unitToKib(std::string unit, std::uint64_t value) {
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  if (unit.empty() || unit == "kib" || unit == "k") return value;
  if (unit == "b" || unit == "bytes") return (value + 1023) / 1024;
  if (unit == "kb") return (value * 1000 + 1023) / 1024;
  if (unit == "m" || unit == "mib") return value * 1024;
  if (unit == "mb") return (value * 1000 * 1000 + 1023) / 1024;
  if (unit == "g" || unit == "gib") return value * 1024 * 1024;
  if (unit == "gb") return (value * 1000 * 1000 * 1000 + 1023) / 1024;
  if (unit == "t" || unit == "tib") return value * 1024 * 1024 * 1024;
  return 0;
}

std::string textOf(xmlNode* n) {
  if (!n) return {};
  xmlChar* c = xmlNodeGetContent(n);
  std::string out = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return out;
}

void addCpuset(xmlNode* n, std::set<int>& out) {
  std::string v;
  if (!xml::attr(n, "cpuset", v)) return;
  if (auto cpus = parseCpuList(v)) out.insert(cpus->begin(), cpus->end());
}

// <address domain='0x0000' bus='0x81' slot='0x02' function='0x0'/> (type='pci' or no type).
std::optional<PciAddress> pciAddressOf(xmlNode* address) {
  if (!address) return std::nullopt;
  std::string type, domain, bus, slot, function;
  if (xml::attr(address, "type", type) && type != "pci") return std::nullopt;
  if (!xml::attr(address, "bus", bus) || !xml::attr(address, "slot", slot) ||
      !xml::attr(address, "function", function)) {
    return std::nullopt;
  }
  xml::attr(address, "domain", domain);
  auto d = domain.empty() ? std::optional<std::uint64_t>(0) : parseHex(domain);
  auto b = parseHex(bus), s = parseHex(slot), f = parseHex(function);
  if (!d || !b || !s || !f || *d > 0xffff || *b > 0xff || *s > 31 || *f > 7) return std::nullopt;
  return PciAddress{static_cast<std::uint32_t>(*d), static_cast<std::uint8_t>(*b), static_cast<std::uint8_t>(*s),
                    static_cast<std::uint8_t>(*f)};
}

// CPUs and VFs: the parts that also count from a running domain's next-boot XML.
void readPinsAndDevices(xmlNode* root, DomainHolding& h) {
  if (xmlNode* tune = xml::child(root, "cputune")) {
    for (xmlNode* c : xml::children(tune)) {
      if (xml::isElement(c, "vcpupin") || xml::isElement(c, "emulatorpin")) addCpuset(c, h.cpus);
    }
  }
  for (xmlNode* dev : xml::children(xml::child(root, "devices"))) {
    std::string type;
    xml::attr(dev, "type", type);
    bool pci_hostdev = xml::isElement(dev, "hostdev") && type == "pci";
    if (!pci_hostdev && !xml::isElement(dev, "interface")) continue;
    if (auto a = pciAddressOf(xml::child(xml::child(dev, "source"), "address"))) h.vfs.insert(*a);
  }
}

// Every <interface>'s MAC, labelled for a managed domain as domain/build.cc derives them: a NIC
// whose PCI source is a VF the metadata records is "vf<nic>", the Nth type='ethernet' "tapN", and
// the other (bridge, network) "mgmt".
void readMacs(xmlNode* root, DomainHolding& h) {
  int taps = 0;
  for (xmlNode* dev : xml::children(xml::child(root, "devices"))) {
    if (!xml::isElement(dev, "interface")) continue;
    std::string type, text;
    xml::attr(dev, "type", type);
    if (!xml::attr(xml::child(dev, "mac"), "address", text)) continue;
    auto mac = parseMacText(text);
    if (!mac) continue;
    std::string label;
    if (h.meta) {
      if (auto a = pciAddressOf(xml::child(xml::child(dev, "source"), "address"))) {
        for (const auto& v : h.meta->vfs)
          if (v.vf == *a) label = fmt::format("vf{}", v.nic_index);
      } else if (type == "ethernet") {
        label = fmt::format("tap{}", taps++);
      } else {
        label = "mgmt";
      }
    }
    h.macs.push_back({label, *mac});
  }
}

Result<xml::DocHandle> parseDomain(const std::string& text) {
  auto doc = xml::parse(text, "the domain XML");
  if (!doc) return std::unexpected(doc.error());
  if (!xml::isElement(xmlDocGetRootElement(doc->get()), "domain")) {
    return fail(Errc::kBadContent, "expected a <domain> element from libvirt");
  }
  return doc;
}

Result<std::string> xmlDesc(virDomainPtr d, unsigned int flags) {
  char* text = virDomainGetXMLDesc(d, flags);
  if (!text) return std::unexpected(lastLibvirtError(fmt::format("read the XML of {}", virDomainGetName(d))));
  std::string out = text;
  free(text);
  return out;
}

}  // namespace

Result<DomainHolding> holdingFromXml(const std::string& text, const std::string& uri) {
  auto doc = parseDomain(text);
  if (!doc) return std::unexpected(doc.error());
  xmlNode* root = xmlDocGetRootElement(doc->get());
  DomainHolding h;
  h.name = textOf(xml::child(root, "name"));
  auto meta = readDomainMetadata(text, h.name, uri);
  if (!meta) return std::unexpected(meta.error());
  h.meta = std::move(*meta);
  h.managed = h.meta.has_value();
  readPinsAndDevices(root, h);
  readMacs(root, h);
  if (xmlNode* mem = xml::child(root, "memory")) {
    std::string unit;
    xml::attr(mem, "unit", unit);
    if (auto v = parseUnsigned(textOf(mem))) h.memory_kib = unitToKib(unit, *v);
  }
  if (xmlNode* mem = xml::child(xml::child(root, "numatune"), "memory")) {
    std::string mode = "strict", nodeset;  // libvirt's default mode is strict
    xml::attr(mem, "mode", mode);
    if (mode == "strict" && xml::attr(mem, "nodeset", nodeset)) {
      if (auto nodes = parseCpuList(nodeset); nodes && nodes->size() == 1) h.node = nodes->front();
    }
  }
  if (xmlNode* pages = xml::child(xml::child(root, "memoryBacking"), "hugepages")) {
    h.page_size_kib = kDefaultHugepageKib;
    if (xmlNode* page = xml::child(pages, "page")) {
      std::string size, unit;
      if (xml::attr(page, "size", size)) {
        xml::attr(page, "unit", unit);
        if (auto v = parseUnsigned(size); v && unitToKib(unit, *v) > 0) h.page_size_kib = unitToKib(unit, *v);
      }
    }
    h.hugepages = (h.memory_kib + h.page_size_kib - 1) / h.page_size_kib;
  }
  return h;
}

Result<HoldingsListing> readHoldingsKeepingDamaged(const Connection& conn) {
  auto handles = listAllDomains(conn);
  if (!handles) return std::unexpected(handles.error());
  HoldingsListing out;
  for (auto& d : *handles) {
    int state = 0, reason = 0;
    if (virDomainGetState(d.get(), &state, &reason, 0) != 0) continue;  // vanished meanwhile
    const bool active = virDomainIsActive(d.get()) == 1;
    auto text = xmlDesc(d.get(), active ? 0 : VIR_DOMAIN_XML_INACTIVE);
    if (!text) {
      if (virDomainIsActive(d.get()) < 0) continue;  // vanished meanwhile
      return std::unexpected(text.error());
    }
    auto damaged = [&](Error e) {
      const char* name = virDomainGetName(d.get());
      out.damaged.push_back({name ? name : "?", domainStateFromLibvirt(state), std::move(e)});
    };
    auto h = holdingFromXml(*text, conn.uri());
    if (!h) {
      damaged(h.error());
      continue;
    }
    h->state = domainStateFromLibvirt(state);
    if (active && virDomainIsPersistent(d.get()) == 1) {
      auto next = xmlDesc(d.get(), VIR_DOMAIN_XML_INACTIVE);
      if (next) {
        auto doc = parseDomain(*next);
        if (!doc) {
          damaged(doc.error());
          continue;
        }
        readPinsAndDevices(xmlDocGetRootElement(doc->get()), *h);
      }
    }
    out.holdings.push_back(std::move(*h));
  }
  std::sort(out.holdings.begin(), out.holdings.end(),
            [](const DomainHolding& a, const DomainHolding& b) { return a.name < b.name; });
  std::sort(out.damaged.begin(), out.damaged.end(),
            [](const DamagedDomain& a, const DamagedDomain& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<DomainHolding>> readHoldings(const Connection& conn) {
  auto listing = readHoldingsKeepingDamaged(conn);
  if (!listing) return std::unexpected(listing.error());
  if (!listing->damaged.empty()) return std::unexpected(listing->damaged.front().error);
  return std::move(listing->holdings);
}

void addHolding(Allocations& a, const DomainHolding& h) {
  a.cpus.insert(h.cpus.begin(), h.cpus.end());
  a.vfs.insert(h.vfs.begin(), h.vfs.end());
  if (h.page_size_kib > 0) {
    bool holds_pages = h.state == DomainState::kRunning || h.state == DomainState::kPaused;
    if (!holds_pages && h.hugepages > 0) a.hugepages[{h.node, h.page_size_kib}] += h.hugepages;
  } else if (h.memory_kib > 0) {
    a.memory_kib[h.node] += h.memory_kib;
  }
}

Allocations allocationsOf(const std::vector<DomainHolding>& holdings) {
  Allocations a;
  for (const auto& h : holdings) addHolding(a, h);
  return a;
}

}  // namespace vnf
