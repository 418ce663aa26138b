// The recipe hash: how vnfctl decides whether a defined VNF already is what a spec asks for.
//
// Recipe 4 (this version): recipe 3 with guest.forwarder.rx_descriptors and tx_descriptors ("-"
// when the spec leaves them to vnf-fwd). A recipe 2 or 3 domain was rendered without them, which is
// what "-" renders: it compares as "-", so an upgrade alone is no change but setting them is one.
//
// Recipe 3: recipe 2 with the fields guest.firmware (bios or the ROM's path, as
// resolved: lifecycle/render.h resolveFirmware) and guest.fast_boot. A recipe-2 domain is compared
// field by field without them, so upgrading alone changes nothing.
//
// Recipe 2: SHA-256 (libcrypto) over "vnfctl recipe 2\n" and, for every field, its
// key and value length-prefixed ("<len>:<key>=<len>:<value>\n"). The fields are the spec's
// canonical fields (spec/canonical.h) and four that are not in the spec but shape the domain:
// render.domain_type, render.serial_log, template.sha256 (the profile's template as parsed) and
// image.sha256 (the guest image's recorded hash, or the boot files' own). The fields are stored in
// the domain's metadata next to the hash, so a later recipe can still compare field by field.
//
// Recipe 1 (vnfctl 0.1.0): FNV-1a-64 over a '|'-joined subset of the spec, 16 hex digits, no
// fields stored. Such a domain is compared with recipe 1 (spec/load.h specHash), so upgrading
// vnfctl does not make every running VNF look changed.
#pragma once

#include <string>
#include <vector>

#include "domain/metadata.h"
#include "spec/canonical.h"
#include "spec/spec.h"

namespace vnf::lifecycle {

inline constexpr int kRecipeVersion = 4;

struct RecipeInputs {
  std::string domain_type;      // "kvm" or "qemu"
  std::string serial_log;       // the <serial type='file'> path
  std::string template_sha256;  // domain/render.h templateDigest
  std::string image_sha256;     // "" when the guest boots a disk image (then the disk path is the identity)
};

struct Recipe {
  int version = kRecipeVersion;
  std::vector<SpecField> fields;
  std::string hash;  // "sha256:HEX"
};

Recipe recipeOf(const VnfSpec& spec, const RecipeInputs& inputs);

enum class Verdict { kNew, kUnchanged, kChanged };
const char* verdictName(Verdict v);

struct Comparison {
  Verdict verdict = Verdict::kNew;
  std::vector<FieldChange> diff;  // kChanged: what differs, field by field
};

// Compares a defined VNF's metadata with the recipe of its spec now. Recipe 1 metadata is
// compared with recipe 1 (the hash), and a changed one gets the differences its metadata can show.
Comparison compareWithDefined(const VnfMetadata& defined, const VnfSpec& spec, const Recipe& now);

}  // namespace vnf::lifecycle
