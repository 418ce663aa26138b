#include "prep/prep_spec.h"

#include "common/file_io.h"

#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace vnf::prep {
namespace {

// Collects every problem of a document, each with its position.
class Parser {
 public:
  void problem(const YAML::Node& at, const std::string& message) {
    const auto mark = at.Mark();
    problems_.push_back(fmt::format("{}:{}: {}", mark.line + 1, mark.column + 1, message));
  }
  void problem(const std::string& message) { problems_.push_back(message); }
  const std::vector<std::string>& problems() const { return problems_; }

  void checkKeys(const YAML::Node& map, const std::set<std::string>& known, const std::string& where) {
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (!known.contains(key)) {
        std::string names;
        for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
        problem(kv.first, fmt::format("unknown key '{}' in {} (known: {})", key, where, names));
      }
    }
  }
  std::optional<long long> integer(const YAML::Node& n, const std::string& what, long long min, long long max) {
    long long v = 0;
    try {
      v = n.as<long long>();
    } catch (const YAML::Exception&) {
      problem(n, fmt::format("{} must be an integer, got '{}'", what, n.IsScalar() ? n.Scalar() : "?"));
      return std::nullopt;
    }
    if (v < min || v > max) {
      problem(n, fmt::format("{} is {}, allowed {}..{}", what, v, min, max));
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      problem(n, fmt::format("{} must be true or false, got '{}'", what, n.IsScalar() ? n.Scalar() : "?"));
      return std::nullopt;
    }
  }
  std::optional<std::string> string(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      problem(n, what + " must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

 private:
  std::vector<std::string> problems_;
};

void parseVf(Parser& p, const YAML::Node& n, int num_vfs, PfSpec& pf) {
  if (!n.IsMap()) return p.problem(n, "each entry of vf_settings must be a map with 'index'");
  p.checkKeys(n, {"index", "mac", "vlan", "trust", "spoofchk"}, "a VF entry");
  VfSettings vf;
  if (!n["index"]) {
    p.problem(n, "VF entry without 'index'");
    return;
  }
  auto index = p.integer(n["index"], "VF index", 0, num_vfs > 0 ? num_vfs - 1 : 0);
  if (index) vf.index = static_cast<int>(*index);
  if (n["mac"]) {
    auto text = p.string(n["mac"], "mac");
    if (text) {
      vf.mac = parseMac(*text);
      if (!vf.mac)
        p.problem(n["mac"], fmt::format("mac '{}' is not a MAC address (like 52:54:00:12:34:56)", *text));
      else if ((*vf.mac)[0] & 1)
        p.problem(n["mac"], fmt::format("mac '{}' is a multicast address: clear the low bit of the first byte", *text));
    }
  }
  if (n["vlan"]) {
    if (auto v = p.integer(n["vlan"], "vlan", 0, 4094)) vf.vlan = static_cast<int>(*v);
  }
  if (n["trust"]) vf.trust = p.boolean(n["trust"], "trust");
  if (n["spoofchk"]) vf.spoofchk = p.boolean(n["spoofchk"], "spoofchk");
  pf.vfs.push_back(vf);
}

void parsePf(Parser& p, const YAML::Node& n, PrepareSpec& spec) {
  if (!n.IsMap()) return p.problem(n, "each entry of 'pfs' must be a map with 'pf' and 'vfs'");
  p.checkKeys(n, {"pf", "vfs", "vfio", "vf_settings"}, "a PF entry");
  PfSpec pf;
  if (!n["pf"])
    p.problem(n, "PF entry without 'pf' (a netdev name or PCI address)");
  else if (auto name = p.string(n["pf"], "pf"))
    pf.pf = *name;
  if (!n["vfs"])
    p.problem(n, "PF entry without 'vfs' (the number of VFs to create)");
  else if (auto count = p.integer(n["vfs"], "vfs", 0, 4096))
    pf.num_vfs = static_cast<int>(*count);
  if (n["vfio"]) pf.vfio = p.boolean(n["vfio"], "vfio").value_or(true);
  if (auto list = n["vf_settings"]) {
    if (!list.IsSequence())
      p.problem(list, "vf_settings must be a list");
    else
      for (const auto& vf : list) parseVf(p, vf, pf.num_vfs, pf);
  }
  for (const auto& existing : spec.pfs) {
    if (!pf.pf.empty() && existing.pf == pf.pf) p.problem(n["pf"], fmt::format("PF '{}' is listed twice", pf.pf));
  }
  spec.pfs.push_back(std::move(pf));
}

std::optional<std::uint64_t> pageSize(Parser& p, const YAML::Node& n) {
  auto text = p.string(n, "size");
  if (!text) return std::nullopt;
  auto kib = parseSizeKib(*text);
  if (!kib || (*kib != 2048 && *kib != 1048576)) {
    p.problem(n, fmt::format("hugepage size '{}' is not supported: use 2M or 1G", *text));
    return std::nullopt;
  }
  return kib;
}

void parseHugepages(Parser& p, const YAML::Node& n, PrepareSpec& spec) {
  if (!n.IsMap()) return p.problem(n, "each entry of 'hugepages' must be a map with 'size' and 'count'");
  p.checkKeys(n, {"size", "count", "node", "mount"}, "a hugepages entry");
  HugepageSpec h;
  if (!n["size"])
    p.problem(n, "hugepages entry without 'size' (2M or 1G)");
  else if (auto kib = pageSize(p, n["size"]))
    h.page_size_kib = *kib;
  if (!n["count"])
    p.problem(n, "hugepages entry without 'count'");
  else if (auto c = p.integer(n["count"], "count", 0, 1 << 24))
    h.count = static_cast<std::uint64_t>(*c);
  if (n["node"]) {
    if (auto v = p.integer(n["node"], "node", 0, 1023)) h.node = static_cast<int>(*v);
  }
  if (n["mount"]) {
    auto path = p.string(n["mount"], "mount");
    if (path && (path->empty() || path->front() != '/'))
      p.problem(n["mount"], fmt::format("mount '{}' must be an absolute path", *path));
    else if (path)
      h.mount = *path;
  }
  spec.hugepages.push_back(h);
}

void parseKernel(Parser& p, const YAML::Node& n, PrepareSpec& spec) {
  if (!n.IsMap()) return p.problem(n, "'kernel' must be a map");
  p.checkKeys(n, {"iommu", "isolcpus", "default_hugepagesz", "boot_1g_pages"}, "kernel");
  if (n["iommu"]) spec.kernel.iommu = p.boolean(n["iommu"], "iommu").value_or(true);
  if (n["isolcpus"]) {
    auto text = p.string(n["isolcpus"], "isolcpus");
    if (text && !parseCpuList(*text))
      p.problem(n["isolcpus"], fmt::format("isolcpus '{}' is not a CPU list (like 2-7,10)", *text));
    else if (text)
      spec.kernel.isolcpus = *text;
  }
  if (n["default_hugepagesz"]) {
    if (auto kib = pageSize(p, n["default_hugepagesz"])) spec.kernel.default_hugepage_kib = *kib;
  }
  if (n["boot_1g_pages"]) {
    if (auto c = p.integer(n["boot_1g_pages"], "boot_1g_pages", 0, 1 << 20))
      spec.kernel.boot_1g_pages = static_cast<std::uint64_t>(*c);
  }
}

}  // namespace

Result<PrepareSpec> parsePrepareSpec(const std::string& text) {
  Parser p;
  PrepareSpec spec;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}:{}: not valid YAML: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    if (!root.IsMap())
      return fail(Errc::kInvalidArgument, "a host spec must be a map with 'pfs', 'hugepages' and/or 'kernel'");
    p.checkKeys(root, {"pfs", "hugepages", "kernel"}, "the host spec");
    if (auto pfs = root["pfs"]) {
      if (!pfs.IsSequence())
        p.problem(pfs, "'pfs' must be a list");
      else
        for (const auto& pf : pfs) parsePf(p, pf, spec);
    }
    if (auto hp = root["hugepages"]) {
      if (!hp.IsSequence())
        p.problem(hp, "'hugepages' must be a list");
      else
        for (const auto& h : hp) parseHugepages(p, h, spec);
    }
    if (auto k = root["kernel"]) parseKernel(p, k, spec);
  } catch (const YAML::Exception& e) {
    p.problem(fmt::format("{}:{}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!p.problems().empty()) {
    std::string all;
    for (const auto& s : p.problems()) all += (all.empty() ? "" : "\n  ") + s;
    return fail(Errc::kInvalidArgument, fmt::format("the host spec has {} problem(s):\n  {}", p.problems().size(), all),
                "correct the spec (see docs/prepare.md for the format)");
  }
  return spec;
}

Result<PrepareSpec> loadPrepareSpec(const std::string& path) {
  auto text = readUserFile(path, kMaxHostSpecBytes, "host spec");
  if (!text) return std::unexpected(text.error());
  auto spec = parsePrepareSpec(*text);
  if (!spec) spec.error().message = path + ": " + spec.error().message;
  return spec;
}

std::string emitPrepareSpec(const PrepareSpec& spec) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!spec.pfs.empty()) {
    out << YAML::Key << "pfs" << YAML::Value << YAML::BeginSeq;
    for (const auto& pf : spec.pfs) {
      out << YAML::BeginMap << YAML::Key << "pf" << YAML::Value << pf.pf << YAML::Key << "vfs" << YAML::Value
          << pf.num_vfs << YAML::Key << "vfio" << YAML::Value << pf.vfio;
      if (!pf.vfs.empty()) {
        out << YAML::Key << "vf_settings" << YAML::Value << YAML::BeginSeq;
        for (const auto& vf : pf.vfs) {
          out << YAML::Flow << YAML::BeginMap << YAML::Key << "index" << YAML::Value << vf.index;
          if (vf.mac) out << YAML::Key << "mac" << YAML::Value << formatMac(*vf.mac);
          if (vf.vlan) out << YAML::Key << "vlan" << YAML::Value << *vf.vlan;
          if (vf.trust) out << YAML::Key << "trust" << YAML::Value << *vf.trust;
          if (vf.spoofchk) out << YAML::Key << "spoofchk" << YAML::Value << *vf.spoofchk;
          out << YAML::EndMap;
        }
        out << YAML::EndSeq;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!spec.hugepages.empty()) {
    out << YAML::Key << "hugepages" << YAML::Value << YAML::BeginSeq;
    for (const auto& h : spec.hugepages) {
      out << YAML::BeginMap << YAML::Key << "size" << YAML::Value << pageSizeName(h.page_size_kib) << YAML::Key
          << "count" << YAML::Value << h.count;
      if (h.node >= 0) out << YAML::Key << "node" << YAML::Value << h.node;
      if (!h.mount.empty()) out << YAML::Key << "mount" << YAML::Value << h.mount;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap << YAML::Key << "iommu" << YAML::Value
      << spec.kernel.iommu;
  if (!spec.kernel.isolcpus.empty()) out << YAML::Key << "isolcpus" << YAML::Value << spec.kernel.isolcpus;
  if (spec.kernel.default_hugepage_kib)
    out << YAML::Key << "default_hugepagesz" << YAML::Value << pageSizeName(spec.kernel.default_hugepage_kib);
  if (spec.kernel.boot_1g_pages) out << YAML::Key << "boot_1g_pages" << YAML::Value << spec.kernel.boot_1g_pages;
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vnf::prep
