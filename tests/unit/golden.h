// Golden-file comparison: VNF_UPDATE_GOLDEN=1 rewrites the files instead of comparing.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"

namespace vnf::test {

inline bool updatingGolden() {
  const char* v = std::getenv("VNF_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

// Compares `actual` with the golden file (relative to tests/data/golden), or rewrites it.
inline void expectGolden(const std::string& relative, const std::string& actual) {
  auto path = dataDir() / "golden" / relative;
  if (updatingGolden()) {
    writeFile(path, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run the tests with VNF_UPDATE_GOLDEN=1 "
                                             << "(scripts/test --update-golden) and review the new file";
  EXPECT_EQ(readFile(path), actual)
      << "output differs from " << path
      << "; if the change is intended, regenerate with VNF_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace vnf::test
