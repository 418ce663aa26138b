#include "domain/write.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "domain/xml.h"

namespace vnf::domain {
namespace {

using xml::add;
using xml::set;

// Top-level elements the renderer replaces whole (see docs/domain-xml.md).
constexpr std::array<std::string_view, 15> kOwnedTopLevel = {
    "name",     "uuid", "memory", "currentMemory", "memoryBacking", "vcpu",     "vcpus",    "cputune",
    "numatune", "cpu",  "os",     "on_poweroff",   "on_reboot",     "on_crash", "maxMemory"};

// Device kinds the renderer replaces; the template's other devices are kept.
constexpr std::array<std::string_view, 5> kOwnedDevices = {"interface", "hostdev", "serial", "console", "memballoon"};

// libvirt's own order for the top-level elements (virDomainDefFormat), so the rendered XML reads
// like `virsh dumpxml`. Elements not listed (e.g. <qemu:commandline>) go last.
constexpr std::array<std::string_view, 33> kTopLevelOrder = {
    "name",           "uuid",    "genid",         "title",           "description", "metadata",
    "maxMemory",      "memory",  "currentMemory", "blkiotune",       "memtune",     "memoryBacking",
    "vcpu",           "vcpus",   "iothreads",     "iothreadids",     "cputune",     "numatune",
    "resource",       "sysinfo", "bootloader",    "bootloader_args", "os",          "idmap",
    "features",       "cpu",     "clock",         "on_poweroff",     "on_reboot",   "on_crash",
    "on_lockfailure", "pm",      "devices"};

std::size_t rank(const xmlNode* n) {
  if (n->ns) return kTopLevelOrder.size() + 1;
  auto it = std::find(kTopLevelOrder.begin(), kTopLevelOrder.end(), xml::name(n));
  return it == kTopLevelOrder.end() ? kTopLevelOrder.size() : static_cast<std::size_t>(it - kTopLevelOrder.begin());
}

std::string hex(unsigned v, int width) { return fmt::format("{:#0{}x}", v, width + 2); }

void setPci(xmlNode* address, const PciAddress& a, bool with_type) {
  if (with_type) set(address, "type", "pci");
  set(address, "domain", hex(a.domain, 4));
  set(address, "bus", hex(a.bus, 2));
  set(address, "slot", hex(a.device, 2));
  set(address, "function", hex(a.function, 1));
}

void removeComments(xmlNode* n) {
  for (xmlNode* c = n->children; c;) {
    xmlNode* next = c->next;
    if (c->type == XML_COMMENT_NODE) {
      xml::unlinkAndFree(c);
    } else if (c->type == XML_ELEMENT_NODE) {
      removeComments(c);
    }
    c = next;
  }
}

xmlNode* ensureChild(xmlNode* parent, const char* tag) {
  xmlNode* c = xml::child(parent, tag);
  return c ? c : add(parent, tag);
}

void writeMetadata(xmlNode* root, const VnfMetadata& m) {
  xmlNode* metadata = ensureChild(root, "metadata");
  for (xmlNode* c : xml::children(metadata)) {
    if (c->ns && c->ns->href && std::string(reinterpret_cast<const char*>(c->ns->href)) == kVnfMetadataNs) {
      xml::unlinkAndFree(c);
    }
  }
  writeVnfMetadata(metadata, m);
}

void writeMemory(xmlNode* root, const Domain& d) {
  set(add(root, "memory", std::to_string(d.memory_kib)), "unit", "KiB");
  set(add(root, "currentMemory", std::to_string(d.current_memory_kib)), "unit", "KiB");
  if (d.memory_backing.page_size_kib > 0) {
    xmlNode* page = add(add(add(root, "memoryBacking"), "hugepages"), "page");
    set(page, "size", std::to_string(d.memory_backing.page_size_kib));
    set(page, "unit", "KiB");
    set(page, "nodeset", d.memory_backing.guest_nodeset);
  }
}

void writeCpus(xmlNode* root, const Domain& d) {
  xmlNode* vcpu = add(root, "vcpu", std::to_string(d.vcpu.count));
  set(vcpu, "placement", "static");
  if (!d.vcpu.cpuset.empty()) set(vcpu, "cpuset", formatCpuList(d.vcpu.cpuset));

  if (!d.cputune.empty()) {
    xmlNode* tune = add(root, "cputune");
    for (const auto& pin : d.cputune.vcpupins) {
      xmlNode* p = add(tune, "vcpupin");
      set(p, "vcpu", std::to_string(pin.vcpu));
      set(p, "cpuset", std::to_string(pin.host_cpu));
    }
    if (!d.cputune.emulator_cpus.empty())
      set(add(tune, "emulatorpin"), "cpuset", formatCpuList(d.cputune.emulator_cpus));
  }

  xmlNode* numatune = add(root, "numatune");
  const std::string node = std::to_string(d.numatune.host_node);
  xmlNode* mem = add(numatune, "memory");
  set(mem, "mode", "strict");
  set(mem, "nodeset", node);
  for (int cell : d.numatune.guest_cells) {
    xmlNode* mn = add(numatune, "memnode");
    set(mn, "cellid", std::to_string(cell));
    set(mn, "mode", "strict");
    set(mn, "nodeset", node);
  }

  xmlNode* cpu = add(root, "cpu");
  if (d.cpu.mode == Cpu::Mode::kHostPassthrough) {
    set(cpu, "mode", "host-passthrough");
    set(cpu, "check", "none");
  } else {
    set(cpu, "mode", "maximum");
  }
  xmlNode* topo = add(cpu, "topology");
  set(topo, "sockets", std::to_string(d.cpu.sockets));
  set(topo, "dies", std::to_string(d.cpu.dies));
  set(topo, "cores", std::to_string(d.cpu.cores));
  set(topo, "threads", std::to_string(d.cpu.threads));
  if (!d.cpu.cells.empty()) {
    xmlNode* numa = add(cpu, "numa");
    for (const auto& cell : d.cpu.cells) {
      xmlNode* c = add(numa, "cell");
      set(c, "id", std::to_string(cell.id));
      set(c, "cpus", formatCpuList(cell.vcpus));
      set(c, "memory", std::to_string(cell.memory_kib));
      set(c, "unit", "KiB");
    }
  }
}

void writeOs(xmlNode* root, const Domain& d) {
  xmlNode* os = add(root, "os");
  xmlNode* type = add(os, "type", "hvm");
  set(type, "arch", d.os.arch);
  set(type, "machine", d.os.machine);
  // domain.rng orders <loader> after <type>, before <kernel>.
  if (!d.os.loader.empty()) {
    xmlNode* loader = add(os, "loader", d.os.loader);
    set(loader, "readonly", "yes");
    set(loader, "type", "rom");
  }
  if (!d.os.kernel.empty()) {
    add(os, "kernel", d.os.kernel);
    if (!d.os.initrd.empty()) add(os, "initrd", d.os.initrd);
    if (!d.os.cmdline.empty()) add(os, "cmdline", d.os.cmdline);
  } else {
    set(add(os, "boot"), "dev", "hd");
  }
  xmlNode* features = ensureChild(root, "features");
  if (d.features.acpi) ensureChild(features, "acpi");
  if (d.features.apic) ensureChild(features, "apic");

  add(root, "on_poweroff", d.lifecycle.on_poweroff);
  add(root, "on_reboot", d.lifecycle.on_reboot);
  add(root, "on_crash", d.lifecycle.on_crash);
}

void writeMac(xmlNode* iface, const MacAddress& mac) { set(add(iface, "mac"), "address", formatMac(mac)); }

void writeDevices(xmlNode* root, const Devices& dev) {
  xmlNode* devices = ensureChild(root, "devices");
  for (auto kind : kOwnedDevices) xml::removeChildren(devices, kind);

  if (dev.disk) {
    xmlNode* disk = add(devices, "disk");
    set(disk, "type", "file");
    set(disk, "device", "disk");
    xmlNode* driver = add(disk, "driver");
    set(driver, "name", "qemu");
    set(driver, "type", dev.disk->format);
    set(add(disk, "source"), "file", dev.disk->path);
    xmlNode* target = add(disk, "target");
    set(target, "dev", "vda");
    set(target, "bus", "virtio");
  }
  for (const auto& h : dev.hostdev_interfaces) {
    xmlNode* iface = add(devices, "interface");
    set(iface, "type", "hostdev");
    set(iface, "managed", h.managed ? "yes" : "no");
    if (h.trust_guest_rx_filters) set(iface, "trustGuestRxFilters", "yes");
    writeMac(iface, h.mac);
    setPci(add(add(iface, "source"), "address"), h.source, true);
    if (h.vlan) set(add(add(iface, "vlan"), "tag"), "id", std::to_string(*h.vlan));
  }
  for (const auto& h : dev.hostdevs) {
    xmlNode* hd = add(devices, "hostdev");
    set(hd, "mode", "subsystem");
    set(hd, "type", "pci");
    set(hd, "managed", h.managed ? "yes" : "no");
    setPci(add(add(hd, "source"), "address"), h.source, false);
  }
  for (const auto& e : dev.ethernet_interfaces) {
    xmlNode* iface = add(devices, "interface");
    set(iface, "type", "ethernet");
    writeMac(iface, e.mac);
    xmlNode* target = add(iface, "target");
    set(target, "dev", e.tap);
    set(target, "managed", "no");
    set(add(iface, "model"), "type", "virtio");
    if (e.mtu) set(add(iface, "mtu"), "size", std::to_string(*e.mtu));
  }
  if (dev.mgmt) {
    const bool bridge = dev.mgmt->kind == NetworkInterface::Kind::kBridge;
    xmlNode* iface = add(devices, "interface");
    set(iface, "type", bridge ? "bridge" : "network");
    writeMac(iface, dev.mgmt->mac);
    set(add(iface, "source"), bridge ? "bridge" : "network", dev.mgmt->source);
    set(add(iface, "model"), "type", "virtio");
  }

  const bool file = !dev.serial.log_path.empty();
  xmlNode* serial = add(devices, "serial");
  set(serial, "type", file ? "file" : "pty");
  if (file) set(add(serial, "source"), "path", dev.serial.log_path);
  set(add(serial, "target"), "port", "0");
  xmlNode* console = add(devices, "console");
  set(console, "type", file ? "file" : "pty");
  if (file) set(add(console, "source"), "path", dev.serial.log_path);
  xmlNode* ctarget = add(console, "target");
  set(ctarget, "type", "serial");
  set(ctarget, "port", "0");

  if (dev.memballoon_none) set(add(devices, "memballoon"), "model", "none");
}

void sortTopLevel(xmlNode* root) {
  std::vector<xmlNode*> nodes;
  for (xmlNode* c = root->children; c; c = c->next) nodes.push_back(c);
  std::stable_sort(nodes.begin(), nodes.end(), [](const xmlNode* a, const xmlNode* b) {
    const bool ae = a->type == XML_ELEMENT_NODE, be = b->type == XML_ELEMENT_NODE;
    return (ae ? rank(a) : 0) < (be ? rank(b) : 0);
  });
  for (xmlNode* n : nodes) xmlUnlinkNode(n);
  for (xmlNode* n : nodes) xmlAddChild(root, n);
}

}  // namespace

void writeDomain(xmlDoc* doc, const Domain& d) {
  xmlNode* root = xmlDocGetRootElement(doc);
  removeComments(root);
  set(root, "type", d.type == DomainType::kKvm ? "kvm" : "qemu");
  if (xmlHasProp(root, xml::x("id"))) xmlUnsetProp(root, xml::x("id"));
  for (auto tag : kOwnedTopLevel) xml::removeChildren(root, tag);

  add(root, "name", d.name);
  add(root, "uuid", d.uuid);
  writeMetadata(root, d.metadata);
  writeMemory(root, d);
  writeCpus(root, d);
  writeOs(root, d);
  writeDevices(root, d.devices);
  sortTopLevel(root);
}

}  // namespace vnf::domain
