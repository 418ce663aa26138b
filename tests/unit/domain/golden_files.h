// The files under tests/data/golden/domain/ and domain-templates/, for the schema and libvirt tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/domain/fixtures.h"
#include "tests/unit/test_util.h"

namespace vnf::test {

// *.xml in `dir`, sorted; `invalid` picks the *-invalid.xml ones, else the others.
inline std::vector<std::filesystem::path> xmlFiles(const std::filesystem::path& dir, bool invalid) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (!name.ends_with(".xml")) continue;
    if (name.ends_with("-invalid.xml") == invalid) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::filesystem::path goldenDomainDir() { return dataDir() / "golden" / "domain"; }

// Templates and rendered golden files: all must be accepted by libvirt.
inline std::vector<std::filesystem::path> validDomainFiles() {
  auto out = xmlFiles(templatesDir(), false);
  auto golden = xmlFiles(goldenDomainDir(), false);
  out.insert(out.end(), golden.begin(), golden.end());
  return out;
}

inline std::string testName(const std::filesystem::path& p) {
  std::string n = p.parent_path().filename().string() + "_" + p.stem().string();
  for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

}  // namespace vnf::test
