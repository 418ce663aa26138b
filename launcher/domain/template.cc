#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "common/file_io.h"
#include "common/text.h"
#include "domain/render.h"
#include "domain/xml.h"

namespace vnf {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> profilesIn(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".xml") out.push_back(it->path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The closest profile within a third of the name's length (at least 2 edits), as ninja's
// "did you mean".
std::string closest(const std::string& name, const std::vector<std::string>& candidates) {
  return closestMatch(name, candidates, std::max<std::size_t>(2, name.size() / 3));
}

std::unexpected<Error> unknownProfile(const std::string& profile, const fs::path& dir) {
  const auto profiles = profilesIn(dir);
  std::string message =
      fmt::format("unknown domain profile '{}': no {} ", profile, (dir / (profile + ".xml")).string());
  message += profiles.empty() ? fmt::format("(no profiles in {})", dir.string())
                              : fmt::format("(profiles: {})", fmt::join(profiles, ", "));
  const std::string guess = closest(profile, profiles);
  if (!guess.empty()) message += fmt::format("; did you mean '{}'?", guess);
  return fail(Errc::kNotFound, std::move(message),
              guess.empty()
                  ? std::string("set profile to one of the profiles listed, or to the path of a template file "
                                "(a name containing '/' or ending in .xml)")
                  : fmt::format("set profile: {}", guess));
}

}  // namespace

Result<Template> parseTemplate(const std::string& text, const std::string& source) {
  auto doc = xml::parse(text, "domain template " + source);
  if (!doc) return std::unexpected(doc.error());
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!xml::isElement(root, "domain") || root->ns) {
    return fail(Errc::kBadContent,
                fmt::format("domain template {}: the root element is <{}> (line {}), expected <domain>", source,
                            xml::name(root), root ? xmlGetLineNo(root) : 0),
                "a template is a complete libvirt domain: <domain type='kvm'>...</domain> "
                "(see domain-templates/default.xml)");
  }
  std::string loader;
  if (xmlNode* os = xml::child(root, "os")) {
    if (xmlNode* l = xml::child(os, "loader")) {
      std::string type = "rom";
      xml::attr(l, "type", type);
      xmlChar* content = xmlNodeGetContent(l);
      loader = content ? reinterpret_cast<const char*>(content) : "";
      xmlFree(content);
      loader.erase(0, loader.find_first_not_of(" \t\n"));
      loader.erase(loader.find_last_not_of(" \t\n") + 1);
      if (type != "rom" || !loader.starts_with('/')) {
        return fail(Errc::kBadContent,
                    fmt::format("domain template {}: <os><loader type='{}'>{}</loader> (line {}): vnfctl keeps only "
                                "a firmware ROM given by absolute path from a template's <os>",
                                source, type, loader, xmlGetLineNo(l)),
                    "write <loader type='rom'>/usr/share/qemu/qboot.rom</loader> (or another ROM), or remove "
                    "<loader> and set guest.firmware in the spec");
      }
    }
  }
  return Template(std::shared_ptr<xmlDoc>(doc->release(), xml::DocDeleter{}), source, std::move(loader));
}

Result<Template> loadTemplate(const std::string& profile_or_path, const fs::path& templates_dir) {
  fs::path path = profile_or_path;
  if (!profileIsPath(profile_or_path)) {
    path = templates_dir / (profile_or_path + ".xml");
    std::error_code ec;
    if (profile_or_path.empty() || !fs::is_regular_file(path, ec))
      return unknownProfile(profile_or_path, templates_dir);
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return fail(Errc::kNotFound, fmt::format("domain template {} does not exist", path.string()),
                "give the path of an existing template, or a profile name from domain-templates/");
  }
  auto text = readUserFile(path.string(), kMaxTemplateBytes, "domain template");
  if (!text) return std::unexpected(text.error());
  return parseTemplate(*text, path.string());
}

}  // namespace vnf
