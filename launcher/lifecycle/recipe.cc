#include "lifecycle/recipe.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/sha256.h"
#include "spec/load.h"

namespace vnf::lifecycle {

Recipe recipeOf(const VnfSpec& spec, const RecipeInputs& in) {
  Recipe r;
  r.fields = canonicalFields(spec);
  r.fields.emplace_back("render.domain_type", in.domain_type);
  r.fields.emplace_back("render.serial_log", in.serial_log.empty() ? "-" : in.serial_log);
  r.fields.emplace_back("template.sha256", in.template_sha256.empty() ? "-" : in.template_sha256);
  r.fields.emplace_back("image.sha256", in.image_sha256.empty() ? "-" : in.image_sha256);
  Sha256 h;
  h.update(fmt::format("vnfctl recipe {}\n", r.version));
  for (const auto& [key, value] : r.fields)
    h.update(fmt::format("{}:{}={}:{}\n", key.size(), key, value.size(), value));
  r.hash = "sha256:" + h.hexDigest();
  return r;
}

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::kNew: return "new";
    case Verdict::kUnchanged: return "unchanged";
    case Verdict::kChanged: return "changed";
  }
  return "?";
}

namespace {

// What recipe-1 metadata can say about a spec: the numbers the placement recorded.
std::vector<FieldChange> legacyDiff(const VnfMetadata& m, const VnfSpec& spec) {
  std::vector<FieldChange> out;
  auto cmp = [&](const char* field, const std::string& before, const std::string& after) {
    if (before != after) out.push_back({field, before, after});
  };
  if (spec.cpu_policy == CpuPolicy::kDedicated && !m.vcpu_pins.empty()) {
    cmp("vcpus", std::to_string(m.vcpu_pins.size()), std::to_string(spec.vcpus));
  }
  cmp("memory_mib", std::to_string(m.memory_kib / 1024), std::to_string(spec.memory_mib));
  cmp("page_size_kib", std::to_string(m.page_size_kib), std::to_string(spec.page_size_kib));
  cmp("nics", std::to_string(m.vfs.size()), std::to_string(spec.nics.size()));
  if (out.empty()) out.push_back({"spec (recipe 1 hash)", m.spec_hash, specHash(spec)});  // the fields it cannot show
  return out;
}

// Fields recipe 4 added, with the value every older domain was rendered with: a recipe 2 or 3
// domain compares against it (recipe 3's own fields, firmware and fast_boot, are skipped instead:
// their older rendering is not known exactly).
const std::vector<std::pair<std::string, std::string>> kImpliedBeforeRecipe4 = {
    {"guest.forwarder.rx_descriptors", "-"},
    {"guest.forwarder.tx_descriptors", "-"},
};

}  // namespace

Comparison compareWithDefined(const VnfMetadata& defined, const VnfSpec& spec, const Recipe& now) {
  Comparison c;
  if (defined.recipe <= 1) {
    // Recipe 1 saw "mac" where today's spec leaves the forwarder mode empty (its old default).
    VnfSpec as_then = spec;
    if (as_then.guest.forwarder_mode.empty()) as_then.guest.forwarder_mode = "mac";
    if (defined.spec_hash == specHash(as_then)) {
      c.verdict = Verdict::kUnchanged;
    } else {
      c.verdict = Verdict::kChanged;
      c.diff = legacyDiff(defined, spec);
    }
    return c;
  }
  if (defined.recipe == now.version && defined.spec_hash == now.hash) {
    c.verdict = Verdict::kUnchanged;
    return c;
  }
  // Same or older recipe with fields: compare field by field. Fields the older recipe did not
  // know are taken as unchanged (an upgrade alone is no change).
  std::vector<SpecField> known;
  std::vector<FieldChange> implied_changes;
  for (const auto& f : now.fields) {
    bool had = defined.recipe == now.version;
    for (const auto& d : defined.spec_fields) had = had || d.first == f.first;
    if (had) {
      known.push_back(f);
    } else if (auto it = std::find_if(kImpliedBeforeRecipe4.begin(), kImpliedBeforeRecipe4.end(),
                                      [&](const auto& i) { return i.first == f.first; });
               it != kImpliedBeforeRecipe4.end() && it->second != f.second) {
      implied_changes.push_back({f.first, it->second, f.second});
    }
  }
  c.diff = diffFields(defined.spec_fields, known);
  c.diff.insert(c.diff.end(), implied_changes.begin(), implied_changes.end());
  c.verdict = c.diff.empty() ? Verdict::kUnchanged : Verdict::kChanged;
  if (c.verdict == Verdict::kChanged || defined.recipe != now.version) return c;
  // Same recipe, same fields, different hash: the metadata was edited.
  c.verdict = Verdict::kChanged;
  c.diff.push_back({"spec hash", defined.spec_hash, now.hash});
  return c;
}

}  // namespace vnf::lifecycle
