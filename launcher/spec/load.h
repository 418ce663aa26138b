// Loading and validating VNF specs. Every problem is collected before failing, each naming the
// file, line and column, the value, the limit and the fix; unknown keys get "did you mean".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "spec/spec.h"

namespace vnf {

// One problem in a spec, located in its source.
struct SpecProblem {
  std::string file;  // "" for command-line flags
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string message;

  std::string str() const;  // "fw.yaml:3:8: vcpus: ..."
};

// A spec file larger than this is refused before it is parsed.
inline constexpr std::uint64_t kMaxSpecFileBytes = 1 << 20;
// At most this many problems are listed; a last line says how many more there are.
inline constexpr std::size_t kMaxProblemsShown = 20;

// All problems as one Error (message: one per line, the first kMaxProblemsShown), or the spec.
// One YAML document; a key given twice at any level is a problem.
Result<VnfSpec> parseSpecYaml(const std::string& text, const std::string& file);
// Reads `path` (a regular file of at most kMaxSpecFileBytes, common/file_io.h) and parses it.
// Relative guest.kernel, guest.initrd, guest.disk and a profile that is a path are resolved from
// the spec file's folder and made absolute.
Result<VnfSpec> loadSpecFile(const std::string& path);
}  // namespace vnf

namespace YAML {
class Node;
}

namespace vnf {
// The same checks on a YAML node built in memory (command-line flags are put into a node, never
// into YAML text, so no value can inject another field). `source` names it in messages.
Result<VnfSpec> parseSpecNode(const YAML::Node& root, const std::string& source);

// Checks a spec built from flags (or after parsing); host-independent rules only.
std::vector<SpecProblem> validateSpec(const VnfSpec& spec);

// The instances a spec asks for: one, or name-1..name-N with count N. With N > 1 the fixed MACs
// (NICs, taps, management) and VF indexes are dropped: N instances cannot share them, and each
// instance gets MACs derived from its name and a VF from the pool.
std::vector<VnfSpec> expandCount(const VnfSpec& spec);

// "did you mean 'vcpus'?" for a close match among `known` (edit distance <= 2), else "".
std::string didYouMean(const std::string& word, const std::vector<std::string>& known);

// Stable hash of everything in the spec that shapes the domain (hex, 16 chars).
std::string specHash(const VnfSpec& spec);

// Name rules: 1..48 characters of [A-Za-z0-9._-], starting with a letter or digit.
inline constexpr std::size_t kMaxNameLength = 48;

}  // namespace vnf
