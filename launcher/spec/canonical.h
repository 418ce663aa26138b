// The canonical form of a VnfSpec: every field that shapes the domain, as ordered (key, value)
// text pairs. It feeds the spec's recipe hash (lifecycle/recipe.h), the field diff shown when a
// spec changed, and the copy kept in the domain's metadata, so all three always agree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spec/spec.h"

namespace vnf {

using SpecField = std::pair<std::string, std::string>;  // "nics[0].vlan", "100"

// Every field of one instance (after expandCount and resolveBootFiles), in a fixed order. Optional
// fields left out are "-" so that setting one is a change. `source` and `count` are not part of an
// instance's shape and are not listed.
std::vector<SpecField> canonicalFields(const VnfSpec& spec);

// Fields that differ between two canonical lists (by key; a key on one side only counts as a
// change from or to "-"), in the order of `after`, then keys only `before` had.
struct FieldChange {
  std::string field;
  std::string before;
  std::string after;
  bool operator==(const FieldChange&) const = default;
};
std::vector<FieldChange> diffFields(const std::vector<SpecField>& before, const std::vector<SpecField>& after);

}  // namespace vnf
